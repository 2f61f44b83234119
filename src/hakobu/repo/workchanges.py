"""The work tree's changes under given paths: what differs from HEAD, staged or not, and the
untracked files git does not ignore.

Finding them means a stat of every tracked file asked about and a read of every directory
asked about. The ``git`` command does it (when installed) rather than libgit2: it stats
files on several threads, the tracked and the untracked files are asked for at once, and it
honours what a large repository may have set up to make ``git status`` fast
(``core.fsmonitor``, ``core.untrackedCache``). Both read the same index under the same
racy-git rules, so they find the same changes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

import pygit2

_UNCHANGED = {pygit2.enums.FileStatus.CURRENT, pygit2.enums.FileStatus.IGNORED}
# Above this many, pathspecs are widened to their parent directories: git matches every
# index entry against every pathspec, so a thousand exact ones cost more than they save.
# What the wider query finds outside the paths asked about is filtered out afterwards.
_MAX_PATHSPECS = 16


def changed_paths(repo: pygit2.Repository, within: Sequence[str]) -> set[str]:
    """The files at or under the repository-relative ``within`` (``""``: everything) that
    differ from HEAD in the index or the work tree, or are untracked and not ignored."""
    with ChangedPaths(repo, within) as query:
        return query.result()


class ChangedPaths:
    """``changed_paths``, asked now and answered by ``result``: the ``git`` processes run
    beside what the caller does meanwhile (a render of thousands of apps), which must not
    change the work tree under ``within`` before it asks. Leaving the ``with`` block stops
    them if they still run."""

    def __init__(self, repo: pygit2.Repository | None, within: Sequence[str]) -> None:
        """``repo`` may be None only when ``within`` is empty: nothing is asked."""
        if repo is None and within:
            raise ValueError("changed paths asked of no repository")
        self._repo = repo
        self._within = tuple(within)
        self._running = _start_git(repo, self._within) if repo is not None and within else None

    def __enter__(self) -> ChangedPaths:
        return self

    def __exit__(self, *_: object) -> None:
        for process in self._running or []:
            if process.poll() is None:
                process.kill()
            process.communicate()

    def result(self) -> set[str]:
        if self._repo is None or not self._within:
            return set()
        found = _git_result(self._running) if self._running is not None else None
        self._running = None
        if found is None:
            found = _libgit2_changed_paths(self._repo)
        if any(p in ("", ".") for p in self._within):
            return found
        prefixes = tuple(p.rstrip("/") + "/" for p in self._within)
        return {path for path in found if any((path + "/").startswith(p) for p in prefixes)}


def _libgit2_changed_paths(repo: pygit2.Repository) -> set[str]:
    status = repo.status(untracked_files="all", ignored=False)
    return {path for path, flags in status.items() if flags not in _UNCHANGED}


def _start_git(
    repo: pygit2.Repository, within: tuple[str, ...]
) -> list[subprocess.Popen[bytes]] | None:
    """The ``git`` processes finding the paths under ``within`` that differ from HEAD;
    None without a usable git."""
    git = shutil.which("git")
    if git is None:
        return None
    # The repository pygit2 opened, whatever GIT_DIR or GIT_INDEX_FILE a hook may have set.
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    command = [git, f"--git-dir={repo.path}", f"--work-tree={repo.workdir}"]
    # A read never takes the index's lock to refresh it: a dashboard or agent asking every
    # few seconds would make a rollback's or the user's own `git commit` fail on it.
    command += ["--literal-pathspecs", "--no-optional-locks"]
    pathspecs = ["--", *_pathspecs(within)]
    # Staged and unstaged changes to tracked files (a submodule counts when its commit
    # moved, not for what is uncommitted inside it), and untracked files git does not
    # ignore: two processes, so the directory scan runs beside the stat of every file.
    status = ["status", "--porcelain", "-z", "--untracked-files=no", "--no-renames"]
    status.append("--ignore-submodules=dirty")
    untracked = ["ls-files", "--others", "--exclude-standard", "-z"]
    return [
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


def _git_result(running: list[subprocess.Popen[bytes]]) -> set[str] | None:
    """What the processes of ``_start_git`` found; None when git could not say."""
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
