"""An app's status across an environment's clusters is its worst cluster's."""

from __future__ import annotations

from hakobu.health.status import HealthStatus
from hakobu.sync.clusterstatus import across_clusters, worst_health, worst_sync
from hakobu.sync.status import AppStatus, SyncState

SYNCED, HEALTHY = SyncState.SYNCED, HealthStatus.HEALTHY


def app(name: str, sync: SyncState = SYNCED, health: HealthStatus = HEALTHY) -> AppStatus:
    unhealthy = () if health is HEALTHY else (f"Deployment/{name}: {health}",)
    return AppStatus(name, sync, health, (), unhealthy)


def test_healthy_only_when_healthy_on_every_cluster() -> None:
    combined = across_clusters(
        [
            ("one", [app("shops-berlin"), app("shops-paris")]),
            ("two", [app("shops-berlin", health=HealthStatus.DEGRADED), app("shops-paris")]),
        ]
    )
    berlin, paris = combined
    assert (berlin.app, berlin.sync, berlin.health) == ("shops-berlin", SYNCED, "Degraded")
    assert berlin.unhealthy == ("cluster two: Deployment/shops-berlin: Degraded",)
    assert not berlin.good
    assert (paris.health, paris.good) == (HEALTHY, True)


def test_the_worst_cluster_is_said_first() -> None:
    (web,) = across_clusters(
        [
            ("one", [app("web", health=HealthStatus.PROGRESSING)]),
            ("two", [app("web", health=HealthStatus.DEGRADED)]),
        ]
    )
    assert web.unhealthy == (
        "cluster two: Deployment/web: Degraded",
        "cluster one: Deployment/web: Progressing",
    )


def test_an_app_a_cluster_does_not_report_is_missing_there() -> None:
    (only,) = across_clusters([("one", [app("web")]), ("two", [])])
    assert (only.sync, only.health) == (SyncState.OUT_OF_SYNC, HealthStatus.MISSING)
    assert only.unhealthy == ("cluster two: not deployed on this cluster",)


def test_the_worst_state_wins_and_an_unknown_one_counts_as_unknown() -> None:
    assert worst_sync(["Synced", "Suspended"]) is SyncState.SUSPENDED
    assert worst_sync(["Synced", "Drifted", "OutOfSync"]) is SyncState.OUT_OF_SYNC
    assert worst_health(["Healthy", "Progressing"]) is HealthStatus.PROGRESSING
    assert worst_health(["Healthy", "Sideways"]) is HealthStatus.UNKNOWN
    assert worst_health([]) is HealthStatus.MISSING
