"""Canary declarations on rendered objects: written by app specs, checked for every app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hakobu.errors import InvalidInput
from hakobu.model.appspec import load_app
from hakobu.model.canary import ROLLOUT_ANNOTATION, Canary, SetWeight
from hakobu.render.appspec import expand_app
from hakobu.render.canaryspec import check_canaries, declared_canary


def test_an_app_spec_rollout_becomes_the_deployments_annotation(tmp_path: Path) -> None:
    file = tmp_path / "web.yaml"
    file.write_text(
        "name: web\nimage: example.test/web:1.0\nreplicas: 4\n"
        "rollout: {canary: {steps: [{setWeight: 25}, {pause: {}}]}}\n"
    )
    objects = expand_app(load_app(file), environment="dev", namespace="dev")
    [deployment] = [o for o in objects if o["kind"] == "Deployment"]
    text = deployment["metadata"]["annotations"][ROLLOUT_ANNOTATION]
    assert text == '{"canary":{"steps":[{"setWeight":25},{"pause":{}}]}}'
    canary = declared_canary(deployment)
    assert isinstance(canary, Canary) and canary.steps[0] == SetWeight(25)
    assert all(ROLLOUT_ANNOTATION not in str(o) for o in objects if o is not deployment)


def annotated(kind: str, value: Any, api: str = "apps/v1") -> dict[str, Any]:
    text = value if isinstance(value, str) else json.dumps(value)
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": "web", "namespace": "dev", "annotations": {ROLLOUT_ANNOTATION: text}},
    }


def test_a_kustomize_deployment_declares_a_canary_by_annotation() -> None:
    canary = declared_canary(annotated("Deployment", {"canary": {"steps": [{"setWeight": 5}]}}))
    assert isinstance(canary, Canary) and canary.steps == (SetWeight(5),)
    assert declared_canary({"apiVersion": "apps/v1", "kind": "Deployment"}) is None


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (
            annotated("StatefulSet", {"canary": {"steps": [{"setWeight": 5}]}}),
            "app web: StatefulSet/dev/web: metadata.annotations.hakobu.dev/rollout: a "
            "StatefulSet cannot have a rollout",
        ),
        (
            annotated("Deployment", "{canary: "),
            "app web: Deployment/dev/web: metadata.annotations.hakobu.dev/rollout: not JSON",
        ),
        (
            annotated("Deployment", {"canary": {"steps": [{"setWeight": 9}, {"setWeight": 3}]}}),
            "metadata.annotations.hakobu.dev/rollout.canary.steps[1].setWeight: weight 3 does "
            "not rise above the previous weight 9",
        ),
        (
            annotated("Deployment", {"canary": {"steps": [{"setWeight": 9}, {"pasue": {}}]}}),
            "rollout.canary.steps[1]: unknown step kind 'pasue'",
        ),
    ],
)
def test_bad_annotations_are_refused_naming_app_object_and_field(
    obj: dict[str, Any], expected: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_canaries("web", [obj])
    assert expected in str(raised.value)
