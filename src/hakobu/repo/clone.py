"""A clone that follows one branch of a remote: made once, fetched, moved, pushed.

The clone's work tree is detached at the fetched commit and belongs to whoever made the
clone, so a forced checkout there can lose nothing. A push is never forced.

Credentials, when given, are offered only when the remote asks for them, as Flux's
GitRepository secrets hold them: a user name and a password (or a token as the password)
over HTTPS; a private key over SSH, after the server's host key was found in the
credentials' ``known_hosts`` (``hakobu.repo.ssh``). They are never written to the clone's
configuration or into a message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pygit2
from pygit2.enums import ResetMode

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.repo.ssh import SshCredentials, keypair, known_hosts_home, ssh_endpoint

REMOTE = "origin"


@dataclass(frozen=True)
class GitCredentials:
    """A user name and a password (or token) for HTTPS."""

    username: str
    password: str = field(repr=False)


Credentials = GitCredentials | SshCredentials


class _Callbacks(pygit2.RemoteCallbacks):
    """Offers the credentials once (a remote asking again has refused them), and trusts a
    server's certificate or host key only when it was verified."""

    def __init__(self, url: str, credentials: Credentials | None) -> None:
        super().__init__()
        self._url = url
        self._credentials = credentials
        self.offered = False
        self.rejected_host = False
        self.messages: list[str] = []

    def certificate_check(self, certificate: None, valid: bool, host: bytes) -> bool:
        # pygit2 would let any SSH host key through; libgit2 has checked it against
        # known_hosts by now and says so in ``valid`` (for HTTPS: the TLS verification).
        self.rejected_host = not valid
        return valid

    def credentials(
        self, url: str, username_from_url: str | None, allowed_types: object
    ) -> pygit2.UserPass | pygit2.Username | pygit2.KeypairFromMemory:
        credentials = self._credentials
        if credentials is None:
            raise pygit2.GitError(f"{_redacted(url)} asks for credentials and none are configured")
        if isinstance(credentials, SshCredentials):
            if username_from_url is None:
                # libgit2 asks for the user name first when the URL names none.
                return pygit2.Username("git")
            if self.offered:
                raise pygit2.GitError(
                    f"{_redacted(url)} refused the key (identity) in {credentials.origin} "
                    f"for user {username_from_url}"
                )
            self.offered = True
            return keypair(credentials, username_from_url)
        if self.offered:
            raise pygit2.GitError(f"{_redacted(url)} refused the configured credentials")
        self.offered = True
        return pygit2.UserPass(credentials.username, credentials.password)

    def push_update_reference(self, refname: str, message: str | None) -> None:
        # A remote server reports a refused update here rather than as an error.
        if message is not None:
            self.messages.append(f"{refname}: {message}")

    @contextmanager
    def connection(self) -> Iterator[None]:
        """Around one operation on the remote: SSH host keys are checked against the
        credentials' known_hosts, and a refused host key or an unreadable key is named."""
        credentials = self._credentials
        trust: AbstractContextManager[None] = (
            known_hosts_home(credentials)
            if isinstance(credentials, SshCredentials)
            else nullcontext()
        )
        with trust:
            try:
                yield
            except pygit2.GitError as e:
                if self.rejected_host:
                    raise self._untrusted() from e
                if isinstance(credentials, SshCredentials) and "private key" in str(e):
                    raise OperationFailed(
                        f"the private key (identity) in {credentials.origin} could not be "
                        f"used: {e}",
                        hint="check the key and, for an encrypted key, its password",
                    ) from e
                raise

    def _untrusted(self) -> OperationFailed:
        endpoint = ssh_endpoint(self._url)
        if endpoint is None:
            return OperationFailed(
                f"the TLS certificate of {_redacted(self._url)} could not be verified",
                hint="the server must present a certificate signed by an authority the "
                "system trusts",
            )
        if isinstance(self._credentials, SshCredentials):
            listed = f"known_hosts in {self._credentials.origin}"
        else:
            listed = "the known_hosts of the user running hakobu"
        return OperationFailed(
            f"the SSH host key of {endpoint} is not listed in {listed}: the host is unknown, "
            "or its key changed (someone may be intercepting the connection)",
            hint="add the host's key to known_hosts (`ssh-keyscan -p PORT HOST`), after "
            "checking its fingerprint against one you trust",
        )


def _redacted(url: str) -> str:
    """``url`` without a password someone wrote into it."""
    scheme, separator, rest = url.partition("://")
    if not separator or "@" not in rest.split("/", 1)[0]:
        return url
    userinfo, _, host = rest.partition("@")
    return f"{scheme}://{userinfo.split(':', 1)[0]}@{host}"


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


def remote_tip(
    repo: pygit2.Repository, url: str, branch: str, credentials: Credentials | None = None
) -> str | None:
    """The commit ``branch`` points at on the remote (None: it has no such branch), asked
    without fetching anything: what a poll needs to know whether to fetch."""
    return remote_heads(repo, url, credentials).get(branch)


def remote_heads(
    repo: pygit2.Repository, url: str, credentials: Credentials | None = None
) -> dict[str, str]:
    """Every branch of the remote and the commit it points at, asked without fetching
    (``git ls-remote --heads``)."""
    callbacks = _Callbacks(url, credentials)
    try:
        with callbacks.connection():
            heads = repo.remotes[REMOTE].list_heads(callbacks=callbacks)
    except (pygit2.GitError, KeyError) as e:
        raise OperationFailed(
            f"cannot read the branches of {_redacted(url)}: {e}",
            hint="check that the remote is reachable and the credentials are right",
        ) from e
    return {
        name.removeprefix("refs/heads/"): str(head.oid)
        for head in heads
        if (name := head.name or "").startswith("refs/heads/")
    }


def fetch_tracking(
    repo: pygit2.Repository, url: str, branches: list[str], credentials: Credentials | None = None
) -> None:
    """Fetch ``branches`` into their remote-tracking refs, leaving the work tree alone."""
    if not branches:
        return
    specs = [f"+refs/heads/{b}:refs/remotes/{REMOTE}/{b}" for b in branches]
    callbacks = _Callbacks(url, credentials)
    try:
        with callbacks.connection():
            repo.remotes[REMOTE].fetch(specs, callbacks=callbacks)
    except (pygit2.GitError, KeyError) as e:
        raise OperationFailed(
            f"cannot fetch branches {', '.join(branches)} from {_redacted(url)}: {e}",
            hint="check that the remote is reachable and the credentials are right",
        ) from e


def commit_time(repo: pygit2.Repository, commit: str) -> int:
    """When ``commit`` was made, in seconds since the epoch (as its committer says)."""
    return int(repo[commit].peel(pygit2.Commit).commit_time)


def checked_out(repo: pygit2.Repository) -> str | None:
    return None if repo.head_is_unborn else str(repo.head.target)


def fetch_branch(
    repo: pygit2.Repository, url: str, branch: str, credentials: Credentials | None = None
) -> str:
    """Fetch ``branch``, check its newest commit out (detached), and return that commit's id."""
    tracking = f"refs/remotes/{REMOTE}/{branch}"
    callbacks = _Callbacks(url, credentials)
    try:
        with callbacks.connection():
            repo.remotes[REMOTE].fetch([f"+refs/heads/{branch}:{tracking}"], callbacks=callbacks)
    except (pygit2.GitError, KeyError) as e:
        raise OperationFailed(
            f"cannot fetch branch {branch!r} from {_redacted(url)}: {e}",
            hint="check that the remote is reachable, the branch exists and the credentials "
            "are right",
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


def discard_changes(repo: pygit2.Repository) -> None:
    """Make the work tree exactly the checked-out commit again: changed files restored,
    new ones deleted (the clone's work tree is its owner's alone)."""
    repo.reset(repo.head.target, ResetMode.HARD)
    workdir = Path(repo.workdir)
    for path, flags in repo.status(untracked_files="all").items():
        if flags & pygit2.enums.FileStatus.WT_NEW:
            (workdir / path).unlink(missing_ok=True)


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


def push_branch(
    repo: pygit2.Repository,
    url: str,
    branch: str,
    commit: str,
    credentials: Credentials | None = None,
) -> None:
    """Make ``commit`` the remote branch's tip; refused unless it is a fast forward."""
    local = f"refs/heads/{branch}"
    repo.references.create(local, pygit2.Oid(hex=commit), force=True)
    refused = _Callbacks(url, credentials)
    try:
        with refused.connection():
            repo.remotes[REMOTE].push([f"{local}:{local}"], callbacks=refused)
    except pygit2.GitError as e:
        refused.messages.append(str(e))
    if refused.messages:
        raise OperationFailed(
            f"pushing {commit[:12]} to branch {branch!r} of {_redacted(url)} was refused: "
            + "; ".join(refused.messages),
            hint="the branch moved meanwhile; the agent never force-pushes",
        )
