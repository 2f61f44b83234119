"""The agent's own clone of the repository, following one branch of a remote.

The clone lives in a directory only the agent writes to. Each fetch moves its work tree
(detached) to the branch's newest commit, so the project file and the manifests are read
exactly as that commit has them; a forced checkout there can lose nothing.

The agent commits rollbacks (and the controller its fleets' tier promotions and reverts of
aborted canaries) on top of the fetched commit, and pushes them as a fast forward of the
remote branch. A push the remote refuses (someone pushed meanwhile) leaves the remote as it
is; the next fetch drops the local commit.
"""

from __future__ import annotations

import hashlib
from contextlib import AbstractContextManager
from pathlib import Path, PurePosixPath

from hakobu.errors import InvalidInput
from hakobu.model.usercache import state_root
from hakobu.releases.canary.revert import RevertRequest, plan_revert
from hakobu.releases.rollback import RollbackRequest, apply_rollback, plan_rollback
from hakobu.repo.clone import (
    Credentials,
    checked_out,
    ensure_identity,
    fetch_branch,
    open_clone,
    push_branch,
    remote_tip,
    tree_id,
)
from hakobu.repo.repository import Repository, releasing

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
    key = hashlib.sha256(f"{remote_url(url)}\0{branch}".encode()).hexdigest()[:16]
    return state_root() / "agent" / key


class Checkout:
    def __init__(
        self,
        url: str,
        branch: str,
        directory: Path,
        credentials: Credentials | None = None,
    ) -> None:
        self.url = remote_url(url)
        self.branch = branch
        self.directory = directory
        self.credentials = credentials
        self._repo: Repository | None = None
        # Whether the last fetch found the branch where it was and so fetched nothing.
        self.unchanged = False

    def fetch(self) -> str:
        """Fetch the branch, check its newest commit out, and return that commit's id. The
        remote is asked first where its branch points: when that is the commit checked out,
        nothing is fetched (a poll of an unchanged branch costs one round trip)."""
        with self._opened() as repo:
            current = checked_out(repo)
            if (
                current is not None
                and remote_tip(repo, self.url, self.branch, self.credentials) == current
            ):
                self.unchanged = True
                return current
            self.unchanged = False
            return fetch_branch(repo, self.url, self.branch, self.credentials)

    def tree_id(self, commit: str, path: PurePosixPath) -> str | None:
        """The id of the tree at ``path`` in ``commit`` (None where there is none, or no
        such commit); equal ids mean equal contents."""
        with self._opened() as repo:
            return tree_id(repo, commit, path)

    def commit_rollback(self, request: RollbackRequest) -> str:
        """Commit ``request`` on top of the checked-out commit; the work tree follows."""
        with self._opened() as repo:
            ensure_identity(repo, _NAME, _EMAIL)
            return apply_rollback(repo, plan_rollback(repo, request))

    def identify(self) -> None:
        """Sign the clone's commits as the agent when git has no identity for it."""
        with self._opened() as repo:
            ensure_identity(repo, _NAME, _EMAIL)

    def commit_revert(self, request: RevertRequest) -> str:
        """Commit the revert of an aborted canary on top of the checked-out commit."""
        with self._opened() as repo:
            ensure_identity(repo, _NAME, _EMAIL)
            return apply_rollback(repo, plan_revert(repo, request))

    def push(self, commit: str) -> None:
        """Make ``commit`` the remote branch's tip; refused unless it is a fast forward."""
        with self._opened() as repo:
            push_branch(repo, self.url, self.branch, commit, self.credentials)

    def _opened(self) -> AbstractContextManager[Repository]:
        # Released after each use: a controller holds a clone per Delivery, and an open
        # clone keeps its index, object cache and pack mappings (megabytes each) between
        # passes that may be an hour apart.
        if self._repo is None:
            self._repo = open_clone(self.directory, self.url)
        return releasing(self._repo)
