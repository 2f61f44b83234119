"""The desired state: ``<output>/<env>/<app>/**.yaml`` from the work tree or a git revision.

Each first-level directory under the environment is one app. Objects keep the file they
came from, so every later message can point at it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hakobu.errors import HakobuError, InvalidInput
from hakobu.model.files import MAX_FILE_BYTES, decode, read_text
from hakobu.model.fleet import suspended
from hakobu.model.gcpause import gc_paused
from hakobu.model.generated import SUFFIX, Scanned, refuse_strays, scan_environment
from hakobu.model.kinds import is_cluster_scoped
from hakobu.model.objects import Object, ObjectId, group_of, object_id
from hakobu.model.project import Environment, Project
from hakobu.model.source import Document, load_documents
from hakobu.repo.branches import branch_tip, checked_out_branch
from hakobu.repo.repository import Commit, Repository, discover, releasing, work_tree
from hakobu.repo.revisions import CleanHead, UnknownRevision, lookup, repo_path
from hakobu.repo.trees import subtrees, tree_blobs
from hakobu.sync.manifestcache import AppFiles, ManifestCache

WORKTREE = "worktree"


@dataclass(frozen=True)
class Manifest:
    obj: Object
    source: str

    @functools.cached_property
    def id(self) -> ObjectId:
        # Asked of every manifest by several steps of a sync of thousands.
        return object_id(self.obj)


@dataclass(frozen=True)
class AppManifests:
    name: str
    manifests: tuple[Manifest, ...]

    @property
    def suspended(self) -> bool:
        """Every object says so: a fleet instance rendered with suspend: true."""
        return suspended(m.obj for m in self.manifests)


@dataclass(frozen=True)
class DesiredState:
    env: str
    # A commit id, or ``worktree`` for the files as they are on disk.
    revision: str
    apps: tuple[AppManifests, ...]

    def app(self, name: str) -> AppManifests:
        return self._by_name.get(name) or AppManifests(name, ())

    @functools.cached_property
    def _by_name(self) -> dict[str, AppManifests]:
        # Looked up for every app of the environment: a scan each time grew as its square.
        return {app.name: app for app in self.apps}

    @property
    def object_count(self) -> int:
        return sum(len(app.manifests) for app in self.apps)


def read_desired(project: Project, env: Environment, revision: str | None = None) -> DesiredState:
    """Every object of ``env``: at ``revision``, or where ``env`` lives.

    Without a revision, an environment that follows a branch of its own (a tier, which
    advances only by promotion) is read from that branch — from the work tree only while
    that branch is checked out — and any other environment from the work tree, or from
    HEAD when the work tree's copy is HEAD's. What is read from a commit is parsed once per
    app directory's tree (``manifestcache``).
    """
    # Thousands of parsed objects, none cyclic: see gcpause.
    with gc_paused():
        return _read_desired(project, env, revision)


def _read_desired(project: Project, env: Environment, revision: str | None) -> DesiredState:
    if revision is None and env.branch is not None:
        revision = _branch_revision(project.root, env.branch)
    if revision is not None:
        return _from_commit(project, env, revision)
    return _head_or_work_tree(project, env)


def _head_or_work_tree(project: Project, env: Environment) -> DesiredState:
    """HEAD's copy of the environment when the work tree's is exactly HEAD's, so a sync of
    committed files is recorded against their commit (and shows in history); else the work
    tree's. git's status of the directory runs while HEAD's copy is read."""
    env_dir = project.output_dir / env.name
    repo = discover(project.root)
    if repo is None:
        return _from_work_tree(project, env)
    with releasing(repo):
        workdir = work_tree(repo)
        if workdir is None:
            return _from_work_tree(project, env)
        with CleanHead(repo, env_dir.resolve().relative_to(workdir).as_posix()) as asked:
            if asked.head is None:
                return _from_work_tree(project, env)
            failed: HakobuError | None = None
            try:
                state = _from_commit(project, env, asked.head)
            except HakobuError as e:
                # Only HEAD's copy is wrong: the work tree's may have been put right.
                failed = e
            clean = asked.result() is not None
    if not clean:
        return _from_work_tree(project, env)
    if failed is not None:
        raise failed
    return state


def _from_work_tree(project: Project, env: Environment) -> DesiredState:
    files = _worktree_files(project.root, project.output_dir / env.name)
    return DesiredState(env.name, WORKTREE, _manifests(_by_app(files, env)))


def _from_commit(project: Project, env: Environment, revision: str) -> DesiredState:
    repo, commit = _commit(project.root, revision)
    cache = ManifestCache.of(project.root, env.name)
    with releasing(repo):
        files = _tree_files(repo, commit, project.output_dir / env.name, project.root, cache)
        apps = _by_app(files, env)
    cache.save()
    return DesiredState(env.name, str(commit.id), _manifests(apps))


def _manifests(apps: dict[str, list[Manifest]]) -> tuple[AppManifests, ...]:
    return tuple(AppManifests(name, tuple(apps[name])) for name in sorted(apps))


def _by_app(
    files: Iterable[tuple[str, Path | str, list[Object]]], env: Environment
) -> dict[str, list[Manifest]]:
    apps: dict[str, list[Manifest]] = {}
    seen: dict[ObjectId, str] = {}
    for app, path, documents in files:
        for obj in documents:
            _place(obj, env)
            oid = object_id(obj)
            if oid in seen:
                raise InvalidInput(
                    f"{path}: {oid} is also defined in {seen[oid]}",
                    hint="each object may be rendered once per environment; remove one",
                )
            source = str(path)
            seen[oid] = source
            apps.setdefault(app, []).append(Manifest(obj, source))
    return apps


def _branch_revision(root: Path, branch: str) -> str | None:
    """The branch's tip, or None when it is the branch checked out in the work tree."""
    repo = discover(root)
    if repo is None:
        raise InvalidInput(
            f"the environment follows branch {branch!r}, but {root} is not in a git repository",
            hint="run hakobu inside the repository that holds the branch",
        )
    with releasing(repo):
        if checked_out_branch(repo) == branch:
            return None
        return str(branch_tip(repo, branch).id)


def _worktree_files(root: Path, env_dir: Path) -> Iterator[tuple[str, Path, list[Object]]]:
    # Only what render writes is read: a link or stray file in generated/ is refused, so a
    # committed link cannot make a sync apply a file from elsewhere.
    scanned = scan_environment(env_dir, root)
    refuse_strays(scanned)
    for app, found in scanned.files.items():
        for path in found.values():
            yield app, path, _parsed(path, read_text(path))


def _commit(root: Path, revision: str) -> tuple[Repository, Commit]:
    repo = discover(root)
    if repo is None:
        raise InvalidInput(
            f"--rev {revision}: {root} is not inside a git repository",
            hint="leave out --rev to sync the files on disk",
        )
    try:
        return repo, lookup(repo, revision)
    except UnknownRevision as e:
        raise InvalidInput(
            f"unknown revision {revision!r} in {repo.workdir}: {e.reason}",
            hint="give a commit id, branch or tag that `git rev-parse` knows",
        ) from None


def _tree_files(
    repo: Repository, commit: Commit, env_dir: Path, root: Path, cache: ManifestCache
) -> Iterator[tuple[str, str, list[Object]]]:
    """Each file's objects, as ``_worktree_files`` reads them from disk: the same files are
    strays, named from the project's ``root``."""
    env_path = repo_path(repo, env_dir)
    listing = subtrees(commit, env_path)
    if listing is None:
        return
    apps, others = listing
    strays = [env_dir / name for name in others]
    strays += [env_dir / app for app in apps if app.startswith(".")]
    read: dict[str, AppFiles] = {}
    for app, tree in sorted(apps.items()):
        if app.startswith("."):
            continue
        files = cache.get(tree)
        if files is None:
            files = _parsed_app(repo, tree, env_dir / app, strays)
            if files is not None:
                cache.put(tree, files)
        if files is not None:
            read[app] = files
    refuse_strays(Scanned({}, tuple(sorted(p.relative_to(root).as_posix() for p in strays))))
    for app, files in read.items():
        for name, documents in files:
            # A string, not a Path: thousands of paths cost more than the rest of the read.
            yield app, f"{env_dir}/{app}/{name}", documents


def _parsed_app(repo: Repository, tree: str, app_dir: Path, strays: list[Path]) -> AppFiles | None:
    """The files of one app's directory, of git tree ``tree``; None when it holds a stray
    (added to ``strays``)."""
    files: AppFiles = []
    clean = True
    for blob in tree_blobs(repo, tree):
        path = app_dir / blob.path
        if "/" in blob.path or blob.path.startswith(".") or not blob.path.endswith(SUFFIX):
            strays.append(path)
            clean = False
            continue
        if blob.is_link:
            raise InvalidInput(
                f"{path} is a symbolic link in git, not a file render wrote",
                hint="remove it (git rm) and render again",
            )
        if blob.size > MAX_FILE_BYTES:
            raise InvalidInput(f"{path} is larger than {MAX_FILE_BYTES >> 20} MiB")
        files.append((blob.path, _parsed(path, decode(path, blob.read()))))
    return files if clean else None


def _parsed(path: Path, text: str) -> list[Object]:
    """The objects of one file, each checked to be a Kubernetes object."""
    objects = []
    for document in load_documents(path, text):
        _check(document)
        objects.append(document.data)
    return objects


def _check(document: Document) -> None:
    data = document.data
    if not isinstance(data, dict):
        raise document.error((), f"expected a Kubernetes object, found {type(data).__name__}")
    for key in ("apiVersion", "kind"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise document.error((key,), f"expected {key} to be set")
    metadata = data.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        raise document.error(("metadata",), "expected metadata.name")


def _place(obj: Object, env: Environment) -> None:
    # The same rule as rendering: a namespaced object without a namespace goes to the
    # environment's, so its identity is known before the cluster is asked.
    metadata = obj["metadata"]
    if not metadata.get("namespace") and not is_cluster_scoped(
        group_of(obj["apiVersion"]), obj["kind"]
    ):
        metadata["namespace"] = env.namespace
