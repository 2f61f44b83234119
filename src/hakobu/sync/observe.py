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
from hakobu.sync.manifests import DesiredState
from hakobu.sync.ownership import (
    ENVIRONMENT_LABEL,
    PROJECT_LABEL,
    Inventory,
    Owner,
    digest,
    read_inventories,
)
from hakobu.sync.plan import AppPlan, plan_app, resource_of

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
) -> list[AppState]:
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
    # Validate every app's annotations before any request, so bad input fails fast.
    resources = {
        name: [
            resource_of(m, Owner(project.name, env.name, name)) for m in desired.app(name).manifests
        ]
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
        inventory = inventories.get(name)
        app_live = {oid: live.get(oid) for oid in wanted[name]}
        plan = plan_app(
            Owner(project.name, env.name, name),
            resources[name],
            app_live,
            inventory.entries if inventory else (),
        )
        states.append(AppState(plan, inventory, app_live, digest(r.obj for r in resources[name])))
    return states


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
