"""PersistentVolumeClaims: bound to a volume or not."""

from __future__ import annotations

from hakobu.health.fields import Payload, text
from hakobu.health.status import Health, HealthStatus


def persistentvolumeclaim(obj: Payload) -> Health:
    phase = text(obj, "status", "phase")
    volume = text(obj, "spec", "volumeName")
    if phase == "Bound":
        return Health(HealthStatus.HEALTHY, f"bound to volume {volume}" if volume else "")
    if phase == "Pending":
        return Health(HealthStatus.PROGRESSING, "Waiting for the claim to be bound to a volume")
    if phase == "Lost":
        return Health(HealthStatus.DEGRADED, f"the claim lost its volume {volume}".rstrip())
    return Health(HealthStatus.UNKNOWN, f"claim phase is {phase or 'not reported'}")
