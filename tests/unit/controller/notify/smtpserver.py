"""A real SMTP server process on loopback (aiosmtpd) that keeps what it receives in a
Maildir."""

from __future__ import annotations

import mailbox
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.unit.controller.notify.receivers import closed_port


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    maildir: Path

    def messages(self, count: int, timeout: float = 30.0) -> list[mailbox.MaildirMessage]:
        """The first ``count`` messages, once that many arrived."""
        deadline = time.monotonic() + timeout
        while True:
            box = mailbox.Maildir(self.maildir, create=False)
            found = list(box)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


@contextmanager
def smtp_server(directory: Path, *extra: str) -> Iterator[SmtpServer]:
    """``python -m aiosmtpd`` with the Mailbox handler, stopped on exit."""
    port = closed_port()
    maildir = directory / "maildir"
    mailbox.Maildir(maildir, create=True)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            *extra,
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(maildir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_listening(port, process)
        yield SmtpServer("127.0.0.1", port, maildir)
    finally:
        process.terminate()
        process.wait(10)


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"aiosmtpd exited: {error}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("aiosmtpd did not start listening")
