"""A commit's directories and files as plain data, read lazily.

Paths are ``/``-separated and relative to the repository's root (``directories``',
``subtrees``' argument) or to the directory being walked (a ``Blob``'s path). A link is a blob
too, of mode ``LINK_MODE``, whose content is the link's text: it is never followed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pygit2

from hakobu.repo.revisions import LINK_MODE


@dataclass(frozen=True)
class Blob:
    path: str
    id: str
    mode: int
    size: int
    read: Callable[[], bytes] = field(compare=False, repr=False)

    @property
    def is_link(self) -> bool:
        return self.mode == LINK_MODE


def directories(commit: pygit2.Commit, path: str) -> list[str] | None:
    """The names of the directories in the directory ``path``, sorted; None when ``path``
    is not a directory of ``commit``."""
    tree = _tree(commit, path)
    if tree is None:
        return None
    return sorted(entry.name or "" for entry in tree if isinstance(entry, pygit2.Tree))


def subtrees(commit: pygit2.Commit, path: str) -> tuple[dict[str, str], list[str]] | None:
    """The directories in the directory ``path`` (name → tree id, which changes whenever
    anything under it does), and the names of its other entries; None when ``path`` is not
    a directory of ``commit``."""
    tree = _tree(commit, path)
    if tree is None:
        return None
    found: dict[str, str] = {}
    others: list[str] = []
    for entry in tree:
        if isinstance(entry, pygit2.Tree):
            found[entry.name or ""] = str(entry.id)
        else:
            others.append(entry.name or "")
    return found, sorted(others)


def tree_blobs(repo: pygit2.Repository, tree: str) -> Iterator[Blob]:
    """Every file (and link) under the directory whose tree id is ``tree`` (from
    ``subtrees``), depth first, each directory's entries in the order of their names; none
    when ``tree`` is not a directory. By id, not by path: a path looked up from the
    commit's root parses every directory on the way again, for each directory read."""
    found = repo.get(tree)
    if isinstance(found, pygit2.Tree):
        yield from _walk(found, "")


def _tree(commit: pygit2.Commit, path: str) -> pygit2.Tree | None:
    try:
        found = commit.tree[path]
    except KeyError:
        return None
    return found if isinstance(found, pygit2.Tree) else None


def _walk(tree: pygit2.Tree, base: str) -> Iterator[Blob]:
    for entry in sorted(tree, key=lambda e: e.name or ""):
        path = f"{base}{entry.name or ''}"
        if isinstance(entry, pygit2.Tree):
            yield from _walk(entry, f"{path}/")
        elif isinstance(entry, pygit2.Blob):
            yield Blob(path, str(entry.id), int(entry.filemode), entry.size, _reader(entry))


def _reader(blob: pygit2.Blob) -> Callable[[], bytes]:
    return lambda: blob.data
