"""The agent's own clone of the repository, following one branch of a remote.

The clone lives in a directory only the agent writes to. Each fetch moves its work tree
(detached) to the branch's newest commit, so the project file and the manifests are read
exactly as that commit has them; a forced checkout there can lose nothing.

The agent commits only rollbacks, on top of the fetched commit, and pushes them as a fast
forward of the remote branch. A push the remote refuses (someone pushed meanwhile) leaves
the remote as it is; the next fetch drops the local commit.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath

import pygit2
from pygit2.enums import ResetMode

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.repo.rollback import RollbackRequest, apply_rollback, plan_rollback

_REMOTE = "origin"
# Who the agent's commits are by when git has no identity configured for the clone.
_NAME, _EMAIL = "hakobu agent", "hakobu-agent@localhost"


def remote_url(source: str) -> str:
    """A local path made absolute (the clone lives elsewhere); any other URL as given."""
    if not _is_local(source):
        return source
    path = Path(source).expanduser()
    if not path.exists():
        raise InvalidInput(
            f"--repo {source}: the path {path.resolve()} does not exist",
            hint="give the path of a git repository, or a URL (https://…, ssh://…, user@host:path)",
        )
    return str(path.resolve())


def _is_local(source: str) -> bool:
    """Whether git reads ``source`` as a path: no ``scheme://``, and no ``host:`` before
    the first slash (git's scp-like syntax, ``git@example.com:shop.git``)."""
    if "://" in source:
        return False
    host, colon, _ = source.partition(":")
    return not colon or "/" in host


def default_directory(url: str, branch: str) -> Path:
    """``$XDG_STATE_HOME/hakobu/agent/<digest of URL and branch>``: one clone per source."""
    xdg = os.environ.get("XDG_STATE_HOME")
    root = Path(xdg) if xdg else Path.home() / ".local" / "state"
    key = hashlib.sha256(f"{remote_url(url)}\0{branch}".encode()).hexdigest()[:16]
    return root / "hakobu" / "agent" / key


class Checkout:
    def __init__(self, url: str, branch: str, directory: Path) -> None:
        self.url = remote_url(url)
        self.branch = branch
        self.directory = directory
        self._repo: pygit2.Repository | None = None

    def fetch(self) -> str:
        """Fetch the branch, check its newest commit out, and return that commit's id."""
        repo = self._open()
        tracking = f"refs/remotes/{_REMOTE}/{self.branch}"
        try:
            repo.remotes[_REMOTE].fetch([f"+refs/heads/{self.branch}:{tracking}"])
        except (pygit2.GitError, KeyError) as e:
            raise OperationFailed(
                f"cannot fetch branch {self.branch!r} from {self.url}: {e}",
                hint="check that the remote is reachable and the branch exists",
            ) from e
        try:
            commit = repo.references[tracking].peel(pygit2.Commit)
        except KeyError:
            raise OperationFailed(
                f"the remote {self.url} has no branch {self.branch!r}",
                hint="push the branch, or follow another one with --branch",
            ) from None
        if repo.head_is_unborn or repo.head.target != commit.id:
            repo.set_head(commit.id)
            repo.reset(commit.id, ResetMode.HARD)
        return str(commit.id)

    def tree_id(self, commit: str, path: PurePosixPath) -> str | None:
        """The id of the tree at ``path`` in ``commit`` (None where there is none, or no
        such commit); equal ids mean equal contents."""
        try:
            tree = self._open().get(commit)
        except ValueError:
            # Not a commit id: a sync record of a work tree says "worktree".
            return None
        if not isinstance(tree, pygit2.Commit):
            return None
        try:
            entry = tree.tree[str(path)]
        except KeyError:
            return None
        return str(entry.id)

    def commit_rollback(self, request: RollbackRequest) -> str:
        """Commit ``request`` on top of the checked-out commit; the work tree follows."""
        repo = self._open()
        if not _has_identity(repo):
            repo.config["user.name"] = _NAME
            repo.config["user.email"] = _EMAIL
        return apply_rollback(repo, plan_rollback(repo, request))

    def push(self, commit: str) -> None:
        """Make ``commit`` the remote branch's tip; refused unless it is a fast forward."""
        repo = self._open()
        local = f"refs/heads/{self.branch}"
        repo.references.create(local, pygit2.Oid(hex=commit), force=True)
        refused = _Refusals()
        try:
            repo.remotes[_REMOTE].push([f"{local}:{local}"], callbacks=refused)
        except pygit2.GitError as e:
            refused.messages.append(str(e))
        if refused.messages:
            raise OperationFailed(
                f"pushing {commit[:12]} to branch {self.branch!r} of {self.url} was refused: "
                + "; ".join(refused.messages),
                hint="the branch moved meanwhile; the agent never force-pushes",
            )

    def _open(self) -> pygit2.Repository:
        if self._repo is not None:
            return self._repo
        found = pygit2.discover_repository(str(self.directory))
        owned = found is not None and Path(found).resolve().parent == self.directory.resolve()
        if owned:
            repo = pygit2.Repository(str(self.directory))
            current = repo.remotes[_REMOTE].url if _REMOTE in repo.remotes.names() else None
            if current != self.url:
                raise InvalidInput(
                    f"{self.directory} is a clone of {current}, not of {self.url}",
                    hint="give the agent its own --workdir for each repository",
                )
        elif self.directory.exists() and any(self.directory.iterdir()):
            raise InvalidInput(
                f"{self.directory} is not empty and not a clone made by the agent",
                hint="give the agent an empty or new --workdir",
            )
        else:
            repo = pygit2.init_repository(str(self.directory))
            repo.remotes.create(_REMOTE, self.url)
        self._repo = repo
        return repo


def _has_identity(repo: pygit2.Repository) -> bool:
    try:
        return bool(repo.default_signature)
    except KeyError:
        return False


class _Refusals(pygit2.RemoteCallbacks):
    """A remote server reports a refused update here rather than as an error."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def push_update_reference(self, refname: str, message: str | None) -> None:
        if message is not None:
            self.messages.append(f"{refname}: {message}")
