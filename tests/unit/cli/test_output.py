"""Progress lines from many threads at once stay whole lines."""

from __future__ import annotations

import re
import threading
import time

import pytest

from hakobu.cli.output import Progress


class _SlowStream:
    """A stream that gives other threads a turn inside every write, as a busy pipe may."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        time.sleep(0.0005)
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_lines_from_concurrent_apps_do_not_interleave(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = _SlowStream()
    monkeypatch.setattr("sys.stderr", stream)
    progress = Progress()

    def app(name: str) -> None:
        for i in range(20):
            progress(f"{name}: step {i}")

    threads = [threading.Thread(target=app, args=(f"app{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = "".join(stream.parts).splitlines()
    assert len(lines) == 120
    assert all(re.fullmatch(r"\[ +\d+\.\ds\] app\d: step \d+", line) for line in lines)
