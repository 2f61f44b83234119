"""A commit's tree, optionally with the work tree's changes: what an image's inputs hold.

Committed content is known by git ids alone: the id of a directory's tree names everything
in it, so nothing committed is read to tag an image. The work tree's changes (modified,
staged, deleted and untracked files that git does not ignore) come from git itself, asked
only about the paths given (the image inputs); only those files are read, to hash them as
git would.

Finding them means a stat of every tracked file asked about and a read of every directory
asked about; that is the cost of tagging a clean tree. The ``git`` command does it (when installed)
rather than libgit2: it stats files on several threads, the tracked and the untracked files
are asked for at once, and it honours what a large repository may have set up to make
``git status`` fast (``core.fsmonitor``, ``core.untrackedCache``). Both read the same index
under the same racy-git rules, so they find the same changes.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pygit2

from hakobu.errors import InvalidInput
from hakobu.model import files

TREE_MODE = 0o040000
LINK_MODE = 0o120000
_UNCHANGED = {pygit2.enums.FileStatus.CURRENT, pygit2.enums.FileStatus.IGNORED}
# Above this many, pathspecs are widened to their parent directories: git matches every
# index entry against every pathspec, so a thousand exact ones cost more than they save.
# What the wider query finds outside the inputs is filtered out afterwards.
_MAX_PATHSPECS = 16


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
    prefixes = tuple(p.rstrip("/") + "/" for p in within if p not in ("", "."))
    everything = any(p in ("", ".") for p in within)
    found = _git_changed_paths(repo, within)
    if found is None:
        found = _libgit2_changed_paths(repo)
    for path in sorted(found):
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
            yield Change(path, LINK_MODE, str(pygit2.hash(_link_text(full))))
        elif stat.S_ISREG(info.st_mode):
            mode = 0o100755 if info.st_mode & 0o111 else 0o100644
            yield Change(path, mode, str(pygit2.hashfile(str(full))))
        else:
            # Hashing a FIFO would wait for a writer; git itself cannot hold one either.
            raise files.FileRefused(path, "is not a regular file, a directory or a link")


def _libgit2_changed_paths(repo: pygit2.Repository) -> set[str]:
    status = repo.status(untracked_files="all", ignored=False)
    return {path for path, flags in status.items() if flags not in _UNCHANGED}


def _git_changed_paths(repo: pygit2.Repository, within: tuple[str, ...]) -> set[str] | None:
    """Paths under ``within`` that differ from HEAD, by ``git``; None without a usable git."""
    git = shutil.which("git")
    if git is None:
        return None
    # The repository pygit2 opened, whatever GIT_DIR or GIT_INDEX_FILE a hook may have set.
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    command = [git, f"--git-dir={repo.path}", f"--work-tree={repo.workdir}"]
    command += ["--literal-pathspecs"]
    pathspecs = ["--", *_pathspecs(within)]
    # Staged and unstaged changes to tracked files (a submodule counts when its commit
    # moved, not for what is uncommitted inside it), and untracked files git does not
    # ignore: two processes, so the directory scan runs beside the stat of every file.
    status = ["status", "--porcelain", "-z", "--untracked-files=no", "--no-renames"]
    status.append("--ignore-submodules=dirty")
    untracked = ["ls-files", "--others", "--exclude-standard", "-z"]
    running = [
        subprocess.Popen(
            [*command, *query, *pathspecs],
            cwd=repo.workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        for query in (status, untracked)
    ]
    outputs = [process.communicate()[0] for process in running]
    if any(process.returncode != 0 for process in running):
        # A git too old for these options, or a repository it cannot read: libgit2 decides.
        return None
    changed, new = (output.decode("utf-8", "surrogateescape").split("\0") for output in outputs)
    # Porcelain records are "XY path"; without rename detection no record has a second path.
    return {record[3:] for record in changed if record} | {record for record in new if record}


def _pathspecs(within: tuple[str, ...]) -> tuple[str, ...]:
    """Few pathspecs covering every path of ``within``; none (everything) for the root."""
    if any(p in ("", ".") for p in within):
        return ()
    parts = [p.strip("/").split("/") for p in within]
    for depth in range(max(len(p) for p in parts), 0, -1):
        covering = _outermost({"/".join(p[:depth]) for p in parts})
        if len(covering) <= _MAX_PATHSPECS:
            return covering
    return ()


def _outermost(paths: set[str]) -> tuple[str, ...]:
    """``paths`` without those inside another of them, sorted."""

    def inside_another(path: str) -> bool:
        parts = path.split("/")
        return any("/".join(parts[:depth]) in paths for depth in range(1, len(parts)))

    return tuple(sorted(path for path in paths if not inside_another(path)))


def _read_work_file(repo: pygit2.Repository, path: str) -> bytes:
    """A changed file's content as git would store it: a link's text, never its target."""
    full = Path(repo.workdir) / path
    if full.is_symlink():
        return _link_text(full)
    return files.read_bytes(full)


def _link_text(link: Path) -> bytes:
    return os.fsencode(link.readlink())
