"""Opening a repository, and the git handles that leave ``hakobu.repo``.

Only ``hakobu.repo`` speaks pygit2. Other packages hold a ``Repository`` or a ``Commit``
only to hand it back to functions here; what they read from one comes back as plain data
(ids as hex strings, paths, bytes, hakobu's own dataclasses).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pygit2

Repository = pygit2.Repository
Commit = pygit2.Commit


def discover(path: Path) -> Repository | None:
    """The repository ``path`` is in (its work tree or its git directory), or None."""
    found = pygit2.discover_repository(str(path))
    return None if found is None else pygit2.Repository(found)


def release(repo: Repository) -> None:
    """Let go of what ``repo`` holds of the repository now: its index, its cache of parsed
    objects, its open pack files and their mappings — megabytes for a tree of thousands of
    files. A pygit2 ``Repository`` sits in reference cycles, so dropping it frees nothing
    until the cyclic collector runs, which in a long-lived process holding many clones may
    be minutes away. ``repo`` stays usable: what it needs again is read again."""
    repo.free()


@contextmanager
def releasing(repo: Repository) -> Iterator[Repository]:
    """``repo``, released (``release``) when the block ends."""
    try:
        yield repo
    finally:
        release(repo)


def work_tree(repo: Repository) -> Path | None:
    """The root of the repository's work tree, resolved; None for a bare repository."""
    return None if repo.workdir is None else Path(repo.workdir).resolve()


def blob_id(data: bytes) -> str:
    """The id git gives a blob holding ``data``, without writing it."""
    return str(pygit2.hash(data))


def file_blob_id(path: Path) -> str:
    """The id git gives a blob holding the file at ``path``, without writing it."""
    return str(pygit2.hashfile(str(path)))
