"""Measurements' verdicts and an analysis' outcome: Argo Rollouts' rules for one metric."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from hakobu.model.canary import Analysis
from hakobu.model.condition import parse_condition
from hakobu.releases.canary.analysis import Measurement, Outcome, Verdict, judge, outcome
from hakobu.releases.canary.engine import RolloutState

BOTH = Analysis(
    address="http://prom.test",
    query="q",
    success=parse_condition("result[0] >= 0.95"),
    failure=parse_condition("result[0] < 0.8"),
)
SUCCESS_ONLY = replace(BOTH, failure=None)
FAILURE_ONLY = replace(BOTH, success=None)


@pytest.mark.parametrize(
    ("analysis", "values", "verdict"),
    [
        (BOTH, [0.99], Verdict.SUCCESSFUL),
        (BOTH, [0.5], Verdict.FAILED),
        (BOTH, [0.9], Verdict.INCONCLUSIVE),
        (BOTH, [], Verdict.INCONCLUSIVE),
        (SUCCESS_ONLY, [0.9], Verdict.FAILED),
        (SUCCESS_ONLY, [], Verdict.INCONCLUSIVE),
        (FAILURE_ONLY, [0.9], Verdict.SUCCESSFUL),
        (FAILURE_ONLY, [0.1], Verdict.FAILED),
        (replace(BOTH, success=parse_condition("result[1] > 0")), [0.9], Verdict.ERROR),
    ],
)
def test_a_measurements_verdict(analysis: Analysis, values: list[float], verdict: Verdict) -> None:
    assert judge(analysis, values)[0] is verdict


def test_the_verdict_says_why() -> None:
    assert judge(BOTH, [0.5]) == (
        Verdict.FAILED,
        "[0.5] meets failureCondition 'result[0] < 0.8'",
    )
    assert judge(BOTH, []) == (Verdict.INCONCLUSIVE, "the query returned no samples")


def run(*verdicts: Verdict) -> list[Measurement]:
    return [Measurement(v, (), "", float(i)) for i, v in enumerate(verdicts)]


S, F, N, E = Verdict.SUCCESSFUL, Verdict.FAILED, Verdict.INCONCLUSIVE, Verdict.ERROR


@pytest.mark.parametrize(
    ("limits", "verdicts", "expected"),
    [
        ({"count": 3}, [S, S], Outcome.RUNNING),
        ({"count": 3}, [S, S, S], Outcome.SUCCESSFUL),
        ({"count": 3}, [S, F], Outcome.FAILED),
        ({"count": 3, "failure_limit": 1}, [S, F], Outcome.RUNNING),
        ({"count": 3, "failure_limit": 1}, [F, S, F], Outcome.FAILED),
        ({"count": 3}, [S, N], Outcome.INCONCLUSIVE),
        ({"count": 3, "inconclusive_limit": 1}, [N, S, S], Outcome.SUCCESSFUL),
        ({"count": 2, "consecutive_error_limit": 2}, [E, E, S, E, E, S], Outcome.SUCCESSFUL),
        ({"count": 2, "consecutive_error_limit": 2}, [E, E, E], Outcome.FAILED),
        ({"count": 1, "consecutive_error_limit": 0}, [E], Outcome.FAILED),
    ],
)
def test_an_analysis_outcome(
    limits: dict[str, Any], verdicts: list[Verdict], expected: Outcome
) -> None:
    assert outcome(replace(BOTH, **limits), run(*verdicts)) is expected


def test_rollout_state_survives_its_annotation() -> None:
    state = RolloutState(
        "abc",
        step=2,
        phase="Inconclusive",
        step_started=12.5,
        promote=True,
        message="the query returned no samples",
        measurements=(
            Measurement(Verdict.INCONCLUSIVE, (), "none", 3.0),
            Measurement(Verdict.SUCCESSFUL, (0.99, 1.0), "ok", 4.0),
        ),
    )
    assert RolloutState.from_json(state.to_json()) == state
