"""Kubernetes Events (``v1``): what happened to an object, as ``kubectl describe`` and
``kubectl get events`` show it for every controller."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hakobu.cluster.api import KubeApi


def record_event(
    kube: KubeApi,
    involved: Mapping[str, Any],
    *,
    reason: str,
    message: str,
    component: str,
    warning: bool = False,
    annotations: Mapping[str, str] | None = None,
) -> None:
    """An Event on ``involved`` (apiVersion, kind, name, namespace, and uid where known),
    in that object's namespace."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    metadata: dict[str, Any] = {
        "generateName": f"{involved['name']}.",
        "namespace": involved["namespace"],
    }
    if annotations:
        metadata["annotations"] = dict(annotations)
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": metadata,
            "involvedObject": dict(involved),
            "reason": reason,
            "message": message,
            "type": "Warning" if warning else "Normal",
            "source": {"component": component},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
    )
