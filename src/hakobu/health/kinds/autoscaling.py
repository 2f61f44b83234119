"""HorizontalPodAutoscalers: can they read their metrics and scale their target?"""

from __future__ import annotations

import json

from hakobu.health.fields import (
    Condition,
    MalformedField,
    Payload,
    conditions,
    mapping,
    parse_conditions,
)
from hakobu.health.status import Health, HealthStatus

# autoscaling/v1 has no conditions field; the controller stores them in this annotation.
V1_CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"

WAITING = Health(HealthStatus.PROGRESSING, "Waiting to autoscale")


def horizontalpodautoscaler(obj: Payload) -> Health:
    found = _conditions(obj)
    if not found:
        return WAITING
    by_type = {c.type: c for c in found}
    for kind in ("AbleToScale", "ScalingActive"):
        problem = by_type.get(kind)
        if problem is None or not problem.false:
            continue
        if problem.reason == "ScalingDisabled":
            # The target was scaled to zero on purpose: the autoscaler stands aside.
            return Health(HealthStatus.SUSPENDED, problem.message or problem.reason)
        if problem.reason.startswith(("Failed", "Invalid")):
            return Health(HealthStatus.DEGRADED, problem.message or problem.reason)
    able, active = by_type.get("AbleToScale"), by_type.get("ScalingActive")
    if able is not None and able.true and active is not None and active.true:
        # ScalingLimited only says the desired count was clamped to min or max: normal.
        return Health(HealthStatus.HEALTHY, active.message)
    pending = [c for c in (able, active) if c is not None and not c.true]
    if pending:
        return Health(HealthStatus.PROGRESSING, pending[0].message or pending[0].reason)
    return WAITING


def _conditions(obj: Payload) -> list[Condition]:
    found = conditions(obj)
    annotation = mapping(obj, "metadata", "annotations").get(V1_CONDITIONS)
    if found or annotation is None:
        return found
    path = ("metadata", "annotations", V1_CONDITIONS)
    try:
        decoded = json.loads(annotation) if isinstance(annotation, str) else None
    except (ValueError, RecursionError):
        # Not JSON, a number past the interpreter's digit limit, or nested past its stack:
        # all equally not a list of conditions.
        decoded = None
    if not isinstance(decoded, list) or not all(isinstance(item, dict) for item in decoded):
        raise MalformedField(path, annotation, "a JSON list of conditions")
    return parse_conditions(decoded, path)
