"""Every file and directory listing a render reads, recorded so a cache can be proven fresh.

A cached render is reused only when each recorded input still has the digest it had: a file's
content, a directory's list of names, or the fact that a path did not exist. Because the
sources read *only* through an ``Inputs`` object, anything that could change the output is
in the record; a stale hit would need a read that bypassed it.

Reads are bounded as ``hakobu.model.files`` bounds them (regular files only, a size limit,
UTF-8 text): a FIFO, a device or a link to one is refused, never waited on or read without
end. Inputs confined to a project (``within``) also refuse any path whose real location,
symbolic links followed, lies outside it: a repository's links must not carry a file from
elsewhere on the machine into its rendered output.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from hakobu.model import files
from hakobu.model.source import SourceError
from hakobu.render.stamps import Stamp, Stamps, settled

InputKind = Literal["file", "dir", "absent"]


@dataclass(frozen=True, order=True)
class Input:
    kind: InputKind
    path: str
    digest: str


@dataclass(frozen=True, order=True)
class Pin:
    """A remote repository's ref and the commit it named when a render fetched it."""

    url: str
    ref: str
    timeout: float
    commit: str


class FileAccess(Protocol):
    """How a render reads the file system; ``Inputs`` records, ``REAL_FILES`` just reads."""

    def read_bytes(self, path: Path) -> bytes: ...

    def is_file(self, path: Path) -> bool: ...

    def is_dir(self, path: Path) -> bool: ...

    def list_dir(self, path: Path) -> list[str]: ...

    def within(self, root: Path, also: tuple[Path, ...] = ()) -> FileAccess:
        """The same reads, refusing any path whose real location is outside ``root`` (and
        ``also``: trees fetched at a pinned commit)."""
        ...


def kind_of(path: Path) -> InputKind:
    """What ``path`` is, links followed; anything but a file or directory is refused."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "absent"
    except OSError as e:
        raise files.FileRefused(path, f"cannot be read ({e.strerror})") from None
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    # Reading it is what refuses it, with the reason: a FIFO, a device, a socket.
    files.read_bytes(path)
    raise files.FileRefused(path, "is not a regular file")


class _RealFiles:
    def read_bytes(self, path: Path) -> bytes:
        return files.read_bytes(path)

    def is_file(self, path: Path) -> bool:
        return kind_of(path) == "file"

    def is_dir(self, path: Path) -> bool:
        return kind_of(path) == "dir"

    def list_dir(self, path: Path) -> list[str]:
        return _names(path)

    def within(self, root: Path, also: tuple[Path, ...] = ()) -> FileAccess:
        return Inputs().within(root, also)


REAL_FILES: FileAccess = _RealFiles()


@dataclass
class Inputs:
    """Reads files for a render and remembers what it read.

    ``root``, when set, is the real path of the project: nothing outside it is read.
    """

    recorded: dict[tuple[InputKind, str], str] = field(default_factory=dict)
    root: Path | None = None
    # The remote refs the render fetched (``hakobu.render.remotepins``).
    pins: set[Pin] = field(default_factory=set)
    # Trees read besides the root: an application repository fetched at a pinned commit.
    also: tuple[Path, ...] = ()
    # Each input's stamp, taken before it was read (``stamps``).
    stamps: dict[tuple[InputKind, str], Stamp | None] = field(default_factory=dict)
    # Each directory's names as first listed: probing a directory lists it, and a fleet's
    # directory of instances is thousands of names.
    listed: dict[str, list[str]] = field(default_factory=dict)

    def within(self, root: Path, also: tuple[Path, ...] = ()) -> Inputs:
        """These inputs, confined to ``root`` and ``also``; what the result reads is
        recorded here too."""
        real = tuple(Path(os.path.realpath(path)) for path in also)
        return Inputs(
            self.recorded, Path(os.path.realpath(root)), self.pins, real, self.stamps, self.listed
        )

    def read_bytes(self, path: Path) -> bytes:
        self._confine(path)
        found = settled(str(path))
        try:
            data = files.read_bytes(path)
        except FileNotFoundError:
            self.recorded["absent", str(path)] = ""
            raise
        self.recorded["file", str(path)] = _digest(data)
        self.stamps["file", str(path)] = found
        return data

    def read_text(self, path: Path) -> str:
        return files.decode(path, self.read_bytes(path))

    def list_dir(self, path: Path) -> list[str]:
        key = str(path)
        names = self.listed.get(key)
        if names is not None:
            return list(names)
        self._confine(path)
        found = settled(key)
        try:
            names = _names(path)
        except FileNotFoundError:
            self.recorded["absent", key] = ""
            raise
        self.recorded["dir", key] = _digest("\0".join(names).encode())
        self.stamps["dir", key] = found
        self.listed[key] = names
        return list(names)

    def is_file(self, path: Path) -> bool:
        return self._probe(path) == "file"

    def absent(self, path: Path) -> bool:
        """Whether nothing is at ``path``, recorded only when so: a caller that finds
        something there goes on to read what it needs of it, which is recorded then."""
        self._confine(path)
        if kind_of(path) != "absent":
            return False
        self.recorded["absent", str(path)] = ""
        return True

    def is_dir(self, path: Path) -> bool:
        return self._probe(path) == "dir"

    def _probe(self, path: Path) -> InputKind:
        # What kind of thing a path is also shapes the output (file vs. directory vs. none).
        self._confine(path)
        kind = kind_of(path)
        if kind == "dir":
            self.list_dir(path)
        elif kind == "file":
            self.read_bytes(path)
        else:
            self.recorded["absent", str(path)] = ""
        return kind

    def _confine(self, path: Path) -> None:
        if self.root is None:
            return
        real = Path(os.path.realpath(path))
        if real.is_relative_to(self.root) or any(real.is_relative_to(a) for a in self.also):
            return
        raise _outside(path, self.root)

    def snapshot(self) -> tuple[Input, ...]:
        return tuple(sorted(Input(kind, path, d) for (kind, path), d in self.recorded.items()))

    def note_stamps(self, into: Stamps) -> None:
        """Keep in ``into`` the stamps of what these inputs read (see ``stamps``)."""
        for (kind, path), found in self.stamps.items():
            digest = self.recorded.get((kind, path))
            if digest is not None:
                into.note(kind, path, found, digest)


def _outside(path: Path, root: Path) -> SourceError:
    """The error for ``path`` leading out of ``root``, naming the link that leads there."""
    hint = "hakobu reads only what the project holds; copy the content into the project"
    absolute = path.absolute()
    for depth in range(1, len(absolute.parts) + 1):
        step = Path(*absolute.parts[:depth])
        if step.is_symlink() and not Path(os.path.realpath(step)).is_relative_to(root):
            return SourceError(
                _shown(step, path),
                f"is a symbolic link to {step.readlink()}, outside the project",
                hint=hint,
            )
    return SourceError(path, "is outside the project", hint=hint)


def _shown(step: Path, path: Path) -> Path:
    """``step`` (an absolute prefix of ``path``) written as the caller wrote ``path``."""
    if path.is_absolute():
        return step
    below = len(path.absolute().parts) - len(step.parts)
    return Path(*path.parts[: len(path.parts) - below])


def unchanged(item: Input, stamps: Stamps) -> bool:
    """True when ``item`` reads the same now as when it was recorded. ``stamps`` vouches
    for inputs whose stat has not moved (they are not read), and learns the stamps of
    those read again."""
    if item.kind == "absent":
        return not os.path.exists(item.path)  # noqa: PTH110 (a string: once per input)
    if stamps.vouches(item.kind, item.path, item.digest):
        return True
    found = settled(item.path)
    path = Path(item.path)
    if item.kind == "dir":
        if not path.is_dir():
            return False
        names = _names(path)
        digest = _digest("\0".join(names).encode())
    else:
        try:
            digest = _digest(files.read_bytes(path))
        except (OSError, files.FileRefused):
            # Gone, or no longer a file hakobu reads: a render will say why.
            return False
    if digest != item.digest:
        return False
    stamps.note(item.kind, item.path, found, digest)
    return True


def _names(path: Path) -> list[str]:
    # Names, not Paths: a fleet's directory of instances holds thousands.
    return sorted(os.listdir(path))  # noqa: PTH208


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
