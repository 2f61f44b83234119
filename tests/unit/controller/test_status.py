"""A Delivery's status from a pass's report: conditions, summaries, what is kept."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hakobu.controller.status import PassReport, Problem, build_status
from hakobu.health.status import HealthStatus
from hakobu.sync import AppStatus
from hakobu.sync.status import SyncState

REVISION = "0123456789abcdef0123456789abcdef01234567"


def app(name: str, sync: SyncState, health: HealthStatus, *notes: str) -> AppStatus:
    return AppStatus(
        name,
        sync,
        health,
        tuple(n for n in notes if "(" in n),
        tuple(n for n in notes if "(" not in n),
    )


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}


def test_applied_and_healthy_is_ready() -> None:
    report = PassReport(
        2,
        REVISION,
        [
            app("web", SyncState.SYNCED, HealthStatus.HEALTHY),
            app("db", SyncState.SYNCED, HealthStatus.HEALTHY),
        ],
        applied=True,
        handled_reconcile_at="2026-12-03T10:00:00Z",
    )
    status = build_status({}, report, at="2026-12-03T10:00:01Z")
    assert status["lastAppliedRevision"] == status["lastAttemptedRevision"] == REVISION
    assert status["revision"] == REVISION[:12]
    assert (status["sync"], status["health"]) == ("Synced", "Healthy")
    assert [a["name"] for a in status["apps"]] == ["db", "web"]
    assert status["observedGeneration"] == 2
    assert status["lastHandledReconcileAt"] == "2026-12-03T10:00:00Z"
    assert conditions(status) == {
        "Ready": ("True", "Succeeded"),
        "Synced": ("True", "Synced"),
        "Healthy": ("True", "Healthy"),
        "Stalled": ("False", "Progressing"),
    }


def test_the_worst_health_and_a_failed_sync_are_reported() -> None:
    report = PassReport(
        1,
        REVISION,
        [
            app("web", SyncState.OUT_OF_SYNC, HealthStatus.PROGRESSING, "Deployment/web (update)"),
            app("db", SyncState.SYNCED, HealthStatus.DEGRADED, "Deployment/db Degraded: crash"),
        ],
        sync_failure="web: admission refused",
    )
    status = build_status({"lastAppliedRevision": "f" * 40}, report)
    assert status["lastAppliedRevision"] == "f" * 40  # kept: this revision did not apply
    assert (status["sync"], status["health"]) == ("OutOfSync", "Degraded")
    found = conditions(status)
    assert found["Synced"] == ("False", "SyncFailed")
    assert found["Healthy"] == ("False", "Degraded")
    assert found["Ready"] == ("False", "SyncFailed")
    messages = {c["type"]: c["message"] for c in status["conditions"]}
    assert "db: Deployment/db Degraded: crash" in messages["Healthy"]


def test_a_stalled_pass_keeps_what_was_known_and_transition_times_move_only_on_change() -> None:
    good = build_status(
        {},
        PassReport(1, REVISION, [app("web", SyncState.SYNCED, HealthStatus.HEALTHY)], applied=True),
        at="T1",
    )
    stalled = build_status(
        good,
        PassReport(
            1, None, (), problem=Problem("FetchFailed", "fetching x: refused", stalled=True)
        ),
        at="T2",
    )
    assert stalled["lastAppliedRevision"] == REVISION and stalled["apps"] == good["apps"]
    found = {c["type"]: c for c in stalled["conditions"]}
    assert (found["Stalled"]["status"], found["Stalled"]["reason"]) == ("True", "FetchFailed")
    assert found["Stalled"]["lastTransitionTime"] == "T2"
    assert found["Ready"]["lastTransitionTime"] == "T2"
    assert found["Synced"]["lastTransitionTime"] == "T1"  # still True: no transition


def test_waiting_suspended_and_fighting() -> None:
    synced = [app("web", SyncState.SYNCED, HealthStatus.HEALTHY)]
    waiting = build_status({}, PassReport(1, REVISION, synced, waiting="waiting for images: x"))
    assert conditions(waiting)["Ready"] == ("False", "Waiting")
    assert "lastAppliedRevision" not in waiting
    suspended = build_status({}, PassReport(1, None, (), suspended=True))
    assert conditions(suspended)["Ready"] == ("False", "Suspended")
    assert conditions(suspended)["Synced"] == ("Unknown", "NotYetSynced")
    fight = build_status(
        {}, PassReport(1, REVISION, synced, applied=True, fighting="hpa keeps changing")
    )
    assert conditions(fight)["Synced"] == ("False", "DriftFight")


def test_an_app_says_what_it_waits_for() -> None:
    web = replace(
        app("web", SyncState.OUT_OF_SYNC, HealthStatus.MISSING, "Deployment/web (create)"),
        depends_on=("db",),
        waiting_for=("db (Synced, Degraded)",),
    )
    report = PassReport(1, REVISION, [web], sync_failure="web: waiting for db: Failed")
    (entry,) = build_status({}, report)["apps"]
    assert entry["message"] == "waiting for db (Synced, Degraded); Deployment/web (create)"


def test_a_sync_held_by_a_window_says_which_and_until_when() -> None:
    behind = [app("web", SyncState.OUT_OF_SYNC, HealthStatus.HEALTHY)]
    why = (
        "deny window syncWindows[0] ('0 22 * * *' for 1h) is open from 2026-12-03 22:00 UTC "
        "to 2026-12-03 23:00 UTC; syncs run again at 2026-12-03 23:00 UTC"
    )
    held = build_status({}, PassReport(1, REVISION, behind, held=why))
    assert conditions(held)["Ready"] == ("False", "SyncWindowClosed")
    assert conditions(held)["Synced"] == ("False", "SyncWindowClosed")
    ready = next(c for c in held["conditions"] if c["type"] == "Ready")
    assert ready["message"] == why
    assert conditions(held)["Stalled"][0] == "False"
    assert "lastAppliedRevision" not in held
