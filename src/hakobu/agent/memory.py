"""What the agent knows about past revisions, kept in the cluster so a restart keeps it.

The sync records (``hakobu.sync.record``: a ConfigMap per sync, the newest 20 per
environment) already hold each sync's revision and result. When a revision stays healthy
through its ``autoRollback`` window, the agent annotates the newest record of that content
``hakobu.dev/stayed-healthy: "<window seconds>"``; on start, the newest record so
annotated names the revision automatic rollbacks return to. Only what an agent watched
itself is marked, as before a restart: a revision merely left running for a while is not
known good.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import NotFound
from hakobu.sync.ownership import ENVIRONMENT_LABEL, PROJECT_LABEL, RECORD_LABEL
from hakobu.sync.run import Outcome

STAYED_HEALTHY = "hakobu.dev/stayed-healthy"


@dataclass(frozen=True)
class Recorded:
    record: str  # the ConfigMap's name
    revision: str
    succeeded: bool
    stayed_healthy: bool


def records(kube: KubeApi, namespace: str, project: str, env: str) -> list[Recorded]:
    """The environment's sync records, newest first."""
    selector = f"{RECORD_LABEL}=true,{PROJECT_LABEL}={project},{ENVIRONMENT_LABEL}={env}"
    try:
        found = kube.list("v1", "ConfigMap", namespace, label_selector=selector)
    except NotFound:
        return []
    out = []
    for item in found.items:
        metadata = item["metadata"]
        result = _result(item.get("data") or {})
        out.append(
            Recorded(
                record=str(metadata["name"]),
                revision=str(result.get("revision", "")),
                succeeded=result.get("result") == Outcome.SUCCEEDED,
                stayed_healthy=STAYED_HEALTHY in (metadata.get("annotations") or {}),
            )
        )
    # Record names carry their UTC time, so they sort by it.
    return sorted(out, key=lambda r: r.record, reverse=True)


def last_good(found: list[Recorded]) -> Recorded | None:
    return next((r for r in found if r.succeeded and r.stayed_healthy), None)


def remember_good(
    kube: KubeApi,
    namespace: str,
    found: list[Recorded],
    same_content: Callable[[str], bool],
    window: float,
) -> Recorded | None:
    """Mark the newest successful record of a revision with the same content as the one
    that stayed healthy; None when no record of it is left."""
    for recorded in found:
        if not (recorded.succeeded and same_content(recorded.revision)):
            continue
        path = kube.resource("v1", "ConfigMap").object_path(recorded.record, namespace)
        try:
            kube.request(
                "PATCH",
                path,
                body={"metadata": {"annotations": {STAYED_HEALTHY: f"{window:g}"}}},
                content_type="application/merge-patch+json",
            )
        except NotFound:
            # Rotated out just now; an older record of the same content may remain.
            continue
        return recorded
    return None


def _result(data: dict[str, Any]) -> dict[str, Any]:
    try:
        result = json.loads(data.get("result.json") or "{}")
    except ValueError:
        # Someone else's edit; a record that cannot be read tells nothing.
        return {}
    return result if isinstance(result, dict) else {}
