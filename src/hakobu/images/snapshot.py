"""What an image's inputs hold: a commit's tree, optionally with the work tree's changes.

Committed content is known by git ids alone: the id of a directory's tree names everything
in it, so nothing committed is read to tag an image. The work tree's changes (modified,
staged, deleted and untracked files that git does not ignore) come from one status query;
only those files are read, to hash them as git would.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pygit2

from hakobu.errors import InvalidInput

TREE_MODE = 0o040000
_UNCHANGED = {pygit2.enums.FileStatus.CURRENT, pygit2.enums.FileStatus.IGNORED}


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
    ) -> None:
        self.repo = repo
        self.revision = revision
        self.commit = commit
        self.changes = changes
        self._tree = commit.tree
        self._changed = {change.path: change for change in changes}
        self._directories: dict[str, dict[str, Entry]] = {}

    @classmethod
    def at(cls, repo: pygit2.Repository, revision: str = "HEAD") -> Snapshot | None:
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
        return cls(repo, revision, commit)

    @classmethod
    def work_tree(cls, repo: pygit2.Repository, within: Iterable[str]) -> Snapshot:
        """HEAD with the work tree's changes under the paths ``within``."""
        head = cls.at(repo)
        if head is None:  # Snapshot.at raises for HEAD instead; this keeps the types honest
            raise InvalidInput(f"{repo.workdir} has no commit yet")
        return cls(repo, "work tree", head.commit, tuple(_changes(repo, tuple(within))))

    @property
    def commit_id(self) -> str:
        return str(self.commit.id)

    def entry(self, path: str) -> Entry | None:
        """The committed object at ``path`` (``.`` is the root), or None."""
        entry = Entry(TREE_MODE, str(self._tree.id))
        if path in ("", "."):
            return entry
        for part in path.split("/"):
            if not entry.is_tree:
                return None
            found = self._directory(entry.id).get(part)
            if found is None:
                return None
            entry = found
        return entry

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

    def read_text(self, path: str) -> str | None:
        """A small file as it would be built: the work tree's when changed, else committed."""
        change = self._changed.get(path)
        if change is not None:
            if change.id is None:
                return None
            data = _read_work_file(self.repo, path)
        else:
            entry = self.entry(path)
            if entry is None or entry.is_tree:
                return None
            data = self.repo[entry.id].peel(pygit2.Blob).data
        try:
            return data.decode()
        except UnicodeDecodeError:
            raise InvalidInput(f"{path} is not a UTF-8 text file") from None


def _changes(repo: pygit2.Repository, within: tuple[str, ...]) -> Iterator[Change]:
    prefixes = tuple(p.rstrip("/") + "/" for p in within if p not in ("", "."))
    everything = any(p in ("", ".") for p in within)
    status = repo.status(untracked_files="all", ignored=False)
    for path in sorted(status):
        if status[path] in _UNCHANGED:
            continue
        if not everything and not any(
            path.startswith(prefix) or path + "/" == prefix for prefix in prefixes
        ):
            continue
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
            yield Change(path, 0o120000, str(pygit2.hash(str(full.readlink()).encode())))
        else:
            mode = 0o100755 if info.st_mode & 0o111 else 0o100644
            yield Change(path, mode, str(pygit2.hashfile(str(full))))


def _read_work_file(repo: pygit2.Repository, path: str) -> bytes:
    return (Path(repo.workdir) / path).read_bytes()
