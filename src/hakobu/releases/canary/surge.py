"""How far a canary's pass may move the replicas toward a step's split: ``maxSurge`` and
``maxUnavailable``, with Argo Rollouts' rules for a canary without a traffic router (its
``CalculateReplicaCountsForBasicCanary``), applied to hakobu's split (``replicas.split``,
each side rounded up, so one replica more is allowed when the weight does not divide the
replicas).

Each pass starts from what runs (each side's replicas and available replicas) and returns
the replicas to set, so a step is reached over as many passes as the limits need::

    allowed     replicas + maxSurge (resolved rounding up)
    scale up    allowed - (stable + canary): to the stable side first, if it is below its
                share, then to the canary
    scale down  countable - (replicas - maxUnavailable, resolved rounding down): from the
                side that shrinks in this step (the stable side while the canary grows,
                the canary when the weight falls), then the other side is brought back
                within ``allowed`` without going below the available minimum

``countable`` is the available replicas of the side that grows plus the replicas of the
side that shrinks: pods that may not be up yet must not keep the other side from
shrinking. When both limits resolve to zero, ``maxUnavailable`` is one, so a rollout can
always move.
"""

from __future__ import annotations

from dataclasses import dataclass

from hakobu.releases.canary.replicas import Split, split


@dataclass(frozen=True)
class Side:
    """One workload as it runs: the replicas it asks for, and how many are available."""

    replicas: int
    available: int


def resolve(value: int | str, replicas: int, *, round_up: bool) -> int:
    """A count or a percentage of ``replicas`` (``"25%"``) as a number of replicas."""
    if isinstance(value, int):
        return value
    percent = int(value.removesuffix("%"))
    scaled = replicas * percent
    return -(-scaled // 100) if round_up else scaled // 100


def limits(replicas: int, max_surge: int | str, max_unavailable: int | str) -> tuple[int, int]:
    """``maxSurge`` and ``maxUnavailable`` as numbers of replicas."""
    surge = resolve(max_surge, replicas, round_up=True)
    unavailable = resolve(max_unavailable, replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, replicas)


def next_split(
    replicas: int,
    weight: int,
    max_surge: int | str,
    max_unavailable: int | str,
    *,
    stable: Side,
    canary: Side,
) -> Split:
    """The replicas of each side after this pass, toward ``split(replicas, weight)``."""
    desired = split(replicas, weight)
    surge, unavailable = limits(replicas, max_surge, max_unavailable)
    allowed = replicas + surge + (1 if replicas * weight % 100 else 0)
    new_canary, new_stable = canary.replicas, stable.replicas

    room = allowed - (stable.replicas + canary.replicas)
    if room > 0 and stable.replicas < desired.stable:
        new_stable = min(desired.stable, stable.replicas + room)
        room -= new_stable - stable.replicas
    if room > 0 and canary.replicas < desired.canary:
        new_canary = min(desired.canary, canary.replicas + room)

    minimum = replicas - unavailable
    increasing = desired.canary >= canary.replicas
    countable = _countable(canary, ignore_availability=not increasing) + _countable(
        stable, ignore_availability=increasing
    )
    if countable <= minimum:
        return Split(new_canary, new_stable)
    spare = countable - minimum
    if increasing:
        new_stable = _drained(stable, desired.stable, spare, new_stable)
        new_stable, new_canary = _within(
            stable, canary, new_stable, new_canary, allowed=allowed, minimum=minimum
        )
    else:
        new_canary = _drained(canary, desired.canary, spare, new_canary)
        new_canary, new_stable = _within(
            canary, stable, new_canary, new_stable, allowed=allowed, minimum=minimum
        )
    return Split(new_canary, new_stable)


def at_split(desired: Split, stable: Side, canary: Side) -> bool:
    """Whether both sides run their share of a step, every replica available."""
    return (stable.replicas, stable.available, canary.replicas, canary.available) == (
        desired.stable,
        desired.stable,
        desired.canary,
        desired.canary,
    )


def _drained(side: Side, desired: int, spare: int, current: int) -> int:
    if side.replicas > desired:
        return max(desired, side.replicas - spare)
    return current


def _within(
    drain: Side, adjust: Side, drained: int, adjusted: int, *, allowed: int, minimum: int
) -> tuple[int, int]:
    """``drained`` and ``adjusted`` brought within ``allowed`` replicas: the adjusted side
    gives up what exceeds it, takes back what availability needs, and the drained side
    gives up what still exceeds it."""
    adjusted -= max(0, adjusted + drained - allowed)
    available = min(drain.available, drained) + min(adjust.available, adjusted)
    lost = max(0, adjust.available - adjusted)
    adjusted += min(lost, max(0, minimum - available))
    drained -= max(0, adjusted + drained - allowed)
    return drained, adjusted


def _countable(side: Side, *, ignore_availability: bool) -> int:
    # Available replicas above what the side asks for are on their way out.
    if side.replicas < side.available or ignore_availability:
        return side.replicas
    return side.available
