"""One commit of a remote repository, fetched and written out as a plain tree in the user's
cache, for kustomize bases and components that name a git repository.

A ref is resolved against what the remote advertises (a tag, peeled; a branch; or a full
commit id), and the tree is kept under ``<cache>/kustomize-remotes/<url digest>/<commit>``: a
tree once written is never rewritten, so later renders reuse it, and a moved tag resolves to
another commit and so to another tree. Fetches are bounded in time (the entry's
``?timeout=``, at most ``MAX_FETCH_SECONDS``) and size (``MAX_FETCH_BYTES`` received,
``MAX_TREE_FILES`` and ``MAX_TREE_BYTES`` written); symbolic links are written as links, for
the reader to check where they lead. Submodules are not fetched: their directories are empty.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import FileMode

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.remotetarget import RemoteTarget
from hakobu.model.usercache import cache_root

MAX_FETCH_SECONDS = 120.0
MAX_FETCH_BYTES = 64 << 20
MAX_TREE_FILES = 5000
MAX_TREE_BYTES = 64 << 20
_COMMIT_ID = re.compile(r"^[0-9a-f]{40}$")
_FETCHED = "refs/hakobu/fetched"


class RepositoryUnreachable(OperationFailed):
    """The repository cannot be listed: a wrong URL, no such repository, or no access."""


class CommitNotFetched(OperationFailed):
    """The repository was reached but the commit could not be fetched from it."""


@dataclass(frozen=True)
class RemoteTree:
    commit: str
    path: Path


class _Bounded(pygit2.RemoteCallbacks):
    """Stops a transfer that runs past its deadline or receives more than it may."""

    def __init__(self, url: str, deadline: float) -> None:
        super().__init__()
        self.url = url
        self.deadline = deadline
        self.stopped = ""

    def transfer_progress(self, stats: pygit2.remotes.TransferProgress) -> None:
        if time.monotonic() > self.deadline:
            self.stopped = "took longer than its timeout"
        elif stats.received_bytes > MAX_FETCH_BYTES:
            self.stopped = f"sent more than {MAX_FETCH_BYTES >> 20} MiB"
        if self.stopped:
            raise OperationFailed(f"fetching {self.url} stopped: it {self.stopped}")


class RemoteRepositories:
    """The remote repositories one render reads: each URL's refs are listed once (one
    ls-remote per URL, however many apps and refs name it), so every app sees the same commit
    for a ref; trees are fetched into the cache by commit."""

    def __init__(self, cache: Path | None = None) -> None:
        self._cache = cache
        self._heads: dict[str, dict[str, str]] = {}

    def commit(self, url: str, ref: str, *, timeout: float) -> str:
        """The commit ``ref`` names at ``url`` now: a tag (peeled), a branch, a full ref or a
        commit id."""
        heads = self._heads.get(url)
        if heads is None:
            with _scratch(self._store(url), url) as (_, remote):
                heads = _list_heads(remote, url, _Bounded(url, _deadline(timeout)))
            self._heads[url] = heads
        return _pick(heads, url, ref)

    def tree(self, url: str, commit: str, *, timeout: float) -> Path:
        """The directory of ``commit`` of ``url``, fetched unless already cached."""
        store = self._store(url)
        tree_dir = store / commit
        if tree_dir.is_dir():
            return tree_dir
        with _scratch(store, url) as (repository, remote):
            # libgit2 fetches shallowly over the network, but not from a local repository.
            depth = 0 if url.lower().startswith("file://") else 1
            callbacks = _Bounded(url, _deadline(timeout))
            try:
                remote.fetch([f"+{commit}:{_FETCHED}"], depth=depth, callbacks=callbacks)
            except pygit2.GitError as e:
                raise CommitNotFetched(f"cannot fetch {commit} from {url}: {e}") from None
            fetched = repository.get(commit)
            if not isinstance(fetched, pygit2.Commit):
                raise InvalidInput(f"{commit} of {url} is not a commit")
            written = Path(repository.path).parent / "tree"
            written.mkdir()
            _write_tree(repository, fetched.tree, written, {"files": 0, "bytes": 0}, url)
            try:
                written.rename(tree_dir)
            except OSError:
                # Another render wrote the same commit meanwhile: the trees are equal.
                if not tree_dir.is_dir():
                    raise
        return tree_dir

    def _store(self, url: str) -> Path:
        store = (self._cache or cache_root()) / "kustomize-remotes"
        store = store / hashlib.sha256(url.encode()).hexdigest()[:24]
        store.mkdir(parents=True, exist_ok=True)
        return store


@contextmanager
def _scratch(store: Path, url: str) -> Iterator[tuple[pygit2.Repository, pygit2.Remote]]:
    """A throwaway bare repository in ``store`` with an anonymous remote for ``url``."""
    with tempfile.TemporaryDirectory(dir=store, prefix=".fetch-") as work:
        repository = pygit2.init_repository(Path(work) / "git", bare=True)
        yield repository, repository.remotes.create_anonymous(url)


def _deadline(timeout: float) -> float:
    return time.monotonic() + min(timeout, MAX_FETCH_SECONDS)


def fetch_tree(url: str, ref: str, *, timeout: float, cache: Path | None = None) -> RemoteTree:
    """The tree of ``ref`` in the repository at ``url``, fetched unless already cached."""
    repositories = RemoteRepositories(cache)
    commit = repositories.commit(url, ref, timeout=timeout)
    return RemoteTree(commit, repositories.tree(url, commit, timeout=timeout))


def _list_heads(remote: pygit2.Remote, url: str, callbacks: _Bounded) -> dict[str, str]:
    try:
        return {str(head.name): str(head.oid) for head in remote.list_heads(callbacks=callbacks)}
    except pygit2.GitError as e:
        raise RepositoryUnreachable(
            f"cannot reach the repository {url}: {e}",
            hint="check the URL and that the repository exists and can be read",
        ) from None


def _pick(heads: dict[str, str], url: str, ref: str) -> str:
    for name in (f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}", f"refs/heads/{ref}", ref):
        if name in heads and name != "HEAD":
            return heads[name]
    if _COMMIT_ID.match(ref):
        return ref
    raise InvalidInput(
        f"the repository {url} has no tag or branch {ref!r}",
        hint="name an existing tag, branch or full commit id in ?ref=",
    )


def _write_tree(
    repository: pygit2.Repository, tree: pygit2.Tree, into: Path, counted: dict[str, int], url: str
) -> None:
    for entry in tree:
        name = entry.name or ""
        if name in ("", ".", "..", ".git") or "/" in name:
            raise InvalidInput(f"{url}: the tree holds an entry named {name!r}")
        target = into / name
        if entry.filemode == FileMode.TREE:
            target.mkdir()
            subtree = repository.get(entry.id)
            if not isinstance(subtree, pygit2.Tree):
                raise OperationFailed(f"{url}: tree {entry.id} is missing from the fetch")
            _write_tree(repository, subtree, target, counted, url)
            continue
        if entry.filemode == FileMode.COMMIT:
            target.mkdir()
            continue
        blob = repository.get(entry.id)
        if not isinstance(blob, pygit2.Blob):
            raise OperationFailed(f"{url}: blob {entry.id} is missing from the fetch")
        counted["files"] += 1
        counted["bytes"] += blob.size
        if counted["files"] > MAX_TREE_FILES or counted["bytes"] > MAX_TREE_BYTES:
            raise InvalidInput(
                f"{url}: the fetched tree holds more than {MAX_TREE_FILES} files or "
                f"{MAX_TREE_BYTES >> 20} MiB",
                hint="point the remote resource at a smaller repository",
            )
        if entry.filemode == FileMode.LINK:
            target.symlink_to(blob.data.decode("utf-8", "surrogateescape"))
        else:
            target.write_bytes(blob.data)


def fetch_target(target: RemoteTarget) -> Path:
    """The directory of ``target``'s repository at its ref (what a kustomize build reads)."""
    return fetch_tree(target.clone_url, target.ref, timeout=target.timeout).path
