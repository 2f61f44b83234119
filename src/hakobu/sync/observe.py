"""Read what the cluster holds for an environment and plan every app against it.

The only requests are reads: the apps' inventories (one LIST), then, for each kind and
namespace holding an object of the environment, a LIST of what carries the environment's
labels. Objects it does not find — new ones, or ones whose labels were removed or changed
(to be adopted, or left alone as someone else's) — are looked up without the labels: one
by one when they are few, else with one LIST of the kind in that namespace. ``diff``,
``status`` and ``sync`` all start here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.errors import InvalidInput
from hakobu.model.objects import Object, ObjectId
from hakobu.model.project import Environment, Project
from hakobu.secrets.keystore import DEFAULT_NAMESPACE
from hakobu.sync.manifests import DesiredState
from hakobu.sync.ownership import (
    ENVIRONMENT_LABEL,
    PROJECT_LABEL,
    Inventory,
    Owner,
    digest,
    read_inventories,
    stamp,
)
from hakobu.sync.plan import AppPlan, plan_app, resource_of
from hakobu.sync.sealed import (
    Blocked,
    Opened,
    foreign,
    is_sealed,
    open_all,
    opens_sealed,
    read_keys,
)

# Up to this many objects of one kind and namespace that the labelled LIST did not find
# are read one by one; more are found with one LIST of everything of that kind there,
# which costs one request however many objects the namespace holds.
_FEW = 2

# (apiVersion, kind, namespace) → the names wanted there.
_Groups = dict[tuple[str, str, str], dict[str, ObjectId]]


@dataclass(frozen=True)
class AppState:
    plan: AppPlan
    inventory: Inventory | None
    live: Mapping[ObjectId, Object | None]
    # Of the app's manifests as they are now; the inventory keeps the one last synced.
    digest: str
    # What keeps the app from being synced at all (a SealedSecret hakobu cannot open, or
    # whose Secret is someone else's); the plan leaves those Secrets out.
    blocked: tuple[Blocked, ...] = ()
    # Existing Secrets annotated as managed by Sealed Secrets that hakobu takes over.
    taken_over: frozenset[ObjectId] = frozenset()

    @property
    def name(self) -> str:
        return self.plan.owner.app


def observe(
    kube: KubeClient,
    project: Project,
    env: Environment,
    desired: DesiredState,
    *,
    only_app: str | None = None,
    workers: int = 8,
    keys_namespace: str = DEFAULT_NAMESPACE,
) -> list[AppState]:
    """With ``sealedSecrets: hakobu``, SealedSecrets are opened with the keys kept in
    ``keys_namespace`` and planned as the Secrets they open to."""
    inventories, version = read_inventories(kube, env.namespace, project.name, env.name)
    names = sorted({app.name for app in desired.apps} | set(inventories))
    if only_app is not None:
        if only_app not in names:
            raise InvalidInput(
                f"no app named {only_app!r} in {project.output_dir.name}/{env.name} at "
                f"{desired.revision}, nor in the cluster",
                hint=f"apps: {', '.join(names) or 'none'}",
            )
        names = [only_app]
    opened = _open(kube, env, desired, names, keys_namespace)
    # Validate every app's annotations before any request, so bad input fails fast.
    resources = {
        name: [resource_of(m, Owner(project.name, env.name, name)) for m in opened[name].manifests]
        for name in names
    }
    wanted: dict[str, dict[ObjectId, str]] = {}
    for name in names:
        inventory = inventories.get(name)
        app_wanted = {r.id: r.obj["apiVersion"] for r in resources[name] if not r.hook}
        for entry in inventory.entries if inventory else ():
            app_wanted.setdefault(entry.id, entry.api_version)
        wanted[name] = app_wanted
    selector = f"{PROJECT_LABEL}={project.name},{ENVIRONMENT_LABEL}={env.name}"
    live = read_live(
        kube, (item for w in wanted.values() for item in w.items()), selector, version, workers
    )
    states = []
    for name in names:
        owner = Owner(project.name, env.name, name)
        inventory = inventories.get(name)
        app_live = {oid: live.get(oid) for oid in wanted[name]}
        theirs, taken_over = foreign(opened[name].secrets, app_live, owner)
        blocked = (*opened[name].blocked, *theirs)
        left_out = {b.id for b in blocked}
        plan = plan_app(
            owner,
            [r for r in resources[name] if r.id not in left_out],
            app_live,
            [e for e in (inventory.entries if inventory else ()) if e.id not in left_out],
        )
        # Of git's manifests, never of opened Secrets: the inventory must not hold a
        # digest of secret values.
        manifests = desired.app(name).manifests
        states.append(
            AppState(
                plan,
                inventory,
                app_live,
                digest(stamp(m.obj, owner) for m in manifests),
                blocked,
                taken_over,
            )
        )
    return states


def _open(
    kube: KubeClient,
    env: Environment,
    desired: DesiredState,
    names: Iterable[str],
    keys_namespace: str,
) -> dict[str, Opened]:
    """Each app's manifests, SealedSecrets opened when the environment says hakobu opens
    them; the keys are read only when there is one to open."""
    apps = {name: desired.app(name).manifests for name in names}
    if not opens_sealed(env.sealed_secrets) or not any(
        is_sealed(m.obj) for manifests in apps.values() for m in manifests
    ):
        return {name: Opened(manifests, frozenset(), ()) for name, manifests in apps.items()}
    keys = read_keys(kube, keys_namespace)
    return {name: open_all(manifests, keys) for name, manifests in apps.items()}


def read_live(
    kube: KubeClient,
    wanted: Iterable[tuple[ObjectId, str]],
    selector: str,
    version: str,
    workers: int,
) -> dict[ObjectId, Object]:
    """The live object of each wanted (id, apiVersion) that exists; ``selector`` matches
    most of them. Every LIST reflects at least what the cluster held at resourceVersion
    ``version`` (the inventories' read): as fresh as the sync's own start, and served from
    the API server's cache."""
    groups: _Groups = {}
    for oid, api_version in wanted:
        groups.setdefault((api_version, oid.kind, oid.namespace), {})[oid.name] = oid
    live: dict[ObjectId, Object] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(groups)))) as pool:
        for found in pool.map(
            lambda key: _read_group(kube, key, groups[key], selector, version), groups
        ):
            live.update(found)
    return live


def _read_group(
    kube: KubeClient,
    key: tuple[str, str, str],
    names: dict[str, ObjectId],
    selector: str,
    version: str,
) -> dict[ObjectId, Object]:
    api_version, kind, namespace = key
    try:
        labelled = kube.list(
            api_version, kind, namespace or None, label_selector=selector, not_older_than=version
        )
    except NotFound:
        # The kind is unknown (its definition is not installed yet) or the namespace is.
        return {}
    found = _by_name(labelled.items, names)
    missing = [name for name in names if names[name] not in found]
    if len(missing) > _FEW:
        everything = kube.list(api_version, kind, namespace or None, not_older_than=version)
        found.update(_by_name(everything.items, names))
    else:
        for name in missing:
            try:
                found[names[name]] = kube.get(api_version, kind, name, namespace or None)
            except NotFound:
                continue
    return found


def _by_name(items: list[Object], names: dict[str, ObjectId]) -> dict[ObjectId, Object]:
    return {names[n]: item for item in items if (n := item["metadata"]["name"]) in names}
