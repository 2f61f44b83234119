"""Every file and directory listing a render reads, recorded so a cache can be proven fresh.

A cached render is reused only when each recorded input still has the digest it had: a file's
content, a directory's list of names, or the fact that a path did not exist. Because the
sources read *only* through an ``Inputs`` object, anything that could change the output is
in the record; a stale hit would need a read that bypassed it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

InputKind = Literal["file", "dir", "absent"]


@dataclass(frozen=True, order=True)
class Input:
    kind: InputKind
    path: str
    digest: str


class FileAccess(Protocol):
    """How a render reads the file system; ``Inputs`` records, ``REAL_FILES`` just reads."""

    def read_bytes(self, path: Path) -> bytes: ...

    def is_file(self, path: Path) -> bool: ...

    def is_dir(self, path: Path) -> bool: ...


class _RealFiles:
    def read_bytes(self, path: Path) -> bytes:
        return path.read_bytes()

    def is_file(self, path: Path) -> bool:
        return path.is_file()

    def is_dir(self, path: Path) -> bool:
        return path.is_dir()


REAL_FILES: FileAccess = _RealFiles()


@dataclass
class Inputs:
    """Reads files for a render and remembers what it read."""

    recorded: dict[tuple[InputKind, str], str] = field(default_factory=dict)

    def read_bytes(self, path: Path) -> bytes:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            self.recorded["absent", str(path)] = ""
            raise
        self.recorded["file", str(path)] = _digest(data)
        return data

    def read_text(self, path: Path) -> str:
        return self.read_bytes(path).decode()

    def list_dir(self, path: Path) -> list[str]:
        try:
            names = sorted(entry.name for entry in path.iterdir())
        except FileNotFoundError:
            self.recorded["absent", str(path)] = ""
            raise
        self.recorded["dir", str(path)] = _digest("\0".join(names).encode())
        return names

    def is_file(self, path: Path) -> bool:
        return self._probe(path) == "file"

    def is_dir(self, path: Path) -> bool:
        return self._probe(path) == "dir"

    def _probe(self, path: Path) -> InputKind:
        # What kind of thing a path is also shapes the output (file vs. directory vs. none).
        if path.is_dir():
            self.list_dir(path)
            return "dir"
        if path.is_file():
            self.read_bytes(path)
            return "file"
        self.recorded["absent", str(path)] = ""
        return "absent"

    def snapshot(self) -> tuple[Input, ...]:
        return tuple(sorted(Input(kind, path, d) for (kind, path), d in self.recorded.items()))


def still_valid(inputs: tuple[Input, ...]) -> bool:
    """True when every recorded input reads the same now as when it was recorded."""
    for item in inputs:
        path = Path(item.path)
        if item.kind == "absent":
            if path.exists():
                return False
        elif item.kind == "dir":
            if not path.is_dir():
                return False
            names = sorted(entry.name for entry in path.iterdir())
            if _digest("\0".join(names).encode()) != item.digest:
                return False
        else:
            try:
                if _digest(path.read_bytes()) != item.digest:
                    return False
            except (FileNotFoundError, IsADirectoryError):
                return False
    return True


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
