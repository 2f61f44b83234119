"""Everything a repository holds, for a scan: its tracked files, and every blob of its history.

The tracked files are read as the work tree has them, but only regular files and never
through a link: a FIFO, a device or a link (or a path through a linked directory) is read
as git has staged it instead. The history yields every blob reachable from any ref once,
however many commits hold it, at the oldest commit and path it is found at. Nothing larger
than ``MAX_FILE_BYTES`` is read; it is yielded as refused, with the reason.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import SortMode

from hakobu.errors import InvalidInput
from hakobu.model.files import MAX_FILE_BYTES, FileRefused, read_bytes

TOO_LARGE = f"is larger than {MAX_FILE_BYTES >> 20} MiB, the most hakobu reads from one file"


@dataclass(frozen=True)
class Content:
    """A file at ``path`` (relative to the repository), of the work tree or, with
    ``commit`` (a short id), of the history; ``refused`` says why it was not read."""

    path: str
    data: bytes = b""
    refused: str | None = None
    commit: str | None = None


def repository_contents(path: Path, *, history: bool = False) -> Iterator[Content]:
    """The tracked files under ``path`` and, with ``history``, every blob of every commit
    under it; read as they are asked for."""
    repo, prefix = _open(path)
    tracked = _tracked(repo, prefix)
    return chain(tracked, _history(repo, prefix)) if history else tracked


def _open(path: Path) -> tuple[pygit2.Repository, str]:
    discovered = pygit2.discover_repository(str(path))
    if discovered is None:
        raise InvalidInput(
            f"{path}: not inside a git repository",
            hint="run the check in (or give the path of) the repository's work tree",
        )
    repo = pygit2.Repository(discovered)
    if repo.workdir is None:
        return repo, ""
    try:
        relative = path.resolve().relative_to(Path(repo.workdir).resolve())
    except ValueError:
        raise InvalidInput(
            f"{path}: not in the work tree of the repository at {repo.workdir}",
            hint="give a path inside the work tree",
        ) from None
    return repo, "" if str(relative) == "." else relative.as_posix()


def _tracked(repo: pygit2.Repository, prefix: str) -> Iterator[Content]:
    if repo.workdir is None:
        return
    root = Path(repo.workdir)
    for entry in sorted(repo.index, key=lambda e: e.path):
        if not _under(entry.path, prefix) or entry.mode == pygit2.enums.FileMode.COMMIT:
            continue
        try:
            data = _work_tree_content(root, entry.path)
        except FileNotFoundError:
            continue  # deleted from the work tree
        except FileRefused as e:
            yield Content(entry.path, refused=e.message.removeprefix(f"{e.path}: "))
            continue
        except OSError as e:
            yield Content(entry.path, refused=f"cannot be read ({e.strerror})")
            continue
        yield (
            _staged_content(repo, entry.id, entry.path)
            if data is None
            else Content(entry.path, data)
        )


def _work_tree_content(root: Path, relative: str) -> bytes | None:
    """The file's content; None when it is not a regular file (a link, a FIFO, a device)
    or when a directory on the way to it is a link."""
    path = root / relative
    if not stat.S_ISREG(os.lstat(path).st_mode):
        return None
    if path.resolve() != root.resolve() / relative:
        return None
    return read_bytes(path)


def _staged_content(repo: pygit2.Repository, oid: pygit2.Oid, path: str) -> Content:
    blob = repo.get(oid)
    if not isinstance(blob, pygit2.Blob):
        return Content(path)
    if blob.size > MAX_FILE_BYTES:
        return Content(path, refused=TOO_LARGE)
    return Content(path, blob.data)


def _history(repo: pygit2.Repository, prefix: str) -> Iterator[Content]:
    starts = list(_ref_commits(repo))
    if not starts:
        return
    walker = repo.walk(None, SortMode.TOPOLOGICAL | SortMode.REVERSE)
    for target in starts:
        walker.push(target)
    walk = _HistoryWalk(prefix)
    for commit in walker:
        yield from walk.tree(commit.tree, "", commit.short_id)


class _HistoryWalk:
    """Reads each tree and blob of the history once."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.seen_trees: set[Any] = set()
        self.seen_blobs: set[pygit2.Oid] = set()

    def tree(self, tree: pygit2.Tree, base: str, commit: str) -> Iterator[Content]:
        # A tree wholly inside the scanned path is read once; one on the way to it only
        # partly, which depends on where it sits.
        key: Any = tree.id if _under(base.rstrip("/"), self.prefix) else (tree.id, base)
        if key in self.seen_trees:
            return
        self.seen_trees.add(key)
        for entry in tree:
            path = f"{base}{entry.name}"
            if not (_under(path, self.prefix) or self.prefix.startswith(f"{path}/")):
                continue
            if isinstance(entry, pygit2.Tree):
                yield from self.tree(entry, f"{path}/", commit)
            elif isinstance(entry, pygit2.Blob) and entry.id not in self.seen_blobs:
                self.seen_blobs.add(entry.id)
                if entry.size > MAX_FILE_BYTES:
                    yield Content(path, refused=TOO_LARGE, commit=commit)
                else:
                    yield Content(path, entry.data, commit=commit)


def _ref_commits(repo: pygit2.Repository) -> Iterator[pygit2.Oid]:
    for name in repo.references:
        try:
            commit = repo.references[name].peel(pygit2.Commit)
        except (pygit2.InvalidSpecError, ValueError, KeyError):
            continue  # a ref to a tree or blob, or a dangling symbolic ref
        yield commit.id


def _under(path: str, prefix: str) -> bool:
    return not prefix or path == prefix or path.startswith(f"{prefix}/")
