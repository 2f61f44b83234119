"""An app's status across an environment's clusters is its worst cluster's; one that
cannot be read fails the reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import Unreachable
from hakobu.errors import OperationFailed
from hakobu.health.status import HealthStatus
from hakobu.model.clusters import Cluster
from hakobu.model.project import load_project
from hakobu.sync.clusterstatus import (
    across_clusters,
    statuses_on_every_cluster,
    worst_health,
    worst_sync,
)
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


def test_a_cluster_that_cannot_be_read_fails_the_reading_naming_it(tmp_path: Path) -> None:
    (tmp_path / "hakobu.yaml").write_text(
        "apiVersion: hakobu.dev/v1alpha1\nkind: Project\nname: shop\nenvironments:\n"
        "  dev:\n    namespace: dev\n    clusters: [{name: eu, context: eu}]\n"
    )
    project = load_project(tmp_path)

    def connect(cluster: Cluster) -> KubeClient:
        raise Unreachable(f"cannot reach {cluster.name}.example:6443")

    with pytest.raises(OperationFailed) as failed:
        statuses_on_every_cluster(connect, project, project.environment("dev"))
    assert "environment dev: not every cluster could be read" in failed.value.message
    assert "cluster eu: Unreachable: cannot reach eu.example:6443" in failed.value.message
