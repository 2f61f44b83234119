"""The CustomResourceDefinition of ``fleetinstances.hakobu.dev``.

The schema refuses what it can (types, names that could not name a file); which tiers and
values a fleet accepts only its ``fleet.yaml`` in git says, so those are checked by the
controller, which reports a refusal in the ``Written`` condition. What names the file (the
Delivery, the fleet, the instance) cannot change: a FleetInstance moved elsewhere would
leave its old file behind, so it is deleted and created anew instead.
"""

from __future__ import annotations

from typing import Any

from hakobu.controller.crdschema import CONDITIONS, MESSAGE_COLUMN, READY_COLUMN, definition
from hakobu.controller.fleetinstance import KIND, NAME_PATTERN, PLURAL


def _fixed(description: str, pattern: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "string",
        "minLength": 1,
        "description": description,
        "x-kubernetes-validations": [
            {"rule": "self == oldSelf", "message": "cannot be changed; delete and create anew"}
        ],
    }
    if pattern is not None:
        schema["pattern"] = pattern
    return schema


_SPEC: dict[str, Any] = {
    "type": "object",
    "required": ["delivery", "fleet", "tier"],
    "x-kubernetes-validations": [
        {
            # Giving the name metadata.name gave, or the other way round, is a change too.
            "rule": "has(self.instance) == has(oldSelf.instance)",
            "message": "spec.instance cannot be changed (set or unset); delete and create anew",
        }
    ],
    "properties": {
        "delivery": _fixed(
            "the Delivery of this namespace whose repository, branch and project the "
            "instance is written to"
        ),
        "fleet": _fixed(
            "the fleet: a directory of the project's apps holding fleet.yaml", NAME_PATTERN
        ),
        "instance": _fixed("the instance's name (default: metadata.name)", NAME_PATTERN),
        "tier": {"type": "string", "minLength": 1, "description": "one of the fleet's tiers"},
        "values": {
            "type": "object",
            "description": "values the fleet's template accepts (fleet.yaml's values)",
            "x-kubernetes-preserve-unknown-fields": True,
        },
        "suspend": {
            "type": "boolean",
            "description": "true: every sync leaves the instance's objects as they are "
            "(the instance file's suspend: true); unset: a person's own suspend: in the file "
            "is kept",
        },
        "maintenance": {
            "type": "boolean",
            "description": "true: the instance renders with the fleet's maintenance: values: "
            "laid over its own; unset: a person's own maintenance: in the file is kept",
        },
    },
}

_STATUS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "observedGeneration": {"type": "integer", "format": "int64"},
        "commit": {"type": "string", "description": "the commit that wrote this generation"},
        "sync": {"type": "string"},
        "health": {"type": "string"},
        "conditions": CONDITIONS,
    },
}

_COLUMNS = [
    {"name": "Fleet", "type": "string", "jsonPath": ".spec.fleet"},
    {"name": "Tier", "type": "string", "jsonPath": ".spec.tier"},
    # As Flux prints it: an instance left alone on purpose shows at a glance.
    {"name": "Suspended", "type": "boolean", "jsonPath": ".spec.suspend"},
    {"name": "Commit", "type": "string", "jsonPath": ".status.commit"},
    {"name": "Sync", "type": "string", "jsonPath": ".status.sync"},
    {"name": "Health", "type": "string", "jsonPath": ".status.health"},
    READY_COLUMN,
    MESSAGE_COLUMN,
]


def fleet_instance_crd() -> dict[str, Any]:
    return definition(KIND, PLURAL, "fi", spec=_SPEC, status=_STATUS, columns=_COLUMNS)
