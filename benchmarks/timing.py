"""One process of a benchmark, timed: wall clock, CPU time and peak memory from ``wait4``.

On a shared machine the CPU time (user + system) is the steadier figure; the wall clock is
what a person waits.
"""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import hakobu


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu: float
    peak_mb: float
    stdout: str
    stderr: str


def compile_hakobu() -> None:
    """hakobu's bytecode, as an installed package has it (pip compiles it at install): an
    editable install under PYTHONDONTWRITEBYTECODE would compile every module on each run."""
    compileall.compile_dir(Path(hakobu.__file__).parent, quiet=1)


def run(command: list[str], cwd: Path, stdin: Path | None = None) -> Run:
    """``command`` run to its end in ``cwd`` (reading ``stdin`` when given); exits the
    benchmark when it fails."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        (stdin or Path(os.devnull)).open("rb") as given,
    ):
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdin=given, stdout=out, stderr=err)
        # wait4 reports the peak memory of this one process, not of all children.
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            sys.exit(f"{' '.join(command)} failed:\n{err.read().decode()[-2000:]}")
        out.seek(0)
        err.seek(0)
        # ru_maxrss is in KiB on Linux.
        cpu = usage.ru_utime + usage.ru_stime
        return Run(elapsed, cpu, usage.ru_maxrss / 1024, out.read().decode(), err.read().decode())
