"""Driving a rollout by hand (``hakobu rollout run``): advance it, measuring with
Prometheus or HTTP checks, until it is promoted, aborted, Inconclusive or waits for a person.

Prometheus is asked over its HTTP API (``prometheus.py``), an HTTP check made with the same
client (``web.py``), both through ``providers.measuring`` as the controller's passes measure;
the API server only through the client given, as everywhere else.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from hakobu.cluster.api import KubeApi
from hakobu.releases.canary.providers import measuring
from hakobu.releases.canary.schedule import due, waits_for_person
from hakobu.releases.canary.strategy import AnyRollout, advance

# The longest it sleeps: a person's promote or abort is seen within this.
TICK_SECONDS = 1.0


def drive(
    kube: KubeApi, namespace: str, name: str, sleep: Callable[[float], None] = time.sleep
) -> AnyRollout:
    """The rollout of ``namespace/name`` advanced until it comes to rest."""
    with measuring() as measure:
        while True:
            now = time.time()
            rollout = advance(kube, namespace, name, now, measure)
            state = rollout.state
            if state is None or state.phase in ("Healthy", "Degraded", "Inconclusive"):
                return rollout
            next_pass = due(rollout, now)
            if next_pass is None or waits_for_person(rollout):
                return rollout
            sleep(min(max(next_pass - time.time(), 0.0), TICK_SECONDS))
