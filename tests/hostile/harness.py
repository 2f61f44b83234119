"""Run the ``hakobu`` command on hostile input and hold it to the bounds every case must meet.

A case is a project directory (or a file) an attacker controls. Whatever it holds, the
command must end within ``SECONDS`` and ``MEMORY_MB`` of resident memory, print no
traceback, exit 2 (invalid input) unless the case says otherwise, and leave every file
outside the project's ``generated/`` exactly as it was. Each run is its own process, so a
blow-up is measured (``wait4``'s peak resident size of exactly that child, taken by a small
launcher: see ``launch.py``) rather than felt by the test runner; an address-space limit
far above the bound stops a runaway before it can hurt the machine.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SECONDS = 5.0
MEMORY_MB = 300
# A safety net only: far above MEMORY_MB so the measurement, not this limit, fails a case.
_ADDRESS_SPACE = 4 << 30
# Runs the command as its child, so the command's memory is measured apart from the runner's.
_LAUNCH = Path(__file__).with_name("launch.py")


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float
    timed_out: bool


def run_hakobu(
    *args: str,
    cwd: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    seconds: float = SECONDS,
) -> Run:
    """``hakobu *args`` in ``cwd``, measured; killed (``timed_out``) past twice ``seconds``.

    Each run has a home and cache directory of its own, outside ``cwd``, removed after it.
    """
    with tempfile.TemporaryDirectory(prefix="hakobu-home-") as home:
        return _run(args, cwd, stdin, {"HOME": home, **(env or {})}, seconds)


def _run(
    args: tuple[str, ...], cwd: Path, stdin: bytes | None, env: dict[str, str], seconds: float
) -> Run:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "XDG_CACHE_HOME": str(Path(env["HOME"]) / ".cache"),
        "LANG": "C.UTF-8",
        # The editor of `secret edit` must never wait for a person.
        "EDITOR": "false",
        "KUBECONFIG": str(cwd / "no-such-kubeconfig"),
        # The code under test, wherever this run imports it from.
        **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"},
        **env,
    }
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        with tempfile.TemporaryFile() as given, tempfile.TemporaryDirectory() as scratch:
            given.write(stdin or b"")
            given.seek(0)
            report = Path(scratch) / "max-rss"
            start = time.monotonic()
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-S",
                    str(_LAUNCH),
                    str(_ADDRESS_SPACE),
                    str(report),
                    sys.executable,
                    "-m",
                    "hakobu",
                    *args,
                ],
                cwd=cwd,
                stdin=given,
                stdout=out,
                stderr=err,
                env=environment,
                # A group of its own, so a timeout kills the command with its launcher.
                start_new_session=True,
            )
            status, timed_out = _wait(process, start + 2 * seconds)
            elapsed = time.monotonic() - start
            # ru_maxrss is in KiB on Linux; a killed launcher reported nothing.
            max_rss_kib = int(report.read_text()) if report.exists() else 0
        out.seek(0)
        err.seek(0)
        return Run(
            returncode=os.waitstatus_to_exitcode(status),
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            seconds=elapsed,
            max_rss_mb=max_rss_kib / 1024,
            timed_out=timed_out,
        )


def _wait(process: subprocess.Popen[bytes], deadline: float) -> tuple[int, bool]:
    timed_out = False
    while True:
        pid, status = os.waitpid(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return status, timed_out
        if time.monotonic() > deadline and not timed_out:
            os.killpg(process.pid, signal.SIGKILL)
            timed_out = True
        time.sleep(0.005)


def snapshot(root: Path, *, skip: tuple[Path, ...] = ()) -> dict[str, str]:
    """Every entry under ``root`` (links not followed) → what it is and holds."""
    skipped = {path.resolve() for path in skip}
    found: dict[str, str] = {}
    for directory, names, files in os.walk(root, followlinks=False):
        here = Path(directory)
        names[:] = [n for n in names if (here / n).resolve() not in skipped]
        for name in [*names, *files]:
            path = here / name
            if path.resolve() in skipped and not path.is_symlink():
                continue
            found[str(path.relative_to(root))] = _describe(path)
    return found


def _describe(path: Path) -> str:
    info = path.lstat()
    if path.is_symlink():
        return f"link {path.readlink()}"
    if path.is_dir():
        return f"dir {info.st_mode:o}"
    if path.is_file():
        return f"file {info.st_mode:o} {hashlib.sha256(path.read_bytes()).hexdigest()}"
    return f"special {info.st_mode:o}"


def assert_refused(run: Run, *, expect: str | None = None, code: int = 2) -> None:
    """The command refused the input as a person should see it refused."""
    report = f"rc={run.returncode} in {run.seconds:.2f}s, {run.max_rss_mb:.0f} MB\n{run.stderr}"
    assert not run.timed_out, f"hung past {2 * SECONDS:.0f}s\n{report}"
    assert "Traceback" not in run.stderr, report
    assert run.returncode == code, report
    assert run.seconds < SECONDS, report
    assert run.max_rss_mb < MEMORY_MB, report
    assert run.stderr.startswith("error: "), report
    if expect is not None:
        assert expect in run.stderr, report
