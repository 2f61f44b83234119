"""When a rollout next needs a pass (pure): as its pause or delay ends or its next
measurement is due, soon while new pods start, never while it waits for a person or is
over. A canary's background analyses bring passes of their own at their intervals, even
while the steps wait for a person."""

from __future__ import annotations

from hakobu.model.bluegreen import POST_PROMOTION, PRE_PROMOTION, PROMOTION, SCALE_DOWN
from hakobu.model.canary import Analysis, Pause
from hakobu.releases.canary.bluegreen import BlueGreenRollout
from hakobu.releases.canary.engine import Rollout, RolloutState
from hakobu.releases.canary.strategy import AnyRollout

# How soon to look again while new replicas become ready: nothing tells the rollout when
# they are, and a pod starts in seconds.
READY_POLL_SECONDS = 2.0


def due(rollout: AnyRollout, now: float) -> float | None:
    """The time (seconds since the epoch) of the pass that moves ``rollout`` on; None when
    no pass will (promoted, aborted, Inconclusive, or waiting until promoted)."""
    state = rollout.state
    if state is None or state.phase in ("Healthy", "Degraded", "Inconclusive"):
        return None
    if isinstance(rollout, BlueGreenRollout):
        return _blue_green(rollout, state, now)
    times = [
        t for t in (_step(rollout, state, now), _background(rollout, state, now)) if t is not None
    ]
    return min(times) if times else None


def waits_for_person(rollout: AnyRollout) -> bool:
    """Whether the rollout's steps wait for a person's ``promote`` (a pause without a
    duration, a blue-green promotion without autoPromotionEnabled)."""
    state = rollout.state
    if state is None or state.phase != "Paused" or state.promote:
        return False
    if isinstance(rollout, BlueGreenRollout):
        return rollout.stage == PROMOTION and not rollout.blue_green.auto_promotion_enabled
    if state.step >= len(rollout.canary.steps):
        return False
    step = rollout.canary.steps[state.step]
    return isinstance(step, Pause) and step.seconds is None


def _step(rollout: Rollout, state: RolloutState, now: float) -> float | None:
    if state.step >= len(rollout.canary.steps):
        return now
    step = rollout.canary.steps[state.step]
    if isinstance(step, Pause) and state.phase == "Paused":
        if step.seconds is None and not state.promote:
            return None
        return (state.step_started or now) + (step.seconds or 0.0)
    if isinstance(step, Analysis):
        return _next_measurement(step, state, now)
    return now + READY_POLL_SECONDS


def _background(rollout: Rollout, state: RolloutState, now: float) -> float | None:
    """When the next background measurement is due (``background.check`` takes it)."""
    background = rollout.canary.background
    if background is None or state.step < background.starting_step:
        return None
    if len(rollout.background) < len(background.analyses):
        return now  # one not measured yet
    return min(
        latest.at + analysis.interval_seconds
        for latest, analysis in zip(rollout.background, background.analyses, strict=True)
    )


def _blue_green(rollout: BlueGreenRollout, state: RolloutState, now: float) -> float | None:
    blue_green, stage = rollout.blue_green, rollout.stage
    started = state.step_started or now
    if stage == PROMOTION and not state.promote:
        if not blue_green.auto_promotion_enabled:
            return None
        return started + (blue_green.auto_promotion_seconds or 0)
    if stage == SCALE_DOWN:
        return started + blue_green.scale_down_delay_seconds
    analysis = {PRE_PROMOTION: blue_green.pre_promotion, POST_PROMOTION: blue_green.post_promotion}
    measured = analysis.get(stage or "")
    if measured is not None:
        return _next_measurement(measured, state, now)
    return now + READY_POLL_SECONDS


def _next_measurement(analysis: Analysis, state: RolloutState, now: float) -> float:
    if state.measurements:
        return state.measurements[-1].at + analysis.interval_seconds
    return now
