"""What hakobu owns: labels on every applied object, and an inventory per app.

The labels say which project, environment and app an object belongs to; the inventory —
a ConfigMap ``hakobu-inventory-<app>`` in the environment's namespace — lists what hakobu
applied, so pruning deletes only objects it once created and no label query across every
kind of the cluster is needed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import NotFound
from hakobu.model.objects import Object, ObjectId

FIELD_MANAGER = "hakobu"
PROJECT_LABEL = "hakobu.dev/project"
ENVIRONMENT_LABEL = "hakobu.dev/environment"
APP_LABEL = "hakobu.dev/app"
INVENTORY_LABEL = "hakobu.dev/inventory"
DIGEST_ANNOTATION = "hakobu.dev/desired-digest"
# On each sync record (``record``), which carries the project's and environment's labels.
RECORD_LABEL = "hakobu.dev/sync-record"
# Keys sorted; non-string keys (YAML allows them) written as strings, as json.dumps does.
_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


@dataclass(frozen=True)
class Owner:
    project: str
    environment: str
    app: str

    @property
    def labels(self) -> dict[str, str]:
        return {
            PROJECT_LABEL: self.project,
            ENVIRONMENT_LABEL: self.environment,
            APP_LABEL: self.app,
        }

    @property
    def selector(self) -> str:
        """A label selector matching what ``stamp`` labels."""
        return ",".join(f"{key}={value}" for key, value in self.labels.items())

    def owns(self, obj: Object) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(labels.get(key) == value for key, value in self.labels.items())


def stamp(obj: Object, owner: Owner) -> Object:
    """A copy of ``obj`` carrying the owner's labels. Only its metadata is new: the rest is
    shared with ``obj``, which nothing changes afterwards (a deep copy of every manifest
    costs more than the rest of a no-op sync)."""
    metadata = obj.get("metadata") or {}
    labels = {**(metadata.get("labels") or {}), **owner.labels}
    return {**obj, "metadata": {**metadata, "labels": labels}}


@dataclass(frozen=True, order=True)
class InventoryEntry:
    id: ObjectId
    api_version: str


@dataclass(frozen=True)
class Inventory:
    app: str
    entries: frozenset[InventoryEntry]
    # What the app's manifests were at the last sync, to tell drift from a new revision.
    digest: str


def inventory_name(app: str) -> str:
    return f"hakobu-inventory-{app}"


def digest(objects: Iterable[Object]) -> str:
    canonical = sorted(orjson.dumps(obj, default=str, option=_CANONICAL) for obj in objects)
    return hashlib.sha256(b"\n".join(canonical)).hexdigest()


def read_inventories(
    kube: KubeApi, namespace: str, owner_project: str, env: str
) -> tuple[dict[str, Inventory], str]:
    """The inventory of every app of this project and environment in the cluster, by app,
    from one request; and the resourceVersion it was read at ("" if unknown)."""
    try:
        found = kube.list(
            "v1",
            "ConfigMap",
            namespace,
            label_selector=f"{INVENTORY_LABEL},{PROJECT_LABEL}={owner_project},"
            f"{ENVIRONMENT_LABEL}={env}",
        )
    except NotFound:
        return {}, ""
    inventories = {}
    for item in found.items:
        app = str(item["metadata"]["labels"][INVENTORY_LABEL])
        # The label alone could be copied onto another ConfigMap; the name is the app's.
        if item["metadata"]["name"] == inventory_name(app):
            inventories[app] = _parse(app, item)
    return inventories, found.resource_version


def delete_empty_inventories(kube: KubeApi, namespace: str, project: str, env: str) -> int:
    """Delete the inventories of this project and environment that list nothing (what is
    left once everything an app deployed was pruned); how many went."""
    inventories, _ = read_inventories(kube, namespace, project, env)
    return sum(
        delete_inventory(kube, namespace, app)
        for app, inventory in sorted(inventories.items())
        if not inventory.entries
    )


def delete_inventory(kube: KubeApi, namespace: str, app: str) -> bool:
    """Delete ``app``'s inventory; False when there was none."""
    try:
        kube.delete("v1", "ConfigMap", inventory_name(app), namespace)
    except NotFound:
        return False
    return True


def write_inventory(
    kube: KubeApi,
    namespace: str,
    owner: Owner,
    *,
    entries: Iterable[InventoryEntry],
    desired_digest: str,
    previous: Inventory | None,
) -> bool:
    """Store the inventory unless it is already exactly this; True when it wrote."""
    entries = frozenset(entries)
    if previous is not None and previous.entries == entries and previous.digest == desired_digest:
        return False
    listing = [
        {
            "apiVersion": e.api_version,
            "kind": e.id.kind,
            "namespace": e.id.namespace,
            "name": e.id.name,
        }
        for e in sorted(entries)
    ]
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": inventory_name(owner.app),
                "namespace": namespace,
                "labels": {**owner.labels, INVENTORY_LABEL: owner.app},
                "annotations": {DIGEST_ANNOTATION: desired_digest},
            },
            "data": {"objects": json.dumps(listing, indent=1, sort_keys=True)},
        },
        field_manager=FIELD_MANAGER,
        force=True,
    )
    return True


def _parse(app: str, configmap: Object) -> Inventory:
    raw = (configmap.get("data") or {}).get("objects") or "[]"
    items: list[dict[str, Any]] = orjson.loads(raw)
    entries = frozenset(
        InventoryEntry(
            ObjectId(
                item["apiVersion"].rpartition("/")[0],
                item["kind"],
                item.get("namespace") or "",
                item["name"],
            ),
            item["apiVersion"],
        )
        for item in items
    )
    annotations = (configmap.get("metadata") or {}).get("annotations") or {}
    return Inventory(app, entries, str(annotations.get(DIGEST_ANNOTATION, "")))


def namespace_ending(kube: KubeApi, namespace: str) -> bool:
    """Whether ``namespace`` is gone or being deleted (nothing can be created in it)."""
    try:
        live = kube.get("v1", "Namespace", namespace)
    except NotFound:
        return True
    return bool(live["metadata"].get("deletionTimestamp"))


def ensure_namespace(kube: KubeApi, project: str, env: str, namespace: str) -> bool:
    """Create the environment's namespace when it is missing, as Argo CD's CreateNamespace
    does; True when it was created. hakobu.yaml declares it, so it is hakobu's to create,
    but it is in no app's inventory: pruning an app never deletes it."""
    try:
        kube.get("v1", "Namespace", namespace)
    except NotFound:
        labels = {PROJECT_LABEL: project, ENVIRONMENT_LABEL: env}
        kube.apply(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": namespace, "labels": labels},
            },
            field_manager=FIELD_MANAGER,
        )
        return True
    return False
