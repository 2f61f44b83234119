"""Start, find and stop the control plane's processes.

Processes are found by what they are, not only by recorded pids: every component's command
line names the cluster's state directory and its executable lives in hakobu's tool cache.
So ``down`` also stops processes of a run that crashed before it could record them, and
never signals an unrelated process that happens to reuse a recorded pid.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

_PROC = Path("/proc")


def spawn(argv: list[str], log_path: Path, env: dict[str, str] | None = None) -> int:
    """Start ``argv`` detached from this process (its own session), logging to ``log_path``."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    return process.pid


def alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie child is reaped and counts as gone."""
    try:
        state = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    if state == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return True


def find(marker: str, executable_root: Path) -> list[int]:
    """Pids whose command line mentions ``marker`` and whose executable is under the root."""
    root = str(executable_root.resolve())
    found = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            exe = str((entry / "exe").readlink())
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if exe.startswith(root) and marker in cmdline and alive(int(entry.name)):
            found.append(int(entry.name))
    return sorted(found)


def executable_name(pid: int) -> str:
    try:
        return (_PROC / str(pid) / "exe").readlink().name
    except OSError:
        return ""


def terminate(pids: list[int], grace_seconds: float = 10.0) -> None:
    """SIGTERM each process, wait up to ``grace_seconds``, then SIGKILL the ones left."""
    if not pids:
        return
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.05)
    for pid in pids:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.05)


def log_tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log written)"
