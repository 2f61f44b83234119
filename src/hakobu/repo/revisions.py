"""Reading a repository at a revision: commits, the files under a path, local changes.

Paths here are always relative to the repository's work tree, with ``/`` separators, so
they can be compared with the paths of tree entries directly.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import pygit2

from hakobu.errors import InvalidInput
from hakobu.repo.workchanges import ChangedPaths, changed_paths

BLOB_MODE = int(pygit2.enums.FileMode.BLOB)
LINK_MODE = int(pygit2.enums.FileMode.LINK)


@dataclass(frozen=True)
class File:
    data: bytes
    mode: int = BLOB_MODE


# repository-relative path → content
Files = dict[str, File]


class UnknownRevision(LookupError):
    """``revision`` names no commit of the repository; ``reason`` is git's word for why."""

    def __init__(self, revision: str, reason: str) -> None:
        super().__init__(revision, reason)
        self.revision = revision
        self.reason = reason


def lookup(repo: pygit2.Repository, revision: str) -> pygit2.Commit:
    """The commit ``revision`` names (anything `git rev-parse` reads), or UnknownRevision."""
    try:
        return repo.revparse_single(revision).peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError) as e:
        raise UnknownRevision(revision, str(e)) from None


def resolve(repo: pygit2.Repository, revision: str) -> pygit2.Commit:
    try:
        return lookup(repo, revision)
    except UnknownRevision:
        raise InvalidInput(
            f"unknown revision {revision!r}",
            hint="give a commit id, branch or tag that `git rev-parse` knows "
            "(`hakobu history ENV` lists the revisions of an environment)",
        ) from None


def head(repo: pygit2.Repository) -> pygit2.Commit:
    if repo.head_is_unborn:
        raise InvalidInput(
            f"the repository at {repo.workdir} has no commits yet",
            hint="render and commit an environment first (`hakobu render --commit`)",
        )
    return repo.head.peel(pygit2.Commit)


def repo_path(repo: pygit2.Repository, path: Path) -> str:
    """``path`` (absolute or relative to the current directory) relative to the work tree."""
    workdir = Path(repo.workdir).resolve()
    try:
        return path.resolve().relative_to(workdir).as_posix()
    except ValueError:
        raise InvalidInput(
            f"{path} is outside the git repository at {workdir}",
            hint="keep the project (and its output directory) inside one repository",
        ) from None


def entry_id(tree: pygit2.Tree, path: str) -> pygit2.Oid | None:
    """The id of the blob or tree at ``path``, or None when there is nothing there."""
    try:
        return tree[path].id
    except KeyError:
        return None


def path_id(commit: pygit2.Commit, path: str) -> str | None:
    """The id of what ``commit`` holds at ``path`` (a blob or a tree), or None: equal ids,
    equal content."""
    found = entry_id(commit.tree, path)
    return None if found is None else str(found)


def files_at(commit: pygit2.Commit, path: str) -> Files:
    """Every file at or under ``path`` in ``commit`` (none when the path does not exist)."""
    try:
        obj = commit.tree[path]
    except KeyError:
        return {}
    found: Files = {}
    _collect(obj, path, found)
    return found


def export(commit: pygit2.Commit, directory: Path) -> None:
    """Write every file of ``commit`` under ``directory`` (a scratch copy of a revision)."""
    found: Files = {}
    _collect(commit.tree, "", found)
    for path, file in found.items():
        destination = directory / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        if file.mode == LINK_MODE:
            destination.symlink_to(file.data.decode())
        else:
            destination.write_bytes(file.data)


def _collect(obj: pygit2.Object, path: str, found: Files) -> None:
    if isinstance(obj, pygit2.Tree):
        for entry in obj:
            _collect(entry, f"{path}/{entry.name}" if path else entry.name or "", found)
    elif isinstance(obj, pygit2.Blob):
        found[path] = File(obj.data, int(obj.filemode) if obj.filemode else BLOB_MODE)


# The files that differ from HEAD in the index or the work tree (``local_changes``).
LocalChanges = Collection[str]


def local_changes(repo: pygit2.Repository, within: Sequence[str]) -> LocalChanges:
    """The files at or under ``within`` (repository-relative; ``""`` is the whole tree) that
    differ from HEAD in the index or the work tree, or are untracked and not ignored."""
    return frozenset(changed_paths(repo, within))


def changed_locally(
    repo: pygit2.Repository, paths: list[str], changes: LocalChanges | None = None
) -> list[str]:
    """Files under ``paths`` that differ from HEAD in the index or the work tree;
    ``changes``, when given, is what ``local_changes`` said about paths covering them."""
    if changes is None:
        changes = local_changes(repo, paths)
    return sorted(path for path in changes if under(path, paths))


class CleanHead:
    """HEAD's id when nothing under the directory ``path`` differs from HEAD (staged,
    unstaged or untracked); None when something does, or when there is no HEAD. Asked now
    and answered by ``result``: git's status of the directory runs beside what the caller
    does meanwhile (reading HEAD's copy of it)."""

    def __init__(self, repo: pygit2.Repository, path: str) -> None:
        # The HEAD the answer is about: a commit made meanwhile is not it.
        self.head = None if repo.head_is_unborn or repo.workdir is None else str(repo.head.target)
        # Asked of git about that directory alone (``workchanges``): libgit2's status of the
        # whole work tree took most of a no-op sync's reading of an environment of thousands.
        self._asked = ChangedPaths(
            repo if self.head else None, [path.rstrip("/")] if self.head else []
        )

    def __enter__(self) -> CleanHead:
        return self

    def __exit__(self, *_: object) -> None:
        self._asked.__exit__()

    def result(self) -> str | None:
        if self.head is None or self._asked.result():
            return None
        return self.head


def on_disk(repo: pygit2.Repository, path: str) -> Path:
    """The repository-relative ``path`` in the work tree."""
    if repo.workdir is None:
        raise InvalidInput(
            f"{repo.path} is a bare repository",
            hint="run hakobu in a checkout (a work tree) of the repository",
        )
    return Path(repo.workdir) / path


def under(path: str, prefixes: list[str]) -> bool:
    """Whether ``path`` is one of ``prefixes`` or inside one; ``""`` is the whole tree."""
    return any(not p or path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)
