"""An app's status across the clusters of an environment that names several: as good as
its worst cluster.

An environment listing ``clusters`` runs each of its apps on every one of them, so an app
is Healthy only when Healthy on all, Degraded when Degraded on any, and Synced only when
Synced everywhere; a cluster that does not report the app counts as OutOfSync and Missing
there. What is wrong is said with the cluster it is in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager

from hakobu.cluster.api import KubeApi
from hakobu.errors import OperationFailed
from hakobu.health.status import HealthStatus
from hakobu.model.clusters import Cluster
from hakobu.model.project import Environment, Project
from hakobu.sync.fanout import Reach, fan_out
from hakobu.sync.status import AppStatus, SyncState, environment_status

# Worst first: a group's health is the worst of its members'.
HEALTH_ORDER = (
    HealthStatus.DEGRADED,
    HealthStatus.MISSING,
    HealthStatus.UNKNOWN,
    HealthStatus.PROGRESSING,
    HealthStatus.SUSPENDED,
    HealthStatus.HEALTHY,
)
# Worst first, as HEALTH_ORDER: Synced only when every member is.
SYNC_ORDER = (
    SyncState.OUT_OF_SYNC,
    SyncState.DRIFTED,
    SyncState.UNKNOWN,
    SyncState.SUSPENDED,
    SyncState.SYNCED,
)


def worst_health(healths: Iterable[str]) -> HealthStatus:
    """The worst of ``healths`` (a value hakobu does not know counts as Unknown)."""
    known = [HealthStatus(h) if h in set(HEALTH_ORDER) else HealthStatus.UNKNOWN for h in healths]
    return min(known, key=HEALTH_ORDER.index, default=HealthStatus.MISSING)


def worst_sync(states: Iterable[str]) -> SyncState:
    """The worst of ``states`` (a value hakobu does not know counts as Unknown)."""
    known = [SyncState(s) if s in set(SYNC_ORDER) else SyncState.UNKNOWN for s in states]
    return min(known, key=SYNC_ORDER.index, default=SyncState.OUT_OF_SYNC)


def across_clusters(per_cluster: Sequence[tuple[str, Sequence[AppStatus]]]) -> list[AppStatus]:
    """One status per app of any cluster (``(cluster name, its apps)`` in the
    environment's order), each the worst of the app's on every cluster."""
    names = sorted({s.app for _, statuses in per_cluster for s in statuses})
    found = {(cluster, s.app): s for cluster, statuses in per_cluster for s in statuses}
    combined = []
    for app in names:
        each = [(cluster, found.get((cluster, app)) or _missing(app)) for cluster, _ in per_cluster]
        combined.append(
            AppStatus(
                app,
                worst_sync(s.sync for _, s in each),
                worst_health(s.health for _, s in each),
                _said(each, lambda s: s.differing),
                # The worst cluster's first: a halt names the first line.
                _said(_worst_first(each), lambda s: s.unhealthy),
                depends_on=each[0][1].depends_on,
                waiting_for=tuple(sorted({w for _, s in each for w in s.waiting_for})),
                aborted_rollouts=_said(each, lambda s: s.aborted_rollouts),
            )
        )
    return combined


def statuses_on_every_cluster(
    connect: Callable[[Cluster], AbstractContextManager[KubeApi]],
    project: Project,
    env: Environment,
    *,
    keys_namespace: str | None = None,
) -> list[AppStatus]:
    """``env``'s apps read from each of its clusters at once, summed up
    (``across_clusters``); OperationFailed naming each cluster that could not be read, as
    nothing can be judged without it."""
    outcomes = fan_out(
        env.clusters,
        connect,
        lambda _, kube: environment_status(kube, project, env, keys_namespace=keys_namespace),
    )
    failed = [o for o in outcomes if o.reach is not Reach.DONE or o.value is None]
    if failed:
        said = "; ".join(f"cluster {o.cluster.name}: {o.reach}: {o.error}" for o in failed)
        raise OperationFailed(
            f"environment {env.name}: not every cluster could be read ({said})",
            hint="reach every cluster, or read one alone with --cluster NAME",
        )
    return across_clusters([(o.cluster.name, o.value or []) for o in outcomes])


def _worst_first(each: Sequence[tuple[str, AppStatus]]) -> list[tuple[str, AppStatus]]:
    return sorted(each, key=lambda one: HEALTH_ORDER.index(worst_health([one[1].health])))


def _missing(app: str) -> AppStatus:
    return AppStatus(
        app, SyncState.OUT_OF_SYNC, HealthStatus.MISSING, (), ("not deployed on this cluster",)
    )


def _said(
    each: Sequence[tuple[str, AppStatus]], lines: Callable[[AppStatus], tuple[str, ...]]
) -> tuple[str, ...]:
    return tuple(f"cluster {cluster}: {line}" for cluster, s in each for line in lines(s))
