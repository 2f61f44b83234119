"""Kinds that extend or partition the API: APIService, CustomResourceDefinition, Namespace."""

from __future__ import annotations

from hakobu.health.fields import Payload, condition, conditions, text
from hakobu.health.status import Health, HealthStatus


def apiservice(obj: Payload) -> Health:
    available = condition(obj, "Available")
    if available is None:
        return Health(HealthStatus.PROGRESSING, "Waiting to be processed")
    # An aggregated API that is down (FailedDiscoveryCheck, MissingEndpoints) usually comes
    # back once its backing Deployment is ready, so it counts as still progressing.
    status = HealthStatus.HEALTHY if available.true else HealthStatus.PROGRESSING
    return Health(status, f"{available.reason}: {available.message}".strip(": "))


def customresourcedefinition(obj: Payload) -> Health:
    found = {c.type: c for c in conditions(obj)}
    if not found:
        return Health(HealthStatus.PROGRESSING, "Status conditions not found")
    terminating = found.get("Terminating")
    if terminating is not None and terminating.true:
        return Health(HealthStatus.PROGRESSING, f"CRD is being terminated: {terminating.message}")
    names = found.get("NamesAccepted")
    if names is not None and names.false:
        return Health(HealthStatus.DEGRADED, f"CRD names have not been accepted: {names.message}")
    established = found.get("Established")
    if established is None or not established.true:
        detail = established.message if established is not None else "no Established condition"
        return Health(HealthStatus.DEGRADED, f"CRD is not established: {detail}")
    violations = found.get("NonStructuralSchema")
    if violations is not None and violations.true:
        return Health(HealthStatus.DEGRADED, f"Schema violations found: {violations.message}")
    return Health(HealthStatus.HEALTHY, "CRD is established")


def namespace(obj: Payload) -> Health:
    if text(obj, "status", "phase") == "Terminating":
        return Health(HealthStatus.PROGRESSING, "Namespace is terminating")
    return Health(HealthStatus.HEALTHY)
