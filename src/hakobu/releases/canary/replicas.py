"""How many replicas the stable and the canary workload run at a weight.

Without a traffic router the Service spreads requests over every ready pod it selects, so a
canary's share of traffic is its share of the replicas. The split follows Argo Rollouts'
basic canary (its ``DesiredReplicaCountsForCanary``): each side is rounded *up*::

    canary = ceil(replicas * weight / 100)
    stable = ceil(replicas * (100 - weight) / 100)

so both sides keep at least one replica whenever the weight is strictly between 0 and 100,
and the two add up to one more than ``replicas`` when the weight does not divide evenly
(the rollout surges by one replica). For example 10 replicas at 41%: 4.1 → 5 canary and
5.9 → 6 stable, 11 pods; 10 at 50%: 5 and 5; 1 replica at 5%: 1 and 1; 10 at 100%: 10
and 0. Argo computes this in floating point, which in a few cases rounds an exact product
up by one (10 replicas at 70%: 1 - 0.7 = 0.30000000000000004, so 4 stable); hakobu
computes it in exact integers (3 stable), the rule Argo documents.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Split:
    canary: int
    stable: int


def split(replicas: int, weight: int) -> Split:
    """The replicas of each side when ``weight`` percent go to the canary."""
    if replicas < 0 or not 0 <= weight <= 100:
        raise ValueError(
            f"expected replicas ≥ 0 and a weight from 0 to 100, got {replicas}, {weight}"
        )
    return Split(_ceil_percent(replicas, weight), _ceil_percent(replicas, 100 - weight))


def _ceil_percent(replicas: int, percent: int) -> int:
    return -(-replicas * percent // 100)
