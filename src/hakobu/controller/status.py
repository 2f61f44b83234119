"""A Delivery's ``status`` from what its last pass found.

Conditions follow the Kubernetes API conventions: ``Ready`` summarises, ``Synced`` and
``Healthy`` say what the cluster holds, ``Stalled`` says the controller cannot make
progress without someone's help (a wrong spec, a repository it cannot read, an environment
the project lacks). A condition's ``lastTransitionTime`` moves only when its status does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from hakobu.health.status import HealthStatus
from hakobu.sync import AppStatus
from hakobu.sync.clusterstatus import worst_health
from hakobu.sync.status import SyncState

_MESSAGE_LIMIT = 1024


@dataclass(frozen=True)
class Problem:
    """Why a pass could not do its work: ``reason`` is CamelCase, as conditions want."""

    reason: str
    message: str
    # Nothing will change until someone acts (reported as Stalled).
    stalled: bool


@dataclass(frozen=True)
class PassReport:
    generation: int
    revision: str | None
    statuses: Sequence[AppStatus]
    # The sync this pass ran failed, and why.
    sync_failure: str | None = None
    # The revision waits for something (images their registry lacks).
    waiting: str | None = None
    # A sync window holds the sync: which, and when syncs may run again (None: not
    # within the horizon the windows are read for).
    held: str | None = None
    reopens: datetime | None = None
    problem: Problem | None = None
    suspended: bool = False
    # Whether the revision is now what the cluster runs (synced, or already in sync).
    applied: bool = False
    # Another field manager keeps changing what git declares.
    fighting: str | None = None
    handled_reconcile_at: str | None = None
    # When a canary rollout next needs a pass (seconds since the epoch; None: none waits).
    rollout_due: float | None = None
    # An environment that names its clusters: each one's own pass (the fields above then
    # sum them up, naming the cluster of each trouble).
    clusters: tuple[ClusterPass, ...] = ()


@dataclass(frozen=True)
class ClusterPass:
    name: str
    report: PassReport


def combine(generation: int, handled: str | None, passes: Sequence[ClusterPass]) -> PassReport:
    """One report of a pass over several clusters: apps named ``<cluster>/<app>``, and each
    trouble said with the cluster it is in, so Ready names the failing cluster."""

    def named(said: Callable[[PassReport], str | None]) -> str | None:
        parts = [f"cluster {p.name}: {said(p.report)}" for p in passes if said(p.report)]
        return "; ".join(parts) or None

    troubled = [p.report.problem for p in passes if p.report.problem is not None]
    problem = None
    if troubled:
        message = named(lambda r: r.problem.message if r.problem is not None else None)
        problem = Problem(troubled[0].reason, message or "", any(t.stalled for t in troubled))
    reopens = [p.report.reopens for p in passes if p.report.reopens is not None]
    due = [p.report.rollout_due for p in passes if p.report.rollout_due is not None]
    return PassReport(
        generation,
        next((p.report.revision for p in passes if p.report.revision is not None), None),
        tuple(replace(s, app=f"{p.name}/{s.app}") for p in passes for s in p.report.statuses),
        sync_failure=named(lambda r: r.sync_failure),
        waiting=named(lambda r: r.waiting),
        held=named(lambda r: r.held),
        reopens=max(reopens) if reopens else None,
        problem=problem,
        applied=all(p.report.applied for p in passes),
        handled_reconcile_at=handled,
        rollout_due=min(due) if due else None,
        clusters=tuple(passes),
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def summary_health(statuses: Sequence[AppStatus]) -> str:
    if not statuses:
        return str(HealthStatus.UNKNOWN)
    # A Delivery's health is the worst of its apps'.
    return str(worst_health(s.health for s in statuses))


def summary_sync(statuses: Sequence[AppStatus]) -> str:
    if not statuses:
        return str(SyncState.UNKNOWN)
    # A suspended app is left as it is on purpose; its own entry says Suspended.
    if all(s.sync in (SyncState.SYNCED, SyncState.SUSPENDED) for s in statuses):
        return str(SyncState.SYNCED)
    if any(s.sync is SyncState.UNKNOWN for s in statuses):
        return str(SyncState.UNKNOWN)
    return str(SyncState.OUT_OF_SYNC)


def build_status(
    previous: dict[str, Any], report: PassReport, *, at: str | None = None
) -> dict[str, Any]:
    """The new ``status``, keeping from ``previous`` what this pass did not learn."""
    at = at or _now()
    status: dict[str, Any] = {"observedGeneration": report.generation}
    applied = previous.get("lastAppliedRevision")
    if report.revision is not None:
        status["lastAttemptedRevision"] = report.revision
        if report.applied:
            applied = report.revision
    elif "lastAttemptedRevision" in previous:
        status["lastAttemptedRevision"] = previous["lastAttemptedRevision"]
    if applied:
        status["lastAppliedRevision"] = applied
        status["revision"] = applied[:12]
    if report.handled_reconcile_at is not None:
        status["lastHandledReconcileAt"] = report.handled_reconcile_at
    elif "lastHandledReconcileAt" in previous:
        status["lastHandledReconcileAt"] = previous["lastHandledReconcileAt"]
    statuses = report.statuses
    if statuses:
        status["apps"] = [_app(s) for s in sorted(statuses, key=lambda s: s.app)]
        status["sync"], status["health"] = summary_sync(statuses), summary_health(statuses)
    else:
        for key in ("apps", "sync", "health"):
            if key in previous:
                status[key] = previous[key]
    if report.clusters or "clusters" in previous:
        status["clusters"] = _clusters_of(previous, report)
    old = {c.get("type"): c for c in previous.get("conditions") or []}
    status["conditions"] = [
        _condition(old.get(kind), report.generation, at, (kind, value, reason, message))
        for kind, value, reason, message in _conditions(report, status)
    ]
    return status


def _clusters_of(previous: dict[str, Any], report: PassReport) -> list[dict[str, str]] | None:
    if report.clusters:
        return _clusters(previous, report.clusters)
    # A pass that read the project found one cluster: the environment names none any more
    # (status is written as a merge patch, where null removes the list). One that failed
    # before it knew keeps what was known.
    return None if report.revision is not None else list(previous["clusters"])


def _clusters(previous: dict[str, Any], passes: Sequence[ClusterPass]) -> list[dict[str, str]]:
    """Each cluster's revision, sync and health, and what is wrong there; what a pass did
    not learn (a cluster it could not read) kept from the previous status."""
    before = {c.get("name"): c for c in previous.get("clusters") or []}
    entries = []
    for one in passes:
        report, old = one.report, before.get(one.name) or {}
        entry = {"name": one.name}
        applied = report.revision if report.applied else old.get("lastAppliedRevision")
        if applied:
            entry["lastAppliedRevision"], entry["revision"] = applied, applied[:12]
        if report.statuses:
            entry["sync"] = summary_sync(report.statuses)
            entry["health"] = summary_health(report.statuses)
        else:
            entry.update({key: old[key] for key in ("sync", "health") if key in old})
        trouble = (
            (report.problem.message if report.problem is not None else None)
            or report.sync_failure
            or report.held
            or report.waiting
        )
        if trouble:
            entry["message"] = _clip(trouble)
        entries.append(entry)
    return entries


def _app(status: AppStatus) -> dict[str, str]:
    entry = {"name": status.app, "sync": str(status.sync), "health": str(status.health)}
    notes = [
        *(f"waiting for {name}" for name in status.waiting_for),
        *status.differing,
        *status.unhealthy,
    ]
    if notes:
        entry["message"] = _clip("; ".join(notes))
    return entry


def _conditions(report: PassReport, status: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    problem = report.problem
    stalled = (
        ("True", problem.reason, problem.message)
        if problem is not None and problem.stalled
        else ("False", "Progressing", "the controller can make progress")
    )
    synced, healthy = _synced(report, status), _healthy(report, status)
    if report.suspended:
        ready = ("False", "Suspended", "spec.suspend is true: nothing is synced")
    elif problem is not None:
        ready = ("False", problem.reason, problem.message)
    elif report.waiting is not None:
        ready = ("False", "Waiting", report.waiting)
    elif report.held is not None:
        ready = ("False", "SyncWindowClosed", report.held)
    elif synced[0] != "True":
        ready = synced
    elif healthy[0] != "True":
        ready = healthy
    else:
        ready = ("True", "Succeeded", f"revision {status.get('revision')} is applied and Healthy")
    return [
        ("Ready", *ready),
        ("Synced", *synced),
        ("Healthy", *healthy),
        ("Stalled", *stalled),
    ]


def _synced(report: PassReport, status: dict[str, Any]) -> tuple[str, str, str]:
    sync = status.get("sync")
    if report.sync_failure is not None:
        return ("False", "SyncFailed", report.sync_failure)
    if report.fighting is not None:
        return ("False", "DriftFight", report.fighting)
    if report.held is not None:
        return ("False", "SyncWindowClosed", report.held)
    if sync == SyncState.SYNCED:
        return ("True", "Synced", f"the cluster holds revision {status.get('revision')}")
    if sync is None:
        return ("Unknown", "NotYetSynced", "no pass has read the cluster yet")
    return ("False", str(sync), _clip(_listed(report.statuses, "differing")))


def _healthy(report: PassReport, status: dict[str, Any]) -> tuple[str, str, str]:
    health = status.get("health")
    if health == HealthStatus.HEALTHY:
        return ("True", "Healthy", "every app is Healthy")
    if health is None:
        return ("Unknown", "NotYetAssessed", "no pass has read the cluster yet")
    return ("False", str(health), _clip(_listed(report.statuses, "unhealthy")))


def _listed(statuses: Sequence[AppStatus], field: str) -> str:
    items = [f"{s.app}: {item}" for s in statuses for item in getattr(s, field)]
    return "; ".join(items) or "see the apps in status.apps"


def _clip(message: str) -> str:
    return message if len(message) <= _MESSAGE_LIMIT else message[: _MESSAGE_LIMIT - 1] + "…"


def _condition(
    previous: dict[str, Any] | None, generation: int, at: str, said: tuple[str, str, str, str]
) -> dict[str, Any]:
    kind, value, reason, message = said
    since = previous["lastTransitionTime"] if previous and previous["status"] == value else at
    return {
        "type": kind,
        "status": value,
        "observedGeneration": generation,
        "lastTransitionTime": since,
        "reason": reason,
        "message": _clip(message),
    }
