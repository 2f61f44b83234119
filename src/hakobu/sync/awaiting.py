"""Dependencies a sync does not itself sync (``--app``): they must be Healthy in the cluster.

A dependency that is on its way (Progressing, Unknown) is read again until it settles or
the sync's deadline passes; one that is Degraded, or not in the cluster at all, is not
waited for: nothing this sync does would change it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from hakobu.cluster.api import KubeApi
from hakobu.health import HealthStatus, settled
from hakobu.model.project import Environment, Project
from hakobu.sync.manifests import DesiredState
from hakobu.sync.observe import observe
from hakobu.sync.status import AppStatus, app_status

_HOPELESS = frozenset({HealthStatus.DEGRADED, HealthStatus.MISSING})


def unready_dependencies(
    kube: KubeApi,
    project: Project,
    env: Environment,
    desired: DesiredState,
    names: Sequence[str],
    *,
    deadline: float,
    wait: bool,
    workers: int,
    keys_namespace: str | None,
    interval: float = 2.0,
    progress: Callable[[str], None] = lambda _: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """What keeps ``names`` from being Healthy, one line each (``db: Degraded …``); empty
    when all are. With ``wait``, dependencies that may still settle are read again every
    ``interval`` seconds until ``deadline``."""
    pending = list(names)
    while True:
        statuses = [
            app_status(state, project.health)
            for name in pending
            for state in observe(
                kube,
                project,
                env,
                desired,
                only_app=name,
                workers=workers,
                keys_namespace=keys_namespace,
            )
        ]
        unready = [s for s in statuses if not settled(s.health)]
        if (
            not unready
            or not wait
            or any(s.health in _HOPELESS for s in unready)
            or clock() + interval > deadline
        ):
            return [_why(s) for s in unready]
        progress(f"waiting for {', '.join(s.app for s in unready)} to be Healthy")
        pending = [s.app for s in unready]
        sleep(interval)


def _why(status: AppStatus) -> str:
    detail = f" ({status.unhealthy[0]})" if status.unhealthy else ""
    return f"{status.app}: {status.health}{detail}"
