"""Where each app stands: in sync with git or not, and how healthy (pure).

``OutOfSync`` means git holds something the cluster has not been given yet (a new
revision, a failed sync); ``Drifted`` means the cluster was in sync with these very
manifests and has since been changed by someone else.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from hakobu.cluster.api import KubeApi
from hakobu.health import HealthRules, HealthStatus, assess, settled, worst
from hakobu.model.dependencies import Graph
from hakobu.model.fleet import suspended
from hakobu.model.project import Environment, Project
from hakobu.model.rollout import rollout_in_progress
from hakobu.sync.dependencies import desired_graph
from hakobu.sync.manifests import read_desired
from hakobu.sync.observe import AppState, observe
from hakobu.sync.plan import Action
from hakobu.sync.waiting import gates_rollout


class SyncState(enum.StrEnum):
    SYNCED = "Synced"
    OUT_OF_SYNC = "OutOfSync"
    DRIFTED = "Drifted"
    # What git wants cannot be known (a SealedSecret no key opens): neither in sync nor
    # drifted.
    UNKNOWN = "Unknown"
    # Left alone by every sync, as asked (a fleet instance's suspend: true), whatever git
    # has for it: as Flux shows a suspended Kustomization.
    SUSPENDED = "Suspended"


@dataclass(frozen=True)
class AppStatus:
    app: str
    sync: SyncState
    health: HealthStatus
    differing: tuple[str, ...]
    unhealthy: tuple[str, ...]
    # The apps it is synced after (dependsOn), and of those the ones that are not Synced
    # and Healthy, while it is not Synced itself: what a sync of it waits for.
    depends_on: tuple[str, ...] = ()
    waiting_for: tuple[str, ...] = ()
    # The lines of ``unhealthy`` that are aborted rollouts (canary or blue-green).
    aborted_rollouts: tuple[str, ...] = ()

    @property
    def good(self) -> bool:
        """Synced, and Healthy or Suspended: nothing to do and nothing wrong."""
        return self.sync in (SyncState.SYNCED, SyncState.SUSPENDED) and settled(self.health)


_ROLLOUT_HEALTH = {
    "Degraded": HealthStatus.DEGRADED,
    "Paused": HealthStatus.SUSPENDED,
    "Inconclusive": HealthStatus.SUSPENDED,
}

_ALWAYS_COUNTED = frozenset({HealthStatus.DEGRADED, HealthStatus.MISSING})


def environment_status(
    kube: KubeApi,
    project: Project,
    env: Environment,
    *,
    revision: str | None = None,
    keys_namespace: str | None = None,
) -> list[AppStatus]:
    """Every app of ``env`` as git has it (the work tree, or ``revision``) against the cluster."""
    desired = read_desired(project, env, revision)
    graph = desired_graph(desired)
    states = observe(kube, project, env, desired, keys_namespace=keys_namespace)
    return with_dependencies([app_status(state, project.health) for state in states], graph)


def with_dependencies(statuses: list[AppStatus], graph: Graph) -> list[AppStatus]:
    """``statuses`` with what each app depends on and, unless it is Synced, waits for."""
    by_app = {s.app: s for s in statuses}
    result = []
    for status in statuses:
        names = graph.get(status.app, ())
        waiting = (
            tuple(
                f"{name} ({by_app[name].sync}, {by_app[name].health})"
                for name in names
                if name in by_app and not by_app[name].good
            )
            if status.sync is not SyncState.SYNCED
            else ()
        )
        result.append(replace(status, depends_on=names, waiting_for=waiting))
    return result


def app_status(state: AppState, rules: HealthRules) -> AppStatus:
    """Where one app stands; its objects' health judged under the project's ``rules``."""
    differing = [
        f"{step.resource.ref} ({step.action})"
        for step in state.plan.steps
        if step.action in (Action.CREATE, Action.UPDATE)
    ]
    differing += [f"{c.entry.id} (prune)" for c in state.plan.prunes]
    if state.plan.changes(pruning=False):
        # A change of hooks alone makes the app OutOfSync too: a sync has them to run.
        differing += [
            f"{step.resource.ref} (hook: {step.action})"
            for step in state.plan.steps
            if step.resource.hook
        ]
    differing += [blocked.message for blocked in state.blocked]
    if suspended(step.resource.obj for step in state.plan.steps):
        sync = SyncState.SUSPENDED
    elif state.blocked:
        sync = SyncState.UNKNOWN
    elif not differing:
        sync = SyncState.SYNCED
    elif state.inventory is not None and state.inventory.digest == state.digest:
        sync = SyncState.DRIFTED
    else:
        sync = SyncState.OUT_OF_SYNC
    statuses = []
    unhealthy: list[str] = []
    aborted: list[str] = []
    for step in state.plan.steps:
        if step.resource.hook:
            continue
        live = state.live.get(step.resource.id)
        health = assess(live, rules) if live is not None else None
        status = health.status if health is not None else HealthStatus.MISSING
        # An Ingress still waiting for an address (or an autoscaler for metrics) is shown,
        # but only its failure counts for the app, as only that would have stopped a sync.
        counts = gates_rollout(step.resource.obj) or status in _ALWAYS_COUNTED
        statuses.append(status if counts else HealthStatus.HEALTHY)
        if status is not HealthStatus.HEALTHY:
            message = f": {health.message}" if health is not None and health.message else ""
            unhealthy.append(f"{step.resource.ref} {status}{message}")
        rollout = rollout_in_progress(live) if live is not None else None
        if rollout is not None:
            # A canary in progress is the app's state: an aborted one Degrades it, one
            # waiting for a person suspends it.
            statuses.append(_ROLLOUT_HEALTH.get(rollout[0], HealthStatus.PROGRESSING))
            unhealthy.append(f"{step.resource.ref} {rollout[1]}")
            if rollout[0] == "Degraded":
                aborted.append(unhealthy[-1])
    return AppStatus(
        state.name,
        sync,
        worst(statuses),
        tuple(differing),
        tuple(unhealthy),
        aborted_rollouts=tuple(aborted),
    )
