"""Waiting until objects are settled: Healthy or Suspended, or certainly failed (Degraded).

Objects are read again every ``interval`` seconds, each round with a few requests in
parallel. Hook Jobs are waited on the same way: Complete is Healthy, Failed is Degraded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.health import Health, HealthStatus, assess
from hakobu.model.objects import Object, object_ref

SETTLED = frozenset({HealthStatus.HEALTHY, HealthStatus.SUSPENDED})
FINAL = SETTLED | {HealthStatus.DEGRADED}


@dataclass(frozen=True)
class Waited:
    obj: Object
    health: Health

    @property
    def ref(self) -> str:
        return object_ref(self.obj)

    @property
    def ok(self) -> bool:
        return self.health.status in SETTLED


def current_health(kube: KubeClient, obj: Object) -> tuple[Object, Health]:
    meta = obj["metadata"]
    try:
        live = kube.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
    except NotFound:
        return obj, Health(HealthStatus.MISSING, "not found in the cluster")
    return live, assess(live)


def wait_settled(
    kube: KubeClient,
    objects: Sequence[Object],
    deadline: float,
    *,
    interval: float = 0.5,
    workers: int = 8,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Waited]:
    """The health of each object, in the order given, once it is settled or Degraded, or
    as it was at ``deadline``."""
    pending = list(range(len(objects)))
    done: dict[int, Waited] = {}
    reported: set[int] = set()
    pause = min(interval, 0.05)
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(objects)))) as pool:
        while pending:
            observed = list(pool.map(lambda i: current_health(kube, objects[i]), pending))
            still = []
            for index, (live, health) in zip(pending, observed, strict=True):
                if health.status in FINAL or time.monotonic() >= deadline:
                    done[index] = Waited(live, health)
                    continue
                still.append(index)
                if index not in reported:
                    reported.add(index)
                    progress(
                        f"waiting for {object_ref(objects[index])}: {health.status} "
                        f"{health.message}".rstrip()
                    )
            pending = still
            if pending:
                # Most objects settle within moments of being applied: look again soon,
                # then less and less often, up to ``interval``.
                time.sleep(pause)
                pause = min(interval, pause * 2)
    return [done[i] for i in range(len(objects))]


def wait_gone(kube: KubeClient, obj: Object, deadline: float, interval: float = 0.2) -> bool:
    meta = obj["metadata"]
    while True:
        try:
            kube.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        except NotFound:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
