"""The controller as the dashboard shows it: its replicas and shards (the Leases they hold
in the controller's namespace) beside the Deliveries."""

from __future__ import annotations

from typing import Any

from hakobu.cluster.api import KubeApi
from hakobu.controller.membership import ROLE_LABEL, SHARDS_LABEL
from hakobu.controller.sharding import SHARD_LABEL
from hakobu.errors import HakobuError


def leases(kube: KubeApi, namespace: str) -> dict[str, Any]:
    """Members and shards with their holders; ``error`` when they cannot be read."""
    try:
        items = kube.list(
            "coordination.k8s.io/v1", "Lease", namespace, label_selector=ROLE_LABEL
        ).items
    except HakobuError as e:
        return {"namespace": namespace, "members": [], "shards": [], "error": e.message}
    members, shards = [], []
    for item in sorted(items, key=_order):
        labels = item["metadata"].get("labels") or {}
        spec = item.get("spec") or {}
        row = {
            "lease": item["metadata"]["name"],
            "holder": spec.get("holderIdentity") or "",
            "renewed": spec.get("renewTime") or "",
            "shards": labels.get(SHARDS_LABEL, ""),
        }
        if labels.get(ROLE_LABEL) == "shard":
            shards.append({**row, "shard": labels.get(SHARD_LABEL, "")})
        else:
            members.append(row)
    return {"namespace": namespace, "members": members, "shards": shards, "error": None}


def _order(item: dict[str, Any]) -> tuple[str, int, str]:
    labels = item["metadata"].get("labels") or {}
    shard = str(labels.get(SHARD_LABEL, ""))
    return (str(labels.get(ROLE_LABEL, "")), int(shard) if shard.isdigit() else -1, "")
