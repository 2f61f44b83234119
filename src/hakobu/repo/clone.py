"""A clone that follows one branch of a remote: made once, fetched, moved, pushed.

The clone's work tree is detached at the fetched commit and belongs to whoever made the
clone, so a forced checkout there can lose nothing. A push is never forced.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pygit2
from pygit2.enums import ResetMode

from hakobu.errors import InvalidInput, OperationFailed

REMOTE = "origin"


def open_clone(directory: Path, url: str) -> pygit2.Repository:
    """The clone of ``url`` in ``directory``, made there when the directory is empty or new;
    refused when the directory holds anything else."""
    found = pygit2.discover_repository(str(directory))
    if found is not None and Path(found).resolve().parent == directory.resolve():
        repo = pygit2.Repository(str(directory))
        current = repo.remotes[REMOTE].url if REMOTE in repo.remotes.names() else None
        if current != url:
            raise InvalidInput(
                f"{directory} is a clone of {current}, not of {url}",
                hint="give the agent its own --workdir for each repository",
            )
        return repo
    if directory.exists() and any(directory.iterdir()):
        raise InvalidInput(
            f"{directory} is not empty and not a clone made by the agent",
            hint="give the agent an empty or new --workdir",
        )
    repo = pygit2.init_repository(str(directory))
    repo.remotes.create(REMOTE, url)
    return repo


def fetch_branch(repo: pygit2.Repository, url: str, branch: str) -> str:
    """Fetch ``branch``, check its newest commit out (detached), and return that commit's id."""
    tracking = f"refs/remotes/{REMOTE}/{branch}"
    try:
        repo.remotes[REMOTE].fetch([f"+refs/heads/{branch}:{tracking}"])
    except (pygit2.GitError, KeyError) as e:
        raise OperationFailed(
            f"cannot fetch branch {branch!r} from {url}: {e}",
            hint="check that the remote is reachable and the branch exists",
        ) from e
    try:
        commit = repo.references[tracking].peel(pygit2.Commit)
    except KeyError:
        raise OperationFailed(
            f"the remote {url} has no branch {branch!r}",
            hint="push the branch, or follow another one with --branch",
        ) from None
    if repo.head_is_unborn or repo.head.target != commit.id:
        repo.set_head(commit.id)
        repo.reset(commit.id, ResetMode.HARD)
    return str(commit.id)


def tree_id(repo: pygit2.Repository, commit: str, path: PurePosixPath) -> str | None:
    """The id of the tree at ``path`` in ``commit`` (None where there is none, or when
    ``commit`` is no commit id); equal ids mean equal contents."""
    try:
        found = repo.get(commit)
    except ValueError:
        return None
    if not isinstance(found, pygit2.Commit):
        return None
    try:
        entry = found.tree[str(path)]
    except KeyError:
        return None
    return str(entry.id)


def ensure_identity(repo: pygit2.Repository, name: str, email: str) -> None:
    """Commit as ``name`` <``email``> unless git already knows who commits here."""
    try:
        if repo.default_signature:
            return
    except KeyError:
        pass
    repo.config["user.name"] = name
    repo.config["user.email"] = email


def push_branch(repo: pygit2.Repository, url: str, branch: str, commit: str) -> None:
    """Make ``commit`` the remote branch's tip; refused unless it is a fast forward."""
    local = f"refs/heads/{branch}"
    repo.references.create(local, pygit2.Oid(hex=commit), force=True)
    refused = _Refusals()
    try:
        repo.remotes[REMOTE].push([f"{local}:{local}"], callbacks=refused)
    except pygit2.GitError as e:
        refused.messages.append(str(e))
    if refused.messages:
        raise OperationFailed(
            f"pushing {commit[:12]} to branch {branch!r} of {url} was refused: "
            + "; ".join(refused.messages),
            hint="the branch moved meanwhile; the agent never force-pushes",
        )


class _Refusals(pygit2.RemoteCallbacks):
    """A remote server reports a refused update here rather than as an error."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def push_update_reference(self, refname: str, message: str | None) -> None:
        if message is not None:
            self.messages.append(f"{refname}: {message}")
