#!/usr/bin/env bash
# Run the test suite: build the control plane first (timed, cached), then pytest.
# Arguments are passed to pytest, e.g. `make test PYTEST_ARGS="-k watch"`.
set -euo pipefail
cd "$(dirname "$0")/.."

# A real OCI registry for the image tests (Debian's docker-registry).
if ! command -v docker-registry >/dev/null; then
    echo "installing docker-registry (a real OCI registry for the image tests)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
fi
# A real builder for `hakobu images build` (daemonless: vfs storage, chroot isolation).
if ! command -v buildah >/dev/null; then
    echo "installing buildah (a real image builder for the image build tests)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah >/dev/null
fi

start=$(date +%s)
hakobu cluster build
echo "control-plane binaries ready in $(( $(date +%s) - start ))s"

set +e
pytest "$@"
status=$?
set -e
if [[ $status -eq 5 ]]; then
    # pytest's "no tests collected": never a pass. The whole suite being empty is a broken
    # suite (1); an explicit selection matching nothing is a mistyped selection (2).
    if [[ $# -eq 0 ]]; then
        echo "error: pytest collected no tests at all; the suite is broken" >&2
        exit 1
    fi
    echo "error: no test matched the selection: $*" >&2
    exit 2
fi
exit $status
