"""When a rollout next needs a pass: as a pause or delay ends or a measurement is due."""

from __future__ import annotations

from dataclasses import replace

from hakobu.model.bluegreen import PRE_PROMOTION, PREVIEW, PROMOTION, SCALE_DOWN, BlueGreen
from hakobu.model.canary import Analysis, BackgroundAnalysis, Canary, Pause, SetWeight
from hakobu.model.condition import parse_condition
from hakobu.releases.canary.analysis import Measurement, Verdict
from hakobu.releases.canary.bluegreen import BlueGreenRollout
from hakobu.releases.canary.engine import Rollout, RolloutState
from hakobu.releases.canary.schedule import READY_POLL_SECONDS, due, waits_for_person

ANALYSIS = Analysis(
    address="http://prom.test",
    query="q",
    success=parse_condition("result[0] >= 0.95"),
    failure=None,
    interval_seconds=30.0,
    count=3,
)
CANARY = Canary((SetWeight(20), Pause(60.0), ANALYSIS, Pause(None)))
NOW = 1_000.0


def rollout(**state: object) -> Rollout:
    return Rollout("web", CANARY, RolloutState("abc", **state), 20, 8, 2, 2)  # type: ignore[arg-type]


def test_a_pause_with_a_duration_is_due_as_it_ends() -> None:
    assert due(rollout(step=1, phase="Paused", step_started=900.0), NOW) == 960.0


def test_the_next_measurement_is_due_an_interval_after_the_last() -> None:
    taken = Measurement(Verdict.SUCCESSFUL, (0.99,), "ok", 990.0)
    assert due(rollout(step=2, measurements=(taken,)), NOW) == 1_020.0


def test_replicas_becoming_ready_are_looked_at_again_soon() -> None:
    assert due(rollout(step=0), NOW) == NOW + READY_POLL_SECONDS


def test_nothing_is_due_while_a_person_must_act_or_the_rollout_is_over() -> None:
    assert due(rollout(step=3, phase="Paused", step_started=900.0), NOW) is None
    assert due(rollout(step=2, phase="Inconclusive"), NOW) is None
    assert due(rollout(step=2, phase="Degraded"), NOW) is None
    assert due(rollout(step=4, phase="Healthy"), NOW) is None
    assert due(replace(rollout(), state=None), NOW) is None


def test_a_promoted_pause_is_due_at_once() -> None:
    promoted = rollout(step=3, phase="Paused", step_started=900.0, promote=True)
    assert due(promoted, NOW) == 900.0


def blue_green(stage: str, **state: object) -> BlueGreenRollout:
    declared = BlueGreen(
        auto_promotion_enabled=True,
        auto_promotion_seconds=120,
        scale_down_delay_seconds=30,
        pre_promotion=ANALYSIS,
    )
    state_ = RolloutState("abc", **state)  # type: ignore[arg-type]
    return BlueGreenRollout("web", declared, state_, stage, "r1", "r2", 4, 4, 4)


def test_a_blue_green_rollout_is_due_as_its_delays_end_and_its_analysis_measures() -> None:
    assert due(blue_green(PROMOTION, phase="Paused", step_started=900.0), NOW) == 1_020.0
    assert due(blue_green(SCALE_DOWN, step_started=990.0), NOW) == 1_020.0
    taken = Measurement(Verdict.SUCCESSFUL, (0.99,), "ok", 995.0)
    assert due(blue_green(PRE_PROMOTION, measurements=(taken,)), NOW) == 1_025.0
    assert due(blue_green(PRE_PROMOTION), NOW) == NOW
    assert due(blue_green(PREVIEW), NOW) == NOW + READY_POLL_SECONDS
    promoted = blue_green(PROMOTION, phase="Paused", step_started=900.0, promote=True)
    assert due(promoted, NOW) == NOW + READY_POLL_SECONDS


def test_a_blue_green_promotion_without_auto_promotion_waits_for_a_person() -> None:
    manual = blue_green(PROMOTION, phase="Paused", step_started=900.0)
    manual = replace(manual, blue_green=replace(manual.blue_green, auto_promotion_enabled=False))
    assert due(manual, NOW) is None
    assert waits_for_person(manual)
    assert not waits_for_person(blue_green(PROMOTION, phase="Paused", step_started=900.0))


def test_background_analyses_bring_passes_at_their_interval_even_in_a_pause() -> None:
    background = replace(
        CANARY, background=BackgroundAnalysis((ANALYSIS, replace(ANALYSIS, interval_seconds=10.0)))
    )
    paused = replace(rollout(step=3, phase="Paused", step_started=900.0), canary=background)
    # Neither measured yet: due at once.
    assert due(paused, NOW) == NOW
    first = Measurement(Verdict.SUCCESSFUL, (0.99,), "ok", 980.0)
    second = Measurement(Verdict.SUCCESSFUL, (0.99,), "ok", 995.0)
    measured = replace(paused, background=(first, second))
    assert due(measured, NOW) == 1_005.0
    # The steps still wait for a person: `hakobu rollout run` returns there.
    assert waits_for_person(measured)
