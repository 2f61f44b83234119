"""One step of a fleet's tiered rollout, decided from what the cluster shows (pure).

The tiers are walked in rollout order. A tier whose instances are all Synced and Healthy
has been so since the time recorded for its current template version (or since now, when
the record is for another version or there is none). When the next tier runs another
version, it follows once that time is ``soak`` behind; until then the rollout waits. The
first tier with a Degraded instance halts the rollout: nothing moves past it, and it says
which instance and why. A tier that is still settling (Progressing, OutOfSync, Missing)
makes the rollout wait, and its soak starts again once it is settled, as it does after any
instance of it was not Healthy: the soak is time healthy without a break.

A halt holds until a person acts, as an aborted Argo Rollout does: while the halted tier
renders the version it halted at, the rollout stays halted even if the instance recovers
(an instance that failed once is not trusted by the next soak alone). A new version of
that tier (the template fixed, or the promotion reverted) ends the halt; so does a person
resuming it (the caller then passes no halt).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["promote", "wait", "halt", "done"]


@dataclass(frozen=True)
class TierState:
    tier: str
    # The template version the tier renders (the id of its template's git tree).
    version: str
    # Each instance that is not Synced and Healthy: (instance, what is wrong).
    degraded: tuple[tuple[str, str], ...]
    settling: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Healthy:
    """Since when (seconds since the epoch) a tier has been healthy at ``version``."""

    version: str
    since: float


@dataclass(frozen=True)
class Step:
    verdict: Verdict
    # The tier the verdict is about: the one to promote from, halted at, or waited on.
    tier: str | None
    # With "promote": the tier that follows ``tier``.
    target: str | None
    reason: str
    # What to remember per tier for the next step (a tier not settled has no entry).
    healthy: dict[str, Healthy]
    # The halt to remember, while it holds.
    halted: Halt | None = None


@dataclass(frozen=True)
class Halt:
    """Where the rollout halted: the tier, the version it rendered, and why."""

    tier: str
    version: str
    reason: str


def decide(
    tiers: Sequence[TierState],
    recorded: Mapping[str, Healthy],
    *,
    now: float,
    soak: float,
    halted: Halt | None = None,
) -> Step:
    healthy = {state.tier: _healthy(state, recorded, now) for state in tiers}
    remembered = {tier: record for tier, record in healthy.items() if record is not None}
    versions = {state.tier: state.version for state in tiers}
    if halted is not None and versions.get(halted.tier) == halted.version:
        return Step("halt", halted.tier, None, halted.reason, remembered, halted)
    for index, state in enumerate(tiers):
        if state.degraded:
            reason = _instance(state, state.degraded)
            halt = Halt(state.tier, state.version, reason)
            return Step("halt", state.tier, None, reason, remembered, halt)
        if state.settling:
            return Step("wait", state.tier, None, _instance(state, state.settling), remembered)
        since = remembered[state.tier].since
        following = tiers[index + 1] if index + 1 < len(tiers) else None
        if following is None or following.version == state.version:
            continue
        left = since + soak - now
        if left > 0:
            reason = (
                f"tier {state.tier} soaks {_seconds(left)} more before {following.tier} follows"
            )
            return Step("wait", state.tier, following.tier, reason, remembered)
        reason = f"tier {state.tier} has been healthy for {_seconds(now - since)}"
        return Step("promote", state.tier, following.tier, reason, remembered)
    return Step("done", None, None, "every tier runs the same template version", remembered)


def _healthy(state: TierState, recorded: Mapping[str, Healthy], now: float) -> Healthy | None:
    if state.degraded or state.settling:
        return None
    was = recorded.get(state.tier)
    return was if was is not None and was.version == state.version else Healthy(state.version, now)


def _instance(state: TierState, problems: tuple[tuple[str, str], ...]) -> str:
    instance, why = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"tier {state.tier}: instance {instance} is {why}{more}"


def _seconds(value: float) -> str:
    whole = int(value + 0.999)
    minutes, seconds = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{seconds:02d}s"
    return f"{seconds}s"
