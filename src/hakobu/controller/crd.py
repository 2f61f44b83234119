"""The CustomResourceDefinition of ``deliveries.hakobu.dev``.

The schema refuses what it can (types, required fields, the duration pattern), so most
mistakes are told by ``kubectl apply`` itself.
"""

from __future__ import annotations

from typing import Any

from hakobu.controller.crdschema import CONDITIONS, MESSAGE_COLUMN, READY_COLUMN, definition
from hakobu.controller.delivery import KIND, PLURAL

# Go's time.ParseDuration units, as metav1.Duration accepts them.
_DURATION = r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"


def _duration(description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": _DURATION, "description": description}


def _secret_ref(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": ["name"],
        "properties": {"name": {"type": "string", "minLength": 1}},
    }


_SPEC: dict[str, Any] = {
    "type": "object",
    "required": ["repository", "environment"],
    "properties": {
        "repository": {
            "type": "object",
            "required": ["url"],
            "properties": {
                "url": {"type": "string", "minLength": 1, "description": "the git remote"},
                "branch": {"type": "string", "minLength": 1, "default": "main"},
                "path": {
                    "type": "string",
                    "default": ".",
                    "description": "the directory of hakobu.yaml in the repository",
                },
            },
        },
        "secretRef": _secret_ref(
            "a Secret in this namespace with git credentials (username/password, or "
            "identity/identity.pub/known_hosts) and webhookSecret"
        ),
        "environment": {"type": "string", "minLength": 1},
        "interval": _duration("how often git is polled when no webhook arrives (default 3m)"),
        "timeout": _duration("how long one sync may wait for health (default 5m)"),
        "suspend": {"type": "boolean", "default": False},
        "prune": {"type": "boolean", "default": False},
        "autoRollback": {
            "type": "object",
            "properties": {"window": _duration("roll back a sync that degrades within it")},
        },
        "cluster": {
            "type": "object",
            "description": "another cluster to deliver to (default: the controller's own)",
            "properties": {"secretRef": _secret_ref("a Secret with a kubeconfig in key value")},
        },
        "keysNamespace": {"type": "string", "minLength": 1},
        # Read by the controller with the same rules as hakobu.yaml's section, which tell
        # the field at fault better than a schema could.
        "notifications": {
            "type": "object",
            "description": "targets of this Delivery's own, as notifications: in hakobu.yaml",
            "x-kubernetes-preserve-unknown-fields": True,
        },
    },
}

_STATUS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "observedGeneration": {"type": "integer", "format": "int64"},
        "conditions": CONDITIONS,
        "lastAttemptedRevision": {"type": "string"},
        "lastAppliedRevision": {"type": "string"},
        "revision": {"type": "string", "description": "lastAppliedRevision, shortened"},
        "sync": {"type": "string"},
        "health": {"type": "string"},
        "lastHandledReconcileAt": {"type": "string"},
        "clusters": {
            "type": "array",
            "description": "per cluster of an environment that names its clusters",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "lastAppliedRevision": {"type": "string"},
                    "revision": {"type": "string"},
                    "sync": {"type": "string"},
                    "health": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
        "apps": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "sync": {"type": "string"},
                    "health": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

_COLUMNS = [
    {"name": "Env", "type": "string", "jsonPath": ".spec.environment"},
    {"name": "Revision", "type": "string", "jsonPath": ".status.revision"},
    {"name": "Sync", "type": "string", "jsonPath": ".status.sync"},
    {"name": "Health", "type": "string", "jsonPath": ".status.health"},
    READY_COLUMN,
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    MESSAGE_COLUMN,
]


def delivery_crd() -> dict[str, Any]:
    return definition(KIND, PLURAL, "dlv", spec=_SPEC, status=_STATUS, columns=_COLUMNS)
