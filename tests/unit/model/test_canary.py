"""A canary as an app spec declares it: steps, their checks, and errors with file:line:field."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from hakobu.model.appspec import AppSpec, load_app
from hakobu.model.canary import (
    PENDING_ANNOTATION,
    ROLLOUT_ANNOTATION,
    STATE_ANNOTATION,
    TEMPLATE_HASH_ANNOTATION,
    Analysis,
    Canary,
    Pause,
    SetWeight,
    holding_stable,
    rollout_in_progress,
    template_hash,
    weights,
)
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
    assert isinstance(spec.rollout, Canary)
    steps = spec.rollout.steps
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
    assert isinstance(production, Canary) and production.steps == (SetWeight(50),)


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
              canary: {steps: [{setWeight: 10}]}
              blueGreen: {}
            """,
            "web.yaml:4: rollout: expected exactly one of canary or blueGreen, got both",
        ),
        (
            """
            autoscaling: {maxReplicas: 5}
            resources: {requests: {cpu: 100m}}
            rollout: {canary: {steps: [{setWeight: 10}]}}
            """,
            "web.yaml:6: rollout: a rollout sizes its versions from a fixed number of replicas",
        ),
        (
            """
            workload: StatefulSet
            rollout: {canary: {steps: [{setWeight: 10}]}}
            """,
            "web.yaml:5: rollout: a StatefulSet cannot have a rollout",
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


def deployment(image: str, replicas: int = 10, rollout: bool = True) -> dict[str, Any]:
    annotations = {ROLLOUT_ANNOTATION: '{"canary":{"steps":[{"setWeight":10}]}}'} if rollout else {}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "dev", "annotations": annotations},
        "spec": {
            "replicas": replicas,
            "template": {"spec": {"containers": [{"name": "web", "image": image}]}},
        },
    }


def test_a_sync_holds_the_stable_template_and_leaves_the_new_one_pending() -> None:
    desired = deployment("web:2", replicas=10)
    first = holding_stable(desired, None)
    digest = first["metadata"]["annotations"][TEMPLATE_HASH_ANNOTATION]
    assert digest == template_hash(desired["spec"]["template"])
    assert PENDING_ANNOTATION not in first["metadata"]["annotations"]

    live = holding_stable(deployment("web:1"), None)
    live["spec"]["replicas"] = 6  # where the rollout has scaled it
    held = holding_stable(desired, live)
    assert held["spec"]["template"] == live["spec"]["template"]
    assert held["spec"]["replicas"] == 6
    marks = held["metadata"]["annotations"]
    assert (
        marks[TEMPLATE_HASH_ANNOTATION] == live["metadata"]["annotations"][TEMPLATE_HASH_ANNOTATION]
    )
    pending = json.loads(marks[PENDING_ANNOTATION])
    assert pending == {"hash": digest, "replicas": 10, "template": desired["spec"]["template"]}
    assert desired == deployment("web:2", replicas=10)  # not changed in place

    # Once the rollout has promoted it, the new template is applied as written.
    promoted = {
        **live,
        "metadata": {**live["metadata"], "annotations": {TEMPLATE_HASH_ANNOTATION: digest}},
    }
    assert holding_stable(desired, promoted)["spec"] == desired["spec"]


def test_objects_without_a_canary_are_applied_as_written() -> None:
    plain = deployment("web:2", rollout=False)
    assert holding_stable(plain, deployment("web:1", rollout=False)) is plain


def test_a_rollout_in_progress_is_read_from_the_deployment() -> None:
    live = holding_stable(deployment("web:2"), holding_stable(deployment("web:1"), None))
    marks = live["metadata"]["annotations"]
    digest = json.loads(marks[PENDING_ANNOTATION])["hash"]
    assert rollout_in_progress(live) is None  # not started
    marks[STATE_ANNOTATION] = json.dumps(
        {"hash": digest, "step": 0, "phase": "Degraded", "message": "aborted: [0.5] bad"}
    )
    assert rollout_in_progress(live) == ("Degraded", "canary step 1/1 Degraded: aborted: [0.5] bad")
    # Once git runs the stable version again, the old rollout's state says nothing.
    marks[TEMPLATE_HASH_ANNOTATION] = digest
    assert rollout_in_progress(live) is None
