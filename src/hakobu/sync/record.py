"""A record of every sync that changed something, kept in the cluster.

Each is a ConfigMap ``hakobu-sync-<env>-<UTC time>`` in the environment's namespace holding
the ``SyncResult`` as JSON; the newest ``KEEP`` per environment are kept. A sync that found
nothing to do writes no record, so a no-op sync stays free of writes.

A ConfigMap holds at most 1 MiB, which the results of a few thousand apps pass. A record
too large keeps, of its apps, only those that did not succeed or have something to say
(what readers of the history look for), as many as fit, and says how many it left out
(``apps_left_out``); the sync's totals stay whole.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import NotFound
from hakobu.sync.ownership import ENVIRONMENT_LABEL, PROJECT_LABEL, RECORD_LABEL
from hakobu.sync.run import Outcome, SyncResult

KEEP = 20
# Below the API server's 1 MiB for a ConfigMap, leaving room for its metadata.
MAX_RECORD_BYTES = 1_000_000


def record_name(env: str, when: datetime) -> str:
    return f"hakobu-sync-{env}-{when.astimezone(UTC):%Y%m%d-%H%M%S-%f}"


def write_record(kube: KubeApi, namespace: str, result: SyncResult) -> str:
    name = record_name(result.env, datetime.now(UTC))
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {
                    RECORD_LABEL: "true",
                    PROJECT_LABEL: result.project,
                    ENVIRONMENT_LABEL: result.env,
                },
            },
            "data": {"result.json": recorded_json(result)},
        }
    )
    for old in _names(kube, namespace, result.project, result.env)[:-KEEP]:
        try:
            kube.delete("v1", "ConfigMap", old, namespace, propagation="Background")
        except NotFound:
            continue
    return name


def recorded_json(result: SyncResult, limit: int = MAX_RECORD_BYTES) -> str:
    """``result`` as its record holds it: whole when it fits in ``limit`` bytes."""
    data = asdict(result)
    text = json.dumps(data, indent=1, sort_keys=True)
    if len(text.encode()) <= limit:
        return text
    apps = [
        app
        for app, outcome in zip(data["apps"], result.apps, strict=True)
        if outcome.result is not Outcome.SUCCEEDED or outcome.messages
    ]
    while True:
        data["apps"] = apps
        data["apps_left_out"] = len(result.apps) - len(apps)
        text = json.dumps(data, sort_keys=True)
        if len(text.encode()) <= limit or not apps:
            return text
        # Drop a share at a time: a record of thousands of failed apps fits in a few steps.
        apps = apps[: len(apps) * 3 // 4]


def record_sync(kube: KubeApi, namespace: str, result: SyncResult) -> str | None:
    """Record ``result`` unless it changed nothing at the revision recorded last: a sync
    that brings a new revision (a rollback that only restores what runs) is history even
    when it writes nothing, a repeated no-op is not, unless it overrode a sync window.
    Returns the record's name, if any."""
    if result.dry_run:
        return None
    if not result.changed and result.window_override is None:
        recorded = history(kube, namespace, result.project, result.env)
        if recorded and recorded[-1].get("revision") == result.revision:
            return None
    return write_record(kube, namespace, result)


def history(kube: KubeApi, namespace: str, project: str, env: str) -> list[dict[str, Any]]:
    """The recorded results, oldest first."""
    found = kube.list("v1", "ConfigMap", namespace, label_selector=_selector(project, env))
    records = sorted(found.items, key=lambda item: str(item["metadata"]["name"]))
    results = []
    for item in records:
        data: dict[str, Any] = json.loads((item.get("data") or {}).get("result.json", "{}"))
        data["record"] = item["metadata"]["name"]
        results.append(data)
    return results


def _names(kube: KubeApi, namespace: str, project: str, env: str) -> list[str]:
    found = kube.list("v1", "ConfigMap", namespace, label_selector=_selector(project, env))
    return sorted(str(item["metadata"]["name"]) for item in found.items)


def _selector(project: str, env: str) -> str:
    return f"{RECORD_LABEL}=true,{PROJECT_LABEL}={project},{ENVIRONMENT_LABEL}={env}"
