"""A FleetInstance's ``status``: whether it is written to git, and how its app stands.

``Written`` says whether the current generation is in the repository (``commit``) or why
not: ``Committed``; ``InvalidSpec`` (the spec cannot be read: tried again when it
changes); ``Refused`` (the fleet in git does not accept it: tried again when the spec
changes or the repository moves); ``DeliveryNotFound`` (tried again when the Delivery
appears); ``WriteFailed`` (git could not be read or pushed to: retried with backoff). See
``fleetretry``. ``Ready`` is True once the
instance is written and the Delivery has applied that commit, Synced and Healthy; otherwise
its reason says what is awaited or wrong (``Suspended`` for an instance whose file says
``suspend: true``, whoever set it). A condition's ``lastTransitionTime`` moves only
when its status does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hakobu.health.status import HealthStatus
from hakobu.sync.clusterstatus import worst_health, worst_sync
from hakobu.sync.status import SyncState

COMMITTED = "Committed"
INVALID_SPEC = "InvalidSpec"
REFUSED = "Refused"
DELIVERY_NOT_FOUND = "DeliveryNotFound"
WRITE_FAILED = "WriteFailed"
# Reasons that wait for a change (of the spec; for Refused, of the repository too) rather
# than for another try.
PARKED = (INVALID_SPEC, REFUSED)
_MESSAGE_LIMIT = 1024
_SUSPENDED = "suspended (suspend: true in its file): every sync leaves its objects as they are"


@dataclass(frozen=True)
class Writing:
    """What the last write of a generation came to."""

    generation: int
    reason: str
    message: str
    commit: str | None = None


@dataclass(frozen=True)
class Deployed:
    """The instance's app as its Delivery last found it; ``applied``: whether the revision
    the Delivery applied holds the commit that wrote the instance."""

    applied: bool
    sync: str | None
    health: str | None
    # The Delivery's Ready reason and message when it tried a revision holding the commit
    # and did not apply it (on one of its clusters, say): what the instance waits on.
    failed: tuple[str, str] | None = None


def app_state(delivery_status: dict[str, Any], app: str) -> tuple[str | None, str | None]:
    """``app``'s sync and health in a Delivery's status (None: not reported). In an
    environment of several clusters (``status.clusters``) the entries are
    ``<cluster>/<app>``: the app is as good as its worst cluster, and counts as OutOfSync
    and Missing on one that does not report it."""
    entries = {str(a.get("name")): a for a in delivery_status.get("apps") or []}
    clusters = [str(c.get("name")) for c in delivery_status.get("clusters") or []]
    if not clusters:
        entry = entries.get(app) or {}
        return entry.get("sync"), entry.get("health")
    found = [entries.get(f"{cluster}/{app}") or {} for cluster in clusters]
    return (
        str(worst_sync(str(e.get("sync") or SyncState.OUT_OF_SYNC) for e in found)),
        str(worst_health(str(e.get("health") or HealthStatus.MISSING) for e in found)),
    )


def written_status(
    previous: dict[str, Any], writing: Writing, *, at: str | None = None
) -> dict[str, Any]:
    """The status after a write; the commit of an earlier generation stays until replaced."""
    status = {k: v for k, v in previous.items() if k in ("commit", "sync", "health")}
    status["observedGeneration"] = writing.generation
    if writing.commit is not None:
        status["commit"] = writing.commit
    written = ("True" if writing.reason == COMMITTED else "False", writing.reason, writing.message)
    return _with_conditions(previous, status, written, _ready(written, None), at)


def deployed_status(
    previous: dict[str, Any], deployed: Deployed, *, at: str | None = None
) -> dict[str, Any]:
    """The status with the instance's sync and health read back from its Delivery."""
    status = dict(previous)
    sync = deployed.sync if deployed.applied and deployed.sync else str(SyncState.OUT_OF_SYNC)
    health = deployed.health or str(HealthStatus.MISSING)
    status["sync"], status["health"] = sync, health
    old = {c.get("type"): c for c in previous.get("conditions") or []}
    written_condition = old.get("Written") or {}
    written = (
        str(written_condition.get("status", "Unknown")),
        str(written_condition.get("reason", "NotYetWritten")),
        str(written_condition.get("message", "")),
    )
    return _with_conditions(
        previous, status, written, _ready(written, (deployed, sync, health)), at
    )


def _ready(
    written: tuple[str, str, str], deployed: tuple[Deployed, str, str] | None
) -> tuple[str, str, str]:
    if written[0] != "True":
        return ("False", written[1], written[2])
    if deployed is None:
        return ("False", "Syncing", f"{written[2]}; waiting for the Delivery to apply it")
    found, sync, health = deployed
    if not found.applied:
        return _not_applied(found)
    if sync != SyncState.SYNCED:
        return (
            "False",
            sync,
            _SUSPENDED if sync == SyncState.SUSPENDED else f"the instance's app is {sync}",
        )
    if health != HealthStatus.HEALTHY:
        return ("False", health, f"the instance's app is {health}")
    return ("True", "Healthy", "written, applied, Synced and Healthy")


def _not_applied(found: Deployed) -> tuple[str, str, str]:
    if found.failed is not None:
        reason, message = found.failed
        return ("False", reason, f"the Delivery did not apply the commit: {message}")
    return ("False", "Syncing", "waiting for the Delivery to apply the commit")


def _with_conditions(
    previous: dict[str, Any],
    status: dict[str, Any],
    written: tuple[str, str, str],
    ready: tuple[str, str, str],
    at: str | None,
) -> dict[str, Any]:
    at = at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = {c.get("type"): c for c in previous.get("conditions") or []}
    generation = int(status.get("observedGeneration", 0))
    status["conditions"] = [
        _condition(old.get(kind), generation, at, (kind, *said))
        for kind, said in (("Written", written), ("Ready", ready))
    ]
    return status


def _condition(
    previous: dict[str, Any] | None,
    generation: int,
    at: str,
    said: tuple[str, str, str, str],
) -> dict[str, Any]:
    kind, value, reason, message = said
    since = previous["lastTransitionTime"] if previous and previous.get("status") == value else at
    clipped = message if len(message) <= _MESSAGE_LIMIT else message[: _MESSAGE_LIMIT - 1] + "…"
    return {
        "type": kind,
        "status": value,
        "observedGeneration": generation,
        "lastTransitionTime": since,
        "reason": reason,
        "message": clipped,
    }
