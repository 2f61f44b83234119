"""Read what the cluster holds for an environment and plan every app against it.

The only requests are reads: the apps' inventories and one GET per object, a few at a time.
``diff``, ``status`` and ``sync`` all start here.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.errors import InvalidInput
from hakobu.model.objects import Object, ObjectId
from hakobu.model.project import Environment, Project
from hakobu.sync.manifests import DesiredState
from hakobu.sync.ownership import (
    Inventory,
    Owner,
    digest,
    inventory_apps,
    read_inventory,
)
from hakobu.sync.plan import AppPlan, Resource, plan_app, resource_of


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
    in_cluster = inventory_apps(kube, env.namespace, project.name, env.name)
    names = sorted({app.name for app in desired.apps} | set(in_cluster))
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
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [
            _observe_app(kube, pool, Owner(project.name, env.name, name), env, resources[name])
            for name in names
        ]


def _observe_app(
    kube: KubeClient,
    pool: ThreadPoolExecutor,
    owner: Owner,
    env: Environment,
    resources: list[Resource],
) -> AppState:
    inventory = read_inventory(kube, env.namespace, owner.app)
    wanted: dict[ObjectId, tuple[str, str, str, str | None]] = {}
    for resource in resources:
        if not resource.hook:
            meta = resource.obj["metadata"]
            wanted[resource.id] = (
                resource.obj["apiVersion"],
                resource.id.kind,
                meta["name"],
                meta.get("namespace"),
            )
    for entry in inventory.entries if inventory else ():
        wanted.setdefault(
            entry.id,
            (entry.api_version, entry.id.kind, entry.id.name, entry.id.namespace or None),
        )
    ids = list(wanted)
    live = dict(zip(ids, pool.map(lambda oid: _get(kube, *wanted[oid]), ids), strict=True))
    plan = plan_app(owner, resources, live, inventory.entries if inventory else ())
    state_digest = digest(r.obj for r in resources)
    return AppState(plan, inventory, live, state_digest)


def _get(
    kube: KubeClient, api_version: str, kind: str, name: str, namespace: str | None
) -> Object | None:
    try:
        return kube.get(api_version, kind, name, namespace)
    except NotFound:
        # Also when the kind itself is unknown: its definition is not installed yet.
        return None
