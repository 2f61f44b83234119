"""When the agent syncs: git changed for its environment, or the cluster drifted."""

from __future__ import annotations

from hakobu.agent.decide import Settled, cluster_reason, differences, env_changed
from hakobu.health import HealthStatus
from hakobu.sync.status import AppStatus, SyncState


def status(app: str, sync: SyncState) -> AppStatus:
    return AppStatus(app, sync, HealthStatus.HEALTHY, (), ())


def test_a_changed_tree_is_a_reason_an_unchanged_one_is_not() -> None:
    assert env_changed("a" * 40, "b" * 40) == "generated files changed"
    assert env_changed("a" * 40, None) == "generated files removed"
    assert env_changed("a" * 40, "a" * 40) is None
    assert env_changed(None, None) is None


def test_before_the_first_sync_only_the_cluster_can_tell() -> None:
    assert env_changed(None, "b" * 40) is None


def test_drifted_and_out_of_sync_apps_are_named() -> None:
    statuses = [
        status("api", SyncState.DRIFTED),
        status("db", SyncState.SYNCED),
        status("web", SyncState.OUT_OF_SYNC),
        status("worker", SyncState.DRIFTED),
    ]
    assert cluster_reason(statuses) == "drift in api, worker; out of sync: web"


def test_a_synced_cluster_needs_nothing() -> None:
    assert cluster_reason([status("api", SyncState.SYNCED), status("db", SyncState.SYNCED)]) is None
    assert cluster_reason([]) is None


def differing(app: str, *items: str) -> AppStatus:
    return AppStatus(app, SyncState.DRIFTED, HealthStatus.HEALTHY, items, ())


def test_a_settled_state_holds_only_while_tree_and_differences_stay() -> None:
    left = differences(
        [differing("web", "ConfigMap/ns/old (prune)"), status("db", SyncState.SYNCED)]
    )
    assert left == frozenset({"web: ConfigMap/ns/old (prune)"})
    settled = Settled("a" * 40, left, "1 difference")
    assert settled.holds("a" * 40, differences([differing("web", "ConfigMap/ns/old (prune)")]))
    assert not settled.holds("b" * 40, left)
    # The same object differing in another app is another difference.
    assert not settled.holds("a" * 40, differences([differing("api", "ConfigMap/ns/old (prune)")]))
    assert not settled.holds(
        "a" * 40,
        differences([differing("web", "ConfigMap/ns/old (prune)", "Deployment/ns/web (update)")]),
    )
    assert not settled.holds("a" * 40, frozenset())
