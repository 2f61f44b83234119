"""One piece of work on every cluster of an environment, in parallel, each failing alone.

An environment that lists ``clusters`` in ``hakobu.yaml`` is synced, diffed, observed and
checked on each of them. The work runs on a thread per cluster (the sync engine is plain
blocking code, and the time goes into waiting on API servers); a cluster that cannot be
reached, or whose work fails, gives its own outcome and leaves the others to finish.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Generic, TypeVar

from hakobu.cluster.errors import Unreachable
from hakobu.errors import HakobuError
from hakobu.model.clusters import Cluster

T = TypeVar("T")
# A client of one cluster (a KubeClient), opened and closed around the work.
C = TypeVar("C")


class Reach(enum.StrEnum):
    # The work ran to its end: whether it went well is for its value to say.
    DONE = "Done"
    UNREACHABLE = "Unreachable"
    # The client could not be made, or the work raised an error of its own.
    FAILED = "Failed"


@dataclass(frozen=True)
class ClusterOutcome(Generic[T]):
    cluster: Cluster
    reach: Reach
    value: T | None = None
    # Why there is no value, for a person: the error's message and hint.
    error: str | None = None
    exit_code: int = 0


def fan_out(
    clusters: Sequence[Cluster],
    connect: Callable[[Cluster], AbstractContextManager[C]],
    work: Callable[[Cluster, C], T],
) -> list[ClusterOutcome[T]]:
    """``work`` on a client of each cluster, all at once; outcomes in the order given."""
    return each_cluster(clusters, lambda cluster: _one(cluster, connect, work))


def each_cluster(clusters: Sequence[Cluster], work: Callable[[Cluster], T]) -> list[T]:
    """``work`` for each cluster on a thread of its own; results in the order given.

    ``work`` is to catch what one cluster may fail with: an error it raises is raised here
    once every cluster's work has ended."""
    if not clusters:
        return []
    with ThreadPoolExecutor(max_workers=len(clusters), thread_name_prefix="cluster") as pool:
        futures = [pool.submit(work, cluster) for cluster in clusters]
        return [future.result() for future in futures]


def _one(
    cluster: Cluster,
    connect: Callable[[Cluster], AbstractContextManager[C]],
    work: Callable[[Cluster, C], T],
) -> ClusterOutcome[T]:
    try:
        with connect(cluster) as kube:
            return ClusterOutcome(cluster, Reach.DONE, work(cluster, kube))
    except Unreachable as e:
        return ClusterOutcome(cluster, Reach.UNREACHABLE, error=str(e), exit_code=e.exit_code)
    except HakobuError as e:
        return ClusterOutcome(cluster, Reach.FAILED, error=str(e), exit_code=e.exit_code)
