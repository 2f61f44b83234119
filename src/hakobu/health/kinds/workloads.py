"""Deployment, StatefulSet, DaemonSet and ReplicaSet: rollouts measured in replicas.

The checks follow ``kubectl rollout status`` (as Argo CD's do): first the controller must
have observed the latest spec, then the new replicas must exist, the old ones must be gone
and the new ones must be available.
"""

from __future__ import annotations

from hakobu.health.fields import (
    Payload,
    condition,
    flag,
    generation_observed,
    integer,
    name,
    shown,
    text,
)
from hakobu.health.status import Health, HealthStatus

HEALTHY = Health(HealthStatus.HEALTHY)


def _progressing(message: str) -> Health:
    return Health(HealthStatus.PROGRESSING, message)


def _desired_replicas(obj: Payload) -> int:
    # The API server defaults spec.replicas to 1; a file may leave it out.
    return integer(obj, "spec", "replicas", default=1)


def deployment(obj: Payload) -> Health:
    if flag(obj, "spec", "paused"):
        return Health(HealthStatus.SUSPENDED, "Deployment is paused")
    if _desired_replicas(obj) == 0 and integer(obj, "status", "replicas") == 0:
        # Nothing to roll out and nothing to wind down: whatever the controller makes of
        # the new spec, no Pod will run, so waiting for it to observe the spec (seconds per
        # Deployment when many arrive at once) tells nothing.
        return HEALTHY
    if not generation_observed(obj):
        return _progressing(
            "Waiting for rollout to finish: observed deployment generation less than desired "
            "generation"
        )
    progress = condition(obj, "Progressing")
    if progress is not None and progress.reason == "ProgressDeadlineExceeded":
        return Health(
            HealthStatus.DEGRADED, f"Deployment {shown(name(obj))} exceeded its progress deadline"
        )
    return _deployment_replicas(obj)


def _deployment_replicas(obj: Payload) -> Health:
    desired = _desired_replicas(obj)
    replicas = integer(obj, "status", "replicas")
    updated = integer(obj, "status", "updatedReplicas")
    available = integer(obj, "status", "availableReplicas")
    if updated < desired:
        return _progressing(
            f"Waiting for rollout to finish: {updated} out of {desired} new replicas have been "
            "updated..."
        )
    if replicas > updated:
        return _progressing(
            f"Waiting for rollout to finish: {replicas - updated} old replicas are pending "
            "termination..."
        )
    if available < updated:
        return _progressing(
            f"Waiting for rollout to finish: {available} of {updated} updated replicas are "
            "available..."
        )
    return HEALTHY


def statefulset(obj: Payload) -> Health:
    # A StatefulSet's controller always writes observedGeneration; until it has, nothing
    # else in the status describes the current spec.
    if integer(obj, "status", "observedGeneration") == 0 or not generation_observed(obj):
        return _progressing("Waiting for statefulset spec update to be observed...")
    desired = _desired_replicas(obj)
    ready = integer(obj, "status", "readyReplicas")
    updated = integer(obj, "status", "updatedReplicas")
    if ready < desired:
        return _progressing(f"Waiting for {desired - ready} pods to be ready...")
    if text(obj, "spec", "updateStrategy", "type") == "OnDelete":
        # Pods are replaced only when someone deletes them: there is no rollout to wait for.
        return Health(
            HealthStatus.HEALTHY, f"statefulset has {ready} ready pods ({updated} updated)"
        )
    partition = integer(obj, "spec", "updateStrategy", "rollingUpdate", "partition")
    if partition > 0:
        return _partitioned_rollout(updated, max(desired - partition, 0))
    return _statefulset_rollout(obj, desired, updated)


def _partitioned_rollout(updated: int, target: int) -> Health:
    # Only ordinals >= partition are updated: a canary held on purpose, complete once those
    # pods are.
    if updated < target:
        return _progressing(
            f"Waiting for partitioned roll out to finish: {updated} out of {target} new pods "
            "have been updated..."
        )
    return Health(
        HealthStatus.HEALTHY,
        f"partitioned roll out complete: {updated} new pods have been updated...",
    )


def _statefulset_rollout(obj: Payload, desired: int, updated: int) -> Health:
    # currentRevision becomes updateRevision only once every pod runs the new revision.
    update_revision = text(obj, "status", "updateRevision")
    current_revision = text(obj, "status", "currentRevision")
    if updated < desired or update_revision != current_revision:
        return _progressing(
            f"waiting for statefulset rolling update to complete {updated} pods at revision "
            f"{update_revision}..."
        )
    current = integer(obj, "status", "currentReplicas")
    return Health(
        HealthStatus.HEALTHY,
        f"statefulset rolling update complete {current} pods at revision {current_revision}...",
    )


def daemonset(obj: Payload) -> Health:
    if not generation_observed(obj):
        return _progressing(
            "Waiting for rollout to finish: observed daemon set generation less than desired "
            "generation"
        )
    desired = integer(obj, "status", "desiredNumberScheduled")
    updated = integer(obj, "status", "updatedNumberScheduled")
    available = integer(obj, "status", "numberAvailable")
    if text(obj, "spec", "updateStrategy", "type") == "OnDelete":
        return Health(
            HealthStatus.HEALTHY,
            f"daemon set {updated} out of {desired} new pods have been updated",
        )
    if updated < desired:
        return _progressing(
            f"Waiting for daemon set {shown(name(obj))} rollout to finish: {updated} out of "
            f"{desired} new pods have been updated..."
        )
    if available < desired:
        return _progressing(
            f"Waiting for daemon set {shown(name(obj))} rollout to finish: {available} of "
            f"{desired} updated pods are available..."
        )
    return HEALTHY


def replicaset(obj: Payload) -> Health:
    if not generation_observed(obj):
        return _progressing(
            "Waiting for rollout to finish: observed replica set generation less than desired "
            "generation"
        )
    failure = condition(obj, "ReplicaFailure")
    if failure is not None and failure.true:
        return Health(HealthStatus.DEGRADED, failure.message or failure.reason)
    desired = _desired_replicas(obj)
    available = integer(obj, "status", "availableReplicas")
    if available < desired:
        return _progressing(
            f"Waiting for rollout to finish: {available} out of {desired} new replicas are "
            "available..."
        )
    return HEALTHY
