"""Run the helm binary on charts from a repository: bounded, isolated, offline where it can be.

A chart's templates are code from whoever wrote the pull request, and ``render --check`` runs
them in CI, so helm runs as a child process with bounds of its own:

- **Time**: it is killed (its whole process group) after ``seconds``.
- **Memory**: its data segment is limited (``RLIMIT_DATA``: the heap Go commits, not the
  address space it only reserves); a chart that builds a huge value makes helm fail with
  Go's "out of memory", reported as such.
- **Output**: stdout and stderr go to files whose size is limited (``RLIMIT_FSIZE``), so a
  chart that prints without end is cut by the kernel at the bound, and refused.
- **No door out**: an empty environment (no ``KUBECONFIG``, no proxy), helm's homes and plugin
  directory in a fresh temporary directory (no plugins, no registry logins, no repositories),
  no ``--kube-*`` flag. ``helm template`` never talks to a cluster (``lookup`` returns nothing).
  Templates can still resolve host names (Sprig's ``getHostByName``): where the kernel lets an
  unprivileged process make its own network namespace, ``helm template`` runs inside an empty
  one (``unshare --net``) and cannot reach the network at all.

``helm pull`` of a pinned chart needs the network; it gets the proxy and certificate settings
of hakobu's own environment, and helm's registry and repository configuration where the user
points ``HELM_REGISTRY_CONFIG``/``HELM_REPOSITORY_CONFIG`` at them (for logins).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hakobu.errors import OperationFailed

# Several times what honest charts take (a large chart renders in well under a second), and
# small enough that CI refuses a hostile one within the few seconds any refusal takes.
TEMPLATE_SECONDS = 2.0
PULL_SECONDS = 120.0
# Heap: `helm template` of an ordinary chart commits some 50 MB, of a large one a little
# over 100 MB.
MEMORY_BYTES = 256 << 20
# What helm may write to stdout (the manifests) or stderr; the API server holds objects of
# at most about 1.5 MiB, and an environment's render is bounded far below this anyway.
OUTPUT_BYTES = 32 << 20

_PASSED_TO_PULL = (
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "https_proxy",
    "http_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HELM_REGISTRY_CONFIG",
    "HELM_REPOSITORY_CONFIG",
)


@dataclass(frozen=True)
class Helm:
    """How a render reaches helm: ``binary`` gives its path (building it on first use);
    ``kube_version`` is what charts see as ``.Capabilities.KubeVersion``."""

    binary: Callable[[], Path]
    kube_version: str


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    # Why helm was stopped from outside, if it was: a sentence for an error message.
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.stopped is None

    def message(self) -> str:
        """What went wrong, in helm's words where helm had any."""
        if self.stopped:
            return self.stopped
        lines = [line for line in self.stderr.strip().splitlines() if line.strip()]
        # A crash of Go's runtime prints its reason first, then every goroutine's stack.
        crash = next((line for line in lines if line.startswith("fatal error: ")), None)
        if crash is not None:
            if "out of memory" in crash or "cannot allocate memory" in crash:
                return f"helm ran out of memory (bound: {MEMORY_BYTES >> 20} MiB)"
            return f"helm crashed: {crash}"
        text = "\n".join(lines[-12:])
        return text or f"helm exited with status {self.returncode} and said nothing"


def run(
    helm: Helm,
    args: Sequence[str],
    *,
    home: Path,
    seconds: float,
    offline: bool,
) -> Outcome:
    """Run ``helm args`` with ``home`` (an empty directory) as its only state."""
    binary = helm.binary()
    command = [str(binary), *args]
    unshare = _network_unsharer() if offline else None
    if unshare is not None:
        command = [unshare, "--map-root-user", "--net", "--", *command]
    # Limits set by util-linux's prlimit rather than in a pre-exec hook, which is unsafe in
    # a process with threads (the controller renders from several).
    # One byte past the bound: a file that reaches it was cut, whatever helm did next (Go
    # ignores SIGXFSZ, and helm may exit 0 after a failed write).
    limits = [f"--data={MEMORY_BYTES}", f"--fsize={OUTPUT_BYTES + 1}", "--core=0"]
    command = [_prlimit(), *limits, "--", *command]
    out_path, err_path = home / "helm.stdout", home / "helm.stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        try:
            process = subprocess.Popen(
                command,
                cwd=home,
                env=_environment(home, offline=offline),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        except OSError as e:
            raise OperationFailed(
                f"helm could not be started ({binary}): {e.strerror or e}",
                hint="remove helm's directory under ~/.cache/hakobu/tools so it is built again",
            ) from None
        stopped = None
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            stopped = f"helm took longer than {seconds:g} s and was stopped"
    if any(path.stat().st_size > OUTPUT_BYTES for path in (out_path, err_path)):
        stopped = f"helm's output passed {OUTPUT_BYTES >> 20} MiB and was stopped"
    return Outcome(process.returncode, _read(out_path), _read(err_path), stopped)


def _read(path: Path) -> str:
    return path.read_bytes()[:OUTPUT_BYTES].decode("utf-8", errors="replace")


def _prlimit() -> str:
    found = shutil.which("prlimit")
    if found is None:
        raise OperationFailed(
            "prlimit (from util-linux) was not found on PATH; hakobu bounds helm with it",
            hint="install util-linux",
        )
    return found


def _environment(home: Path, *, offline: bool) -> dict[str, str]:
    plugins = home / "plugins"
    plugins.mkdir(exist_ok=True)
    env = {
        "HOME": str(home),
        "PATH": "/nonexistent",
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
        "HELM_PLUGINS": str(plugins),
        "HELM_REGISTRY_CONFIG": str(home / "config" / "registry.json"),
        "HELM_REPOSITORY_CONFIG": str(home / "config" / "repositories.yaml"),
        "HELM_REPOSITORY_CACHE": str(home / "cache" / "repository"),
        # A file that does not exist: no cluster's credentials, whatever helm tries.
        "KUBECONFIG": str(home / "no-kubeconfig"),
    }
    if not offline:
        env.update({name: os.environ[name] for name in _PASSED_TO_PULL if name in os.environ})
    return env


@cache
def _network_unsharer() -> str | None:
    """``unshare``'s path, if it can give this process an empty network namespace."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    try:
        result = subprocess.run(
            [unshare, "--map-root-user", "--net", "--", "true"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return unshare if result.returncode == 0 else None


def network_isolated() -> bool:
    """Whether ``helm template`` runs without any network on this machine."""
    return _network_unsharer() is not None
