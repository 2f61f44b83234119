"""Preview environments: one branch deployed into a namespace of its own, and taken down.

``up`` renders the branch's committed tree (a scratch copy; nothing is committed to the
branch) for the environment ``previews.from`` names, with the preview's namespace in place
of that environment's, and syncs it (with prune) into that namespace. ``down`` deletes the
namespace, and with it every object, inventory, sync record and lock in it: a preview holds
nothing outside its namespace (``up`` refuses objects that would land elsewhere).

Which namespaces are previews is written on them, when ``up`` creates one::

    labels:      hakobu.dev/preview-of: <project>
    annotations: hakobu.dev/preview: <branch>
                 hakobu.dev/preview-created / -expires: <RFC 3339 UTC>
                 hakobu.dev/preview-revision: <commit>, hakobu.dev/preview-url: <url>

and nothing here changes or deletes a namespace without those marks for that branch:
a namespace of the same name that exists unmarked is refused, not adopted. The label
counts a project's previews against ``maxCount``.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import NotFound
from hakobu.errors import InvalidInput, OperationFailed
from hakobu.images.project import references
from hakobu.model.kinds import is_cluster_scoped
from hakobu.model.objects import Object
from hakobu.model.previews import Previews
from hakobu.model.project import Environment, Project, load_project
from hakobu.render.environment import render_environment, write_environment
from hakobu.repo.branches import fetched_branch_tip
from hakobu.repo.remotetree import RemoteRepositories
from hakobu.repo.repository import discover, releasing
from hakobu.repo.revisions import export, repo_path
from hakobu.sync import DesiredState, SyncOptions, SyncResult, read_desired, sync
from hakobu.sync.ownership import FIELD_MANAGER
from hakobu.sync.record import record_sync

PREVIEW_OF_LABEL = "hakobu.dev/preview-of"
BRANCH_ANNOTATION = "hakobu.dev/preview"
CREATED_ANNOTATION = "hakobu.dev/preview-created"
EXPIRES_ANNOTATION = "hakobu.dev/preview-expires"
REVISION_ANNOTATION = "hakobu.dev/preview-revision"
URL_ANNOTATION = "hakobu.dev/preview-url"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Preview:
    """A preview as its namespace records it."""

    branch: str
    namespace: str
    url: str
    created: datetime
    expires: datetime
    revision: str
    terminating: bool

    def state(self, now: datetime) -> str:
        if self.terminating:
            return "Terminating"
        return "Expired" if now >= self.expires else "Active"


@dataclass(frozen=True)
class PreviewUp:
    preview: Preview
    created: bool
    sync: SyncResult


def settings(project: Project) -> Previews:
    if project.previews is None:
        raise InvalidInput(
            f"{project.file}: the project has no previews section",
            hint="add previews: (from, branches, namespace, host, ttl, maxCount) to hakobu.yaml",
        )
    return project.previews


def preview_environment(project: Project, branch: str) -> Environment:
    """The environment a preview of ``branch`` is: a copy of ``previews.from`` in the
    preview's namespace, named after that namespace (its inventories, lock and records
    then never mix with the copied environment's). InvalidInput for a branch that does
    not match or cannot name a namespace, before anything is rendered."""
    previews = settings(project)
    namespace = previews.namespace(branch)
    for env in project.environments:
        if env.namespace == namespace:
            raise InvalidInput(
                f"branch {branch!r}: its preview namespace {namespace!r} is environment "
                f"{env.name!r}'s namespace in {project.file}",
                hint="change previews.namespace so previews cannot take an environment's",
            )
    source = project.environment(previews.source_env)
    return replace(
        source,
        name=namespace,
        namespace=namespace,
        branch=None,
        auto_rollback_window=None,
        sync_windows=(),
        clusters=(),
    )


def up(
    kube: KubeApi,
    project: Project,
    branch: str,
    *,
    now: datetime,
    timeout: float = 300.0,
    progress: Progress = lambda _: None,
    guard: Callable[[], None] = lambda: None,
) -> PreviewUp:
    """Deploy ``branch``'s tip as its preview, or bring an existing one up to date.
    ``guard`` is the sync's (called before every write)."""
    previews = settings(project)
    env = preview_environment(project, branch)
    revision, branch_project, desired = render_branch(project, branch, env)
    live = _namespace(kube, env.namespace)
    if live is not None:
        _require_mark(live, project.name, branch)
        found = _preview(live)
        created = False
    else:
        running = list_previews(kube, project)
        if len(running) >= previews.max_count:
            raise OperationFailed(
                f"branch {branch!r}: project {project.name!r} has {len(running)} previews, "
                f"its maxCount: {', '.join(p.branch for p in running)}",
                hint="take one down with `hakobu preview down BRANCH`, or raise "
                "previews.maxCount in hakobu.yaml",
            )
        found = Preview(
            branch,
            env.namespace,
            previews.url(branch),
            now,
            now + timedelta(seconds=previews.ttl),
            revision,
            terminating=False,
        )
        created = True
        progress(f"created namespace {env.namespace} for the preview of {branch}")
    found = replace(found, revision=revision, url=previews.url(branch))
    kube.apply(_namespace_object(project.name, found), field_manager=FIELD_MANAGER)
    result = sync(
        kube,
        branch_project,
        env,
        desired,
        options=SyncOptions(prune=True, allow_empty=True, timeout=timeout),
        progress=progress,
        guard=guard,
    )
    record_sync(kube, env.namespace, result)
    return PreviewUp(found, created, result)


def render_branch(
    project: Project, branch: str, env: Environment
) -> tuple[str, Project, DesiredState]:
    """``branch``'s tip, its project, and what its ``previews.from`` environment renders to
    in the preview's namespace; nothing is written outside a scratch directory."""
    source_name = settings(project).source_env
    repo = discover(project.root)
    if repo is None:
        raise InvalidInput(f"{project.root} is not in a git repository; previews are of branches")
    with releasing(repo), tempfile.TemporaryDirectory(prefix="hakobu-preview-") as scratch:
        commit = fetched_branch_tip(repo, branch)
        revision = str(commit.id)
        export(commit, Path(scratch))
        copy = load_project(Path(scratch) / repo_path(repo, project.root))
        if copy.name != project.name:
            raise InvalidInput(
                f"branch {branch!r}: its hakobu.yaml names project {copy.name!r}, not "
                f"{project.name!r}",
                hint="a preview deploys a branch of the same project",
            )
        render_env = replace(copy.environment(source_name), namespace=env.namespace)
        images = references(project.root, revision)
        tree, result = render_environment(
            copy, render_env, images=images, remote_git=RemoteRepositories()
        )
        write_environment(copy, render_env, tree, result)
        rendered = read_desired(copy, render_env)
    _check_inside(rendered, env.namespace, branch)
    return revision, copy, replace(rendered, env=env.name, revision=revision)


def _check_inside(desired: DesiredState, namespace: str, branch: str) -> None:
    """A preview lives in its namespace only: what would land elsewhere would be shared
    with the environment it copies (or another preview), and outlive the preview."""
    for app in desired.apps:
        for manifest in app.manifests:
            ref = manifest.id
            if is_cluster_scoped(ref.group, ref.kind) or ref.namespace != namespace:
                where = "cluster-wide" if not ref.namespace else f"in namespace {ref.namespace}"
                raise InvalidInput(
                    f"{manifest.source}: {ref.kind} {ref.name} would be {where}; the preview "
                    f"of {branch!r} holds only objects in its namespace {namespace}",
                    hint="leave the namespace out of the app's objects, so the environment's "
                    "is filled in",
                )


def down(kube: KubeApi, project: Project, branch: str, *, timeout: float = 300.0) -> Preview:
    """Delete ``branch``'s preview: its namespace and everything in it, waiting until it
    is gone. OperationFailed when there is none, or its namespace is not marked as it."""
    marked = [p for p in list_previews(kube, project) if p.branch == branch]
    if not marked:
        namespace = settings(project).namespace(branch)
        live = _namespace(kube, namespace)
        if live is not None:
            _require_mark(live, project.name, branch)
        raise OperationFailed(f"project {project.name!r} has no preview of branch {branch!r}")
    preview = marked[0]
    delete_preview(kube, preview, timeout)
    return preview


def expire(
    kube: KubeApi, project: Project, *, now: datetime, timeout: float = 300.0
) -> list[Preview]:
    """Take down every preview of the project whose time ran out."""
    gone = []
    for preview in list_previews(kube, project):
        if now >= preview.expires:
            delete_preview(kube, preview, timeout)
            gone.append(preview)
    return gone


def list_previews(kube: KubeApi, project: Project) -> list[Preview]:
    found = kube.list("v1", "Namespace", label_selector=f"{PREVIEW_OF_LABEL}={project.name}")
    previews = [_preview(item) for item in found.items if _marked(item, project.name)]
    return sorted(previews, key=lambda p: p.branch)


def _namespace(kube: KubeApi, name: str) -> Object | None:
    try:
        return kube.get("v1", "Namespace", name)
    except NotFound:
        return None


def _marked(namespace: Object, project: str) -> bool:
    metadata = namespace.get("metadata") or {}
    labels = metadata.get("labels") or {}
    annotations = metadata.get("annotations") or {}
    return labels.get(PREVIEW_OF_LABEL) == project and all(
        isinstance(annotations.get(key), str)
        for key in (BRANCH_ANNOTATION, CREATED_ANNOTATION, EXPIRES_ANNOTATION)
    )


def _require_mark(namespace: Object, project: str, branch: str) -> None:
    name = namespace["metadata"]["name"]
    annotations = namespace["metadata"].get("annotations") or {}
    if not _marked(namespace, project) or annotations.get(BRANCH_ANNOTATION) != branch:
        raise OperationFailed(
            f"namespace {name} exists and is not project {project!r}'s preview of branch "
            f"{branch!r}; hakobu leaves it alone",
            hint=f"a preview's namespace carries the label {PREVIEW_OF_LABEL}={project} and "
            f"the annotation {BRANCH_ANNOTATION}: {branch}; change previews.namespace "
            "or rename the branch",
        )


def _preview(namespace: Object) -> Preview:
    metadata = namespace["metadata"]
    annotations = metadata.get("annotations") or {}
    return Preview(
        str(annotations[BRANCH_ANNOTATION]),
        str(metadata["name"]),
        str(annotations.get(URL_ANNOTATION, "")),
        _time(annotations[CREATED_ANNOTATION]),
        _time(annotations[EXPIRES_ANNOTATION]),
        str(annotations.get(REVISION_ANNOTATION, "")),
        terminating=bool(metadata.get("deletionTimestamp")),
    )


def _time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        # A mark edited by hand into nonsense: the preview counts as expired, not immortal.
        return datetime.fromtimestamp(0, UTC)


def _namespace_object(project: str, preview: Preview) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": preview.namespace,
            "labels": {PREVIEW_OF_LABEL: project},
            "annotations": {
                BRANCH_ANNOTATION: preview.branch,
                CREATED_ANNOTATION: preview.created.isoformat(timespec="seconds"),
                EXPIRES_ANNOTATION: preview.expires.isoformat(timespec="seconds"),
                REVISION_ANNOTATION: preview.revision,
                URL_ANNOTATION: preview.url,
            },
        },
    }


def delete_preview(kube: KubeApi, preview: Preview, timeout: float) -> None:
    """Delete the namespace of ``preview`` (as ``list_previews`` found it, marked) and
    wait until it is gone."""
    name = preview.namespace
    deadline = time.monotonic() + timeout
    try:
        kube.delete("v1", "Namespace", name, propagation="Background")
    except NotFound:
        return
    while time.monotonic() < deadline:
        if _namespace(kube, name) is None:
            return
        time.sleep(0.5)
    raise OperationFailed(
        f"namespace {name} is still being deleted after {timeout:.0f}s",
        hint=f"look at what holds it: `kubectl get namespace {name} -o yaml` (its conditions "
        "name the finalizers)",
    )
