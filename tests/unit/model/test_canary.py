"""A canary as an app spec declares it: steps, their checks, and errors with file:line:field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hakobu.model.appspec import AppSpec, load_app
from hakobu.model.canary import Analysis, Pause, SetWeight, weights
from hakobu.model.source import SourceError

HEAD = """\
name: web
image: example.test/web:1.0
replicas: 10
"""


def load(tmp_path: Path, rollout: str) -> AppSpec:
    file = tmp_path / "web.yaml"
    file.write_text(HEAD + textwrap.dedent(rollout).lstrip("\n"))
    return load_app(file)


def error(tmp_path: Path, rollout: str) -> str:
    with pytest.raises(SourceError) as raised:
        load(tmp_path, rollout)
    return str(raised.value)


def test_steps_are_typed_with_defaults(tmp_path: Path) -> None:
    spec = load(
        tmp_path,
        """
        rollout:
          canary:
            autoRollback: true
            steps:
              - setWeight: 20
              - pause: {duration: 1m30s}
              - analysis:
                  address: http://prom.test:9090/
                  query: up
                  successCondition: result[0] >= 1
              - setWeight: 60
              - pause: {}
        """,
    )
    assert spec.rollout is not None
    steps = spec.rollout.steps
    assert spec.rollout.auto_rollback
    assert steps[0] == SetWeight(20)
    assert steps[1] == Pause(90.0)
    assert steps[4] == Pause(None)
    analysis = steps[2]
    assert isinstance(analysis, Analysis)
    assert analysis.address == "http://prom.test:9090"
    assert (analysis.count, analysis.interval_seconds, analysis.failure_limit) == (1, 30.0, 0)
    assert (analysis.inconclusive_limit, analysis.consecutive_error_limit) == (0, 4)
    assert analysis.failure is None and analysis.success is not None
    assert weights(spec.rollout) == (20, 20, 20, 60, 60)


def test_an_environment_can_declare_the_rollout_alone(tmp_path: Path) -> None:
    spec = load(
        tmp_path,
        """
        environments:
          production:
            rollout: {canary: {steps: [{setWeight: 50}]}}
        """,
    )
    assert spec.rollout is None
    production = spec.for_environment("production").rollout
    assert production is not None and production.steps == (SetWeight(50),)


@pytest.mark.parametrize(
    ("rollout", "expected"),
    [
        (
            """
            rollout:
              canary:
                steps:
                  - setWeight: 50
                  - setWeight: 30
            """,
            "web.yaml:8: rollout.canary.steps[1].setWeight: weight 30 does not rise above "
            "the previous weight 50",
        ),
        (
            """
            rollout:
              canary:
                steps:
                  - pause: {}
            """,
            "web.yaml:6: rollout.canary.steps: the steps never send traffic to the canary",
        ),
        (
            """
            rollout:
              canary:
                steps: []
            """,
            "web.yaml:6: rollout.canary.steps: expected at least 1",
        ),
        (
            """
            rollout:
              canary:
                steps:
                  - setWeight: 10
                  - wait: 5m
            """,
            "web.yaml:8: rollout.canary.steps[1]: unknown step kind 'wait'",
        ),
        (
            """
            rollout:
              canary:
                steps:
                  - setWeight: 10
                  - analysis:
                      address: http://prom.test
                      query: up
                      successCondition: result[0] => 1
            """,
            "web.yaml:11: rollout.canary.steps[1].analysis.successCondition: "
            "'result[0] => 1' does not parse",
        ),
        (
            """
            rollout:
              canary:
                steps:
                  - setWeight: 10
                  - pause: {duration: 5}
            """,
            "web.yaml:8: rollout.canary.steps[1].pause.duration: expected a duration",
        ),
        (
            """
            rollout:
              canary:
                steps:
                  - setWeight: 120
            """,
            "web.yaml:7: rollout.canary.steps[0].setWeight: expected a percentage from 1 to 100",
        ),
        (
            """
            rollout:
              canary:
                steps:
                  - setWeight: 10
                  - analysis: {address: http://prom.test, query: up}
            """,
            "web.yaml:8: rollout.canary.steps[1].analysis: an analysis needs successCondition",
        ),
        (
            """
            rollout:
              blueGreen: {}
            """,
            "web.yaml:5: rollout.blueGreen: unknown field",
        ),
        (
            """
            autoscaling: {maxReplicas: 5}
            resources: {requests: {cpu: 100m}}
            rollout: {canary: {steps: [{setWeight: 10}]}}
            """,
            "web.yaml:6: rollout: a canary splits a fixed number of replicas",
        ),
        (
            """
            workload: StatefulSet
            rollout: {canary: {steps: [{setWeight: 10}]}}
            """,
            "web.yaml:5: rollout: a StatefulSet cannot have a canary rollout",
        ),
    ],
)
def test_bad_rollouts_name_file_line_and_field(tmp_path: Path, rollout: str, expected: str) -> None:
    assert expected in error(tmp_path, rollout)


def test_an_error_only_in_one_environment_says_which(tmp_path: Path) -> None:
    message = error(
        tmp_path,
        """
        environments:
          production:
            rollout: {canary: {steps: [{setWeight: 50}, {setWeight: 50}]}}
        """,
    )
    assert "web.yaml:6: environments.production.rollout.canary.steps[1].setWeight" in message
