"""Any other kind, judged by the conventions most controllers follow.

The order is kstatus's (sigs.k8s.io/cli-utils): an unobserved spec first, then the
abnormal-true conditions ``Stalled`` (gave up) and ``Reconciling`` (still working), then
the usual positive conditions ``Ready`` and ``Available``. Objects without a status —
ConfigMaps, Secrets, ServiceAccounts, RBAC — exist, and that is all they need.
"""

from __future__ import annotations

from hakobu.health.fields import Payload, conditions, flag, optional_integer, text
from hakobu.health.status import Health, HealthStatus


def generic(obj: Payload) -> Health:
    # Many controllers (Flux, Jobs, CronJobs, Argo Workflows) share spec.suspend.
    if flag(obj, "spec", "suspend"):
        return Health(HealthStatus.SUSPENDED, f"{text(obj, 'kind')} is suspended")
    generation = optional_integer(obj, "metadata", "generation")
    observed = optional_integer(obj, "status", "observedGeneration")
    # Only a controller that reports observedGeneration can be held to it.
    if generation is not None and observed is not None and observed < generation:
        return Health(
            HealthStatus.PROGRESSING,
            f"{text(obj, 'kind')} generation is {generation}, but latest observed generation "
            f"is {observed}",
        )
    return _from_conditions(obj)


def _from_conditions(obj: Payload) -> Health:
    by_type = {c.type: c for c in conditions(obj)}
    stalled, reconciling = by_type.get("Stalled"), by_type.get("Reconciling")
    if stalled is not None and stalled.true:
        return Health(HealthStatus.DEGRADED, stalled.message or stalled.reason)
    if reconciling is not None and reconciling.true:
        return Health(HealthStatus.PROGRESSING, reconciling.message or reconciling.reason)
    for positive in ("Ready", "Available"):
        found = by_type.get(positive)
        if found is None:
            continue
        if found.true:
            return Health(HealthStatus.HEALTHY, found.message)
        # Not Ready is not failure: a controller that has given up says so with Stalled.
        return Health(
            HealthStatus.PROGRESSING, found.message or found.reason or f"{positive} is not True"
        )
    return Health(HealthStatus.HEALTHY)
