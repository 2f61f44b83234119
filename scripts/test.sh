#!/usr/bin/env bash
# Run the test suite: install what the tests need, build the control plane first (timed,
# cached), then pytest; then the unit tests again under a second Python when one is given.
# Arguments are passed to pytest, e.g. `make test PYTEST_ARGS="-k watch"`.
#
# SECOND_PYTHON: the python of a second virtual environment (make test sets it when it
# finds Python 3.13). It runs tests/unit, on full runs only: the integration tests take most
# of the time, and running them twice would double it.
set -euo pipefail

# Install a Debian package unless its command is already there; stop, naming the failed
# step, if any step fails. Each step is tested on its own: in `a && b` a failing `a` does
# not stop a `set -e` script, which is how a failed `apt-get update` used to go unnoticed.
require() {
    local command=$1 package=$2 purpose=$3
    if command -v "$command" >/dev/null; then
        return 0
    fi
    echo "installing $package ($purpose)"
    if ! apt-get update -qq; then
        echo "error: 'apt-get update' failed while installing $package; see its messages above" >&2
        exit 1
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null; then
        echo "error: 'apt-get install $package' failed; see its messages above" >&2
        exit 1
    fi
    if ! command -v "$command" >/dev/null; then
        echo "error: $package is installed but '$command' is not on PATH" >&2
        exit 1
    fi
}

# pytest's "no tests collected" (5) is never a pass. The whole suite being empty is a
# broken suite (1); an explicit selection matching nothing is a mistyped selection (2).
run_pytest() {
    local status=0
    pytest "$@" || status=$?
    if [[ $status -eq 5 ]]; then
        if [[ $# -eq 0 ]]; then
            echo "error: pytest collected no tests at all; the suite is broken" >&2
            return 1
        fi
        echo "error: no test matched the selection: $*" >&2
        return 2
    fi
    return $status
}

main() {
    cd "$(dirname "${BASH_SOURCE[0]}")/.."
    require docker-registry docker-registry "a real OCI registry for the image tests"
    # Daemonless: vfs storage, chroot isolation.
    require buildah buildah "a real image builder for the image build tests"
    require prometheus prometheus "a real Prometheus scraping the controller's metrics"
    require chromium chromium "a real browser for the dashboard tests (Playwright drives it)"
    # sshd lives in /usr/sbin, which an ordinary user's PATH may lack.
    PATH="$PATH:/usr/sbin" require sshd openssh-server "a real SSH server for git over SSH"

    local start
    start=$(date +%s)
    hakobu cluster build
    echo "control-plane binaries ready in $(($(date +%s) - start))s"
    start=$(date +%s)
    hakobu chart build
    echo "helm (for chart apps) ready in $(($(date +%s) - start))s"

    run_pytest "$@"
    if [[ -n "${SECOND_PYTHON:-}" && $# -eq 0 ]]; then
        start=$(date +%s)
        echo "unit tests again, under $("$SECOND_PYTHON" --version)"
        "$SECOND_PYTHON" -m pytest -q tests/unit
        echo "unit tests under $("$SECOND_PYTHON" --version) took $(($(date +%s) - start))s"
    fi
}

# Sourced (by the tests of this script), it only defines its functions.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
