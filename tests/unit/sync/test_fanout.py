"""Work on every cluster of an environment at once, each cluster failing alone."""

from __future__ import annotations

import threading
from types import TracebackType

import pytest

from hakobu.cluster.errors import Unreachable
from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.clusters import Cluster
from hakobu.sync.fanout import ClusterOutcome, Reach, each_cluster, fan_out

EU, US, ASIA = Cluster("eu", "prod-eu"), Cluster("us", "prod-us"), Cluster("asia", "asia")


class FakeClient:
    def __init__(self, cluster: Cluster, closed: list[str]) -> None:
        self.cluster = cluster
        self._closed = closed

    def __enter__(self) -> FakeClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, _: BaseException | None, __: TracebackType | None
    ) -> None:
        self._closed.append(self.cluster.name)


def test_every_cluster_works_at_once_and_outcomes_keep_the_order_given() -> None:
    closed: list[str] = []
    # Each cluster's work waits for the others': it ends only if all run at the same time.
    together = threading.Barrier(3, timeout=10)

    def work(cluster: Cluster, kube: FakeClient) -> str:
        together.wait()
        return f"{cluster.name} via {kube.cluster.context}"

    outcomes = fan_out([EU, US, ASIA], lambda c: FakeClient(c, closed), work)
    assert outcomes == [
        ClusterOutcome(EU, Reach.DONE, "eu via prod-eu"),
        ClusterOutcome(US, Reach.DONE, "us via prod-us"),
        ClusterOutcome(ASIA, Reach.DONE, "asia via asia"),
    ]
    assert sorted(closed) == ["asia", "eu", "us"]


def test_an_unreachable_cluster_and_a_failing_one_fail_only_their_part() -> None:
    closed: list[str] = []

    def connect(cluster: Cluster) -> FakeClient:
        if cluster is US:
            raise Unreachable("connection refused", hint="start it")
        if cluster is ASIA:
            raise InvalidInput("no context named 'asia'")
        return FakeClient(cluster, closed)

    outcomes = fan_out([EU, US, ASIA], connect, lambda cluster, _: cluster.name)
    assert [(o.cluster, o.reach, o.value) for o in outcomes] == [
        (EU, Reach.DONE, "eu"),
        (US, Reach.UNREACHABLE, None),
        (ASIA, Reach.FAILED, None),
    ]
    assert outcomes[1].error == "connection refused\n  hint: start it"
    assert outcomes[1].exit_code == 3
    assert outcomes[2].error == "no context named 'asia'"
    assert outcomes[2].exit_code == 2
    assert closed == ["eu"]


def test_work_that_fails_closes_its_client_and_leaves_the_others() -> None:
    closed: list[str] = []

    def work(cluster: Cluster, _: FakeClient) -> str:
        if cluster is EU:
            raise OperationFailed("the lock is held by someone else")
        return cluster.name

    outcomes = fan_out([EU, US], lambda c: FakeClient(c, closed), work)
    assert [(o.reach, o.value, o.error) for o in outcomes] == [
        (Reach.FAILED, None, "the lock is held by someone else"),
        (Reach.DONE, "us", None),
    ]
    assert sorted(closed) == ["eu", "us"]


def test_an_error_that_is_not_a_users_is_raised_once_all_have_ended() -> None:
    finished: list[str] = []

    def work(cluster: Cluster) -> str:
        if cluster is EU:
            raise KeyError("a bug")
        finished.append(cluster.name)
        return cluster.name

    with pytest.raises(KeyError, match="a bug"):
        each_cluster([EU, US], work)
    assert finished == ["us"]


def test_no_clusters_no_work() -> None:
    assert fan_out([], lambda c: FakeClient(c, []), lambda c, _: c.name) == []
