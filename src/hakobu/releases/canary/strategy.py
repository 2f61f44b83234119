"""Which engine runs a Deployment's rollout: its annotation declares a canary
(``engine``) or a blue-green rollout (``bluegreen``). Both keep their state in the same
annotation and answer the same requests, so ``hakobu rollout`` and the loops that drive
rollouts call these and need not know which it is.
"""

from __future__ import annotations

from hakobu.cluster.api import KubeApi
from hakobu.model.rollout import is_blue_green
from hakobu.releases.canary import bluegreen, engine
from hakobu.releases.canary.bluegreen import BlueGreenRollout
from hakobu.releases.canary.engine import Measure, Rollout, RolloutState

AnyRollout = Rollout | BlueGreenRollout


def status(kube: KubeApi, namespace: str, name: str) -> AnyRollout:
    if _blue_green(kube, namespace, name):
        return bluegreen.status(kube, namespace, name)
    return engine.status(kube, namespace, name)


def request(kube: KubeApi, namespace: str, name: str, action: str) -> RolloutState:
    """Record a person's ``promote``, ``abort`` or ``retry``."""
    if _blue_green(kube, namespace, name):
        return bluegreen.request(kube, namespace, name, action)
    return engine.request(kube, namespace, name, action)


def advance(kube: KubeApi, namespace: str, name: str, now: float, measure: Measure) -> AnyRollout:
    """Move the rollout of Deployment ``namespace/name`` on as far as it can go now."""
    if _blue_green(kube, namespace, name):
        return bluegreen.advance(kube, namespace, name, now, measure)
    return engine.advance(kube, namespace, name, now, measure)


def _blue_green(kube: KubeApi, namespace: str, name: str) -> bool:
    return is_blue_green(engine._stable(kube, namespace, name))
