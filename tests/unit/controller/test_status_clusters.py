"""The status of a Delivery whose environment names its clusters: each cluster's own
revision, sync and health, and conditions that name the cluster in trouble."""

from __future__ import annotations

from hakobu.controller.status import ClusterPass, PassReport, Problem, build_status, combine
from hakobu.health.status import HealthStatus
from hakobu.sync import AppStatus
from hakobu.sync.status import SyncState

OLD = "1111111111111111111111111111111111111111"
NEW = "2222222222222222222222222222222222222222"
AT = "2026-12-03T10:00:00Z"


def web(sync: SyncState, health: HealthStatus, *unhealthy: str) -> AppStatus:
    return AppStatus("web", sync, health, (), unhealthy)


def test_every_cluster_applied_and_healthy_is_ready() -> None:
    healthy = PassReport(3, NEW, [web(SyncState.SYNCED, HealthStatus.HEALTHY)], applied=True)
    report = combine(3, None, [ClusterPass("eu", healthy), ClusterPass("us", healthy)])
    status = build_status({}, report, at=AT)
    assert status["clusters"] == [
        {
            "name": name,
            "lastAppliedRevision": NEW,
            "revision": NEW[:12],
            "sync": "Synced",
            "health": "Healthy",
        }
        for name in ("eu", "us")
    ]
    assert [a["name"] for a in status["apps"]] == ["eu/web", "us/web"]
    assert (status["lastAppliedRevision"], status["sync"], status["health"]) == (
        NEW,
        "Synced",
        "Healthy",
    )
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Succeeded")


def test_a_cluster_in_trouble_is_named_and_the_others_keep_their_part() -> None:
    previous = {
        "clusters": [
            {"name": "eu", "lastAppliedRevision": OLD, "revision": OLD[:12]},
            {"name": "us", "lastAppliedRevision": OLD, "sync": "Synced", "health": "Healthy"},
        ]
    }
    eu = PassReport(
        4,
        NEW,
        [web(SyncState.SYNCED, HealthStatus.DEGRADED, "Deployment/shop/web: deadline exceeded")],
        sync_failure="web: Deployment/shop/web Degraded",
    )
    us = PassReport(
        4, None, (), problem=Problem("InvalidSecret", "Secret shop/hakobu-cluster-us: gone", True)
    )
    asia = PassReport(4, NEW, [web(SyncState.SYNCED, HealthStatus.HEALTHY)], applied=True)
    report = combine(
        4, AT, [ClusterPass("eu", eu), ClusterPass("us", us), ClusterPass("asia", asia)]
    )
    assert report.revision == NEW and not report.applied
    status = build_status(previous, report, at=AT)

    clusters = {c["name"]: c for c in status["clusters"]}
    # eu tried NEW and failed: it still runs OLD.
    assert clusters["eu"]["lastAppliedRevision"] == OLD
    assert (clusters["eu"]["health"], clusters["eu"]["message"]) == (
        "Degraded",
        "web: Deployment/shop/web Degraded",
    )
    # us could not be read: what was known of it stays.
    assert (clusters["us"]["sync"], clusters["us"]["health"]) == ("Synced", "Healthy")
    assert clusters["us"]["message"] == "Secret shop/hakobu-cluster-us: gone"
    assert clusters["asia"]["lastAppliedRevision"] == NEW

    said = {c["type"]: c for c in status["conditions"]}
    assert (said["Ready"]["status"], said["Ready"]["reason"]) == ("False", "InvalidSecret")
    assert said["Ready"]["message"] == "cluster us: Secret shop/hakobu-cluster-us: gone"
    assert said["Stalled"]["status"] == "True"
    assert said["Synced"]["message"] == "cluster eu: web: Deployment/shop/web Degraded"
    assert said["Healthy"]["message"] == "eu/web: Deployment/shop/web: deadline exceeded"
    assert status["lastHandledReconcileAt"] == AT


def test_a_pass_that_fails_early_keeps_the_clusters_and_one_cluster_again_drops_them() -> None:
    healthy = PassReport(3, NEW, [web(SyncState.SYNCED, HealthStatus.HEALTHY)], applied=True)
    previous = build_status({}, combine(3, None, [ClusterPass("eu", healthy)]), at=AT)

    failed = PassReport(4, None, (), problem=Problem("FetchFailed", "no answer", True))
    assert build_status(previous, failed, at=AT)["clusters"] == previous["clusters"]

    single = PassReport(5, NEW, [web(SyncState.SYNCED, HealthStatus.HEALTHY)], applied=True)
    assert build_status(previous, single, at=AT)["clusters"] is None
    assert "clusters" not in build_status({}, single, at=AT)


def test_the_earliest_rollout_step_of_any_cluster_is_when_the_next_pass_is_due() -> None:
    healthy = PassReport(3, NEW, [web(SyncState.SYNCED, HealthStatus.HEALTHY)], applied=True)
    passes = [
        ClusterPass("eu", healthy),
        ClusterPass("us", PassReport(3, NEW, (), applied=True, rollout_due=1_060.0)),
        ClusterPass("ap", PassReport(3, NEW, (), applied=True, rollout_due=1_030.0)),
    ]
    assert combine(3, None, passes).rollout_due == 1_030.0
    assert combine(3, None, passes[:1]).rollout_due is None
