"""A commit's tree, optionally with the work tree's changes: what an image's inputs hold.

Committed content is known by git ids alone: the id of a directory's tree names everything
in it, so nothing committed is read to tag an image. The work tree's changes (modified,
staged, deleted and untracked files that git does not ignore) come from git itself, asked
only about the paths given (the image inputs); only those files are read, to hash them as
git would.

Finding them (``workchanges``) means a stat of every tracked file asked about and a read of
every directory asked about; that is the cost of tagging a clean tree.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pygit2

from hakobu.errors import InvalidInput
from hakobu.model import files
from hakobu.repo.workchanges import changed_paths

TREE_MODE = 0o040000
LINK_MODE = 0o120000


@dataclass(frozen=True)
class Entry:
    """A path's git object: its mode (``0o100644``, ``0o040000``, …) and id."""

    mode: int
    id: str

    @property
    def is_tree(self) -> bool:
        return self.mode == TREE_MODE


@dataclass(frozen=True)
class Change:
    """A work-tree file that differs from the commit; ``id`` None when it was deleted."""

    path: str
    mode: int
    id: str | None


# Directory listings by tree id.
Trees = dict[str, dict[str, Entry]]


class Snapshot:
    """A commit's tree at ``revision`` and the uncommitted changes laid over it.

    Paths are POSIX paths relative to the repository's root.
    """

    def __init__(
        self,
        repo: pygit2.Repository,
        revision: str,
        commit: pygit2.Commit,
        changes: tuple[Change, ...] = (),
        *,
        trees: Trees | None = None,
    ) -> None:
        self.repo = repo
        self.revision = revision
        self.commit = commit
        self.changes = changes
        self._changed = {change.path: change for change in changes}
        # Keyed by tree id, so snapshots of other commits of the repository can share it.
        self._directories = {} if trees is None else trees
        self._entries: dict[str, Entry | None] = {".": Entry(TREE_MODE, str(commit.tree_id))}

    @classmethod
    def at(
        cls, repo: pygit2.Repository, revision: str = "HEAD", *, trees: Trees | None = None
    ) -> Snapshot | None:
        """The commit ``revision`` names, or None when there is none (HEAD~1 of a root)."""
        try:
            commit = repo.revparse_single(revision).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError):
            if revision == "HEAD":
                raise InvalidInput(
                    f"{repo.workdir} has no commit yet",
                    hint="image tags are computed from committed trees: commit the project",
                ) from None
            return None
        return cls(repo, revision, commit, trees=trees)

    @classmethod
    def work_tree(
        cls, repo: pygit2.Repository, within: Iterable[str], *, trees: Trees | None = None
    ) -> Snapshot:
        """HEAD with the work tree's changes under the paths ``within``."""
        head = cls.at(repo)
        if head is None:  # Snapshot.at raises for HEAD instead; this keeps the types honest
            raise InvalidInput(f"{repo.workdir} has no commit yet")
        changes = tuple(_changes(repo, tuple(within)))
        return cls(repo, "work tree", head.commit, changes, trees=trees)

    @property
    def commit_id(self) -> str:
        return str(self.commit.id)

    def entry(self, path: str) -> Entry | None:
        """The committed object at ``path`` (``.`` is the root), or None."""
        path = path or "."
        if path in self._entries:
            return self._entries[path]
        parent_path, _, name = path.rpartition("/")
        parent = self.entry(parent_path)
        found = None
        if parent is not None and parent.is_tree:
            found = self._directory(parent.id).get(name)
        self._entries[path] = found
        return found

    def listing(self, tree_id: str) -> tuple[tuple[str, Entry], ...]:
        """The entries of one committed directory, by its tree id, in git's order."""
        return tuple(self._directory(tree_id).items())

    def _directory(self, tree_id: str) -> dict[str, Entry]:
        # libgit2 re-parses every tree on a path lookup; images share parent directories
        # (services/…), so each is read once.
        listing = self._directories.get(tree_id)
        if listing is None:
            tree = self.repo[tree_id].peel(pygit2.Tree)
            listing = {str(obj.name): Entry(obj.filemode, str(obj.id)) for obj in tree}
            self._directories[tree_id] = listing
        return listing

    def changes_under(self, path: str) -> tuple[Change, ...]:
        """Uncommitted changes at or below ``path``, sorted by path."""
        if path in ("", "."):
            return self.changes
        prefix = path + "/"
        return tuple(c for c in self.changes if c.path == path or c.path.startswith(prefix))

    def file(self, path: str) -> File | None:
        """A file as it would be built: the work tree's when changed, else committed."""
        change = self._changed.get(path)
        if change is not None:
            if change.id is None:
                return None
            # Identified by the bytes read, not by what the status query saw: the file may
            # have changed since, and an id must name exactly the content it stands for.
            data = _read_work_file(self.repo, path)
            return File(path, str(pygit2.hash(data)), lambda: data)
        entry = self.entry(path)
        if entry is None or entry.is_tree:
            return None
        return File(path, entry.id, lambda: self._blob(path, entry.id))

    def _blob(self, path: str, blob_id: str) -> bytes:
        blob = self.repo[blob_id].peel(pygit2.Blob)
        if blob.size > files.MAX_FILE_BYTES:
            raise files.FileRefused(
                path, f"is larger than {files.MAX_FILE_BYTES >> 20} MiB, the most hakobu reads"
            )
        return bytes(blob.data)


@dataclass(frozen=True)
class File:
    """A file's path and blob id; its content is read only when asked for."""

    path: str
    id: str
    read: Callable[[], bytes]

    def text(self) -> str:
        try:
            return self.read().decode()
        except UnicodeDecodeError:
            raise InvalidInput(f"{self.path} is not a UTF-8 text file") from None


def _changes(repo: pygit2.Repository, within: tuple[str, ...]) -> Iterator[Change]:
    if not within:
        return
    for path in sorted(changed_paths(repo, within)):
        full = Path(repo.workdir) / path
        try:
            info = full.lstat()
        except FileNotFoundError:
            yield Change(path, 0, None)
            continue
        if stat.S_ISDIR(info.st_mode):
            # A submodule whose checkout moved: its commit is not a file hakobu can hash.
            continue
        if stat.S_ISLNK(info.st_mode):
            yield Change(path, LINK_MODE, str(pygit2.hash(_link_text(full))))
        elif stat.S_ISREG(info.st_mode):
            mode = 0o100755 if info.st_mode & 0o111 else 0o100644
            yield Change(path, mode, str(pygit2.hashfile(str(full))))
        else:
            # Hashing a FIFO would wait for a writer; git itself cannot hold one either.
            raise files.FileRefused(path, "is not a regular file, a directory or a link")


def _read_work_file(repo: pygit2.Repository, path: str) -> bytes:
    """A changed file's content as git would store it: a link's text, never its target."""
    full = Path(repo.workdir) / path
    if full.is_symlink():
        return _link_text(full)
    return files.read_bytes(full)


def _link_text(link: Path) -> bytes:
    return os.fsencode(link.readlink())
