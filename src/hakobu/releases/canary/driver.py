"""Driving a rollout by hand (``hakobu rollout run``): advance it, measuring with
Prometheus or HTTP checks, until it is promoted, aborted, Inconclusive or waits for a person.

Prometheus is asked over its HTTP API (``prometheus.py``), an HTTP check made with the same
client (``web.py``); the API server only through the client given, as everywhere else.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from hakobu.cluster.api import KubeApi
from hakobu.model.bluegreen import PROMOTION
from hakobu.model.canary import Pause
from hakobu.releases.canary.bluegreen import BlueGreenRollout
from hakobu.releases.canary.providers import measure
from hakobu.releases.canary.strategy import AnyRollout, advance

# How often it looks again: the shortest pause or interval worth writing is seconds.
TICK_SECONDS = 1.0


def drive(
    kube: KubeApi, namespace: str, name: str, sleep: Callable[[float], None] = time.sleep
) -> AnyRollout:
    """The rollout of ``namespace/name`` advanced until it comes to rest."""
    with httpx.Client() as client:
        while True:
            rollout = advance(
                kube, namespace, name, time.time(), lambda analysis: measure(client, analysis)
            )
            state = rollout.state
            if state is None or state.phase in ("Healthy", "Degraded", "Inconclusive"):
                return rollout
            if state.phase == "Paused" and _waits_for_person(rollout):
                return rollout
            sleep(TICK_SECONDS)


def _waits_for_person(rollout: AnyRollout) -> bool:
    state = rollout.state
    if isinstance(rollout, BlueGreenRollout):
        return rollout.stage == PROMOTION and not rollout.blue_green.auto_promotion_enabled
    if state is None or state.step >= len(rollout.canary.steps):
        return False
    step = rollout.canary.steps[state.step]
    return isinstance(step, Pause) and step.seconds is None
