"""Pods: phase, container states and what the restart policy says about the pod's life."""

from __future__ import annotations

from hakobu.health.fields import Payload, condition, integer, mapping, mappings, shown, text
from hakobu.health.status import Health, HealthStatus


def pod(obj: Payload) -> Health:
    policy = text(obj, "spec", "restartPolicy") or "Always"
    containers = mappings(obj, "status", "initContainerStatuses") + mappings(
        obj, "status", "containerStatuses"
    )
    # Only a pod that restarts forever is judged by its waiting containers. A pod meant to
    # finish (a hook, a migration) may wait for an image that is still being pushed; calling
    # it failed would fail the hook early and then see it run after all.
    if policy == "Always":
        failing = [m for m in map(_waiting_failure, containers) if m]
        if failing:
            return Health(HealthStatus.DEGRADED, "; ".join(failing))
    phase = text(obj, "status", "phase")
    message = text(obj, "status", "message")
    if phase == "Pending":
        return Health(HealthStatus.PROGRESSING, message or _unschedulable(obj))
    if phase == "Succeeded":
        return Health(HealthStatus.HEALTHY, message)
    if phase == "Failed":
        reasons = [m for m in map(_termination_failure, containers) if m]
        return Health(HealthStatus.DEGRADED, message or (reasons[0] if reasons else "Pod failed"))
    if phase == "Running":
        return _running(obj, policy, containers, message)
    return Health(HealthStatus.UNKNOWN, message or f"Pod phase is {phase or 'not reported'}")


def _running(obj: Payload, policy: str, containers: list[Payload], message: str) -> Health:
    if policy != "Always":
        # A pod meant to finish is not done while it runs.
        return Health(
            HealthStatus.PROGRESSING,
            message or f"Pod is running to completion (restartPolicy {policy})",
        )
    ready = condition(obj, "Ready")
    if ready is not None and ready.true:
        return Health(HealthStatus.HEALTHY, message)
    restarted = [m for m in map(_last_termination, containers) if m]
    if restarted:
        return Health(HealthStatus.DEGRADED, message or restarted[0])
    return Health(HealthStatus.PROGRESSING, message or "Waiting for the pod to be ready")


def _waiting_failure(container: Payload) -> str:
    """Why a container is stuck: CrashLoopBackOff, ImagePullBackOff, ErrImagePull, …"""
    reason = text(container, "state", "waiting", "reason")
    if not (reason.startswith("Err") or reason.endswith(("Error", "BackOff"))):
        return ""
    detail = text(container, "state", "waiting", "message")
    described = f"{reason}: {detail}" if detail else reason
    return f"container {shown(text(container, 'name'))}: {described}"


def _termination_failure(container: Payload) -> str:
    return _failure(container, mapping(container, "state", "terminated"))


def _last_termination(container: Payload) -> str:
    terminated = mapping(container, "lastState", "terminated")
    if not terminated:
        return ""
    reason = text(terminated, "reason")
    restarted = f"container {shown(text(container, 'name'))} restarted"
    return _failure(container, terminated) or (f"{restarted} ({reason})" if reason else restarted)


def _failure(container: Payload, terminated: Payload) -> str:
    if not terminated:
        return ""
    message, reason = text(terminated, "message"), text(terminated, "reason")
    if message:
        return message
    name = text(container, "name")
    if reason == "OOMKilled":
        return f"container {shown(name)} was OOMKilled"
    code = integer(terminated, "exitCode")
    return f"container {shown(name)} failed with exit code {code}" if code else ""


def _unschedulable(obj: Payload) -> str:
    scheduled = condition(obj, "PodScheduled")
    if scheduled is not None and scheduled.false:
        return scheduled.message or scheduled.reason
    return ""
