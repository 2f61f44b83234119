"""Blue-green and a canary's surge limits as an app spec declares them, the preview Service
rendered for them, and what a sync applies while a blue-green rollout runs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from hakobu.errors import InvalidInput
from hakobu.model.appspec import AppSpec, load_app
from hakobu.model.bluegreen import BlueGreen, stages
from hakobu.model.canary import (
    PENDING_ANNOTATION,
    ROLLOUT_ANNOTATION,
    TEMPLATE_HASH_ANNOTATION,
    Canary,
    template_hash,
)
from hakobu.model.rollout import REVISION_LABEL, as_compared, holding_stable, template_digest
from hakobu.model.source import SourceError
from hakobu.render.appspec import expand_app
from hakobu.render.canaryspec import check_canaries

HEAD = """\
name: web
image: example.test/web:1.0
replicas: 4
ports: [{name: http, port: 80}]
"""


def load(tmp_path: Path, text: str, head: str = HEAD) -> AppSpec:
    file = tmp_path / "web.yaml"
    file.write_text(head + textwrap.dedent(text).lstrip("\n"))
    return load_app(file)


def error(tmp_path: Path, text: str, head: str = HEAD) -> str:
    with pytest.raises(SourceError) as raised:
        load(tmp_path, text, head)
    return str(raised.value)


def test_blue_green_fields_and_defaults(tmp_path: Path) -> None:
    spec = load(
        tmp_path,
        """
        rollout:
          blueGreen:
            autoPromotionEnabled: false
            previewReplicaCount: 1
            prePromotionAnalysis:
              address: http://prom.test:9090
              query: up
              successCondition: result[0] >= 1
        """,
    )
    rollout = spec.rollout
    assert isinstance(rollout, BlueGreen)
    assert (rollout.active("web"), rollout.preview("web")) == ("web", "web-preview")
    assert rollout.auto_promotion_enabled is False and rollout.scale_down_delay_seconds == 30
    assert rollout.preview_replica_count == 1 and rollout.post_promotion is None
    assert rollout.pre_promotion is not None and rollout.pre_promotion.query == "up"
    assert stages(rollout) == (
        "preview",
        "prePromotionAnalysis",
        "promotion",
        "switch",
        "scaleDownDelay",
        "finish",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "rollout: {blueGreen: {autoPromotion: true}}\n",
            "web.yaml:5: rollout.blueGreen.autoPromotion: unknown field",
        ),
        (
            "rollout: {blueGreen: {autoPromotionEnabled: yes please}}\n",
            "web.yaml:5: rollout.blueGreen.autoPromotionEnabled: expected a boolean",
        ),
        (
            "rollout: {blueGreen: {activeService: api}}\n",
            "web.yaml:5: rollout.blueGreen.activeService: the active Service of an app spec is "
            "the app's own Service 'web'",
        ),
        (
            "rollout: {blueGreen: {previewService: web}}\n",
            "web.yaml:5: rollout.blueGreen.previewService: the preview Service must differ",
        ),
        (
            "rollout: {blueGreen: {scaleDownDelaySeconds: -1}}\n",
            "web.yaml:5: rollout.blueGreen.scaleDownDelaySeconds",
        ),
        (
            "rollout:\n  blueGreen:\n    prePromotionAnalysis:\n      address: http://p.test\n"
            "      query: up\n      successCondition: result[0] >>= 1\n",
            "web.yaml:10: rollout.blueGreen.prePromotionAnalysis.successCondition: "
            "'result[0] >>= 1' does not parse",
        ),
        (
            "rollout: {canary: {maxSurge: 150%, steps: [{setWeight: 10}]}}\n",
            "web.yaml:5: rollout.canary.maxSurge",
        ),
        (
            "rollout: {canary: {maxSurge: 0, maxUnavailable: 0%, steps: [{setWeight: 10}]}}\n",
            "web.yaml:5: rollout.canary.maxUnavailable: maxSurge and maxUnavailable are both zero",
        ),
        ("rollout: {}\n", "web.yaml:5: rollout: expected exactly one of canary or blueGreen"),
    ],
)
def test_bad_declarations_name_file_line_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in error(tmp_path, text)


def test_blue_green_needs_a_service(tmp_path: Path) -> None:
    head = "name: web\nimage: example.test/web:1.0\n"
    assert "rollout.blueGreen: blue-green switches the app's Service" in error(
        tmp_path, "rollout: {blueGreen: {}}\n", head
    )


def test_canary_surge_limits(tmp_path: Path) -> None:
    spec = load(
        tmp_path, "rollout: {canary: {maxSurge: 25%, maxUnavailable: 1, steps: [{setWeight: 5}]}}"
    )
    assert isinstance(spec.rollout, Canary)
    assert (spec.rollout.max_surge, spec.rollout.max_unavailable) == ("25%", 1)
    default = load(tmp_path, "rollout: {canary: {steps: [{setWeight: 5}]}}")
    assert isinstance(default.rollout, Canary)
    assert (default.rollout.max_surge, default.rollout.max_unavailable) == ("100%", 0)


def test_the_preview_service_is_rendered_beside_the_app_service(tmp_path: Path) -> None:
    spec = load(tmp_path, "service: {type: LoadBalancer}\nrollout: {blueGreen: {}}\n")
    objects = expand_app(spec, environment="dev", namespace="dev")
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    assert set(services) == {"web", "web-preview"}
    preview = services["web-preview"]
    assert preview["spec"]["type"] == "ClusterIP"
    assert preview["spec"]["selector"] == services["web"]["spec"]["selector"]
    assert preview["spec"]["ports"] == services["web"]["spec"]["ports"]
    [deployment] = [o for o in objects if o["kind"] == "Deployment"]
    assert json.loads(deployment["metadata"]["annotations"][ROLLOUT_ANNOTATION]) == {
        "blueGreen": {}
    }


def annotated(value: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "dev",
            "annotations": {ROLLOUT_ANNOTATION: json.dumps(value)},
        },
    }


def service(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "dev"}}


def test_an_annotated_blue_green_needs_its_services_rendered() -> None:
    deployment = annotated({"blueGreen": {"previewService": "web-next"}})
    check_canaries("web", [deployment, service("web"), service("web-next")])
    with pytest.raises(InvalidInput) as raised:
        check_canaries("web", [deployment, service("web")])
    assert raised.value.message == (
        "app web: Deployment/dev/web: metadata.annotations.hakobu.dev/rollout.blueGreen."
        "previewService: the app renders no Service 'web-next' in the Deployment's namespace"
    )


def deployment(tag: str) -> dict[str, Any]:
    obj = annotated({"blueGreen": {}})
    obj["spec"] = {
        "replicas": 4,
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": f"example.test/web:{tag}"}]},
        },
    }
    return obj


def test_a_blue_green_deployment_labels_its_pods_with_the_revision() -> None:
    desired = deployment("1.0")
    applied = holding_stable(desired, None)
    labels = applied["spec"]["template"]["metadata"]["labels"]
    assert labels[REVISION_LABEL] == template_hash(desired["spec"]["template"])
    assert PENDING_ANNOTATION not in applied["metadata"]["annotations"]


def test_the_template_digest_is_the_one_a_sync_records() -> None:
    # A revert finds the commit that runs what the cluster runs by this digest.
    live = holding_stable(deployment("1.0"), None)
    recorded = live["metadata"]["annotations"][TEMPLATE_HASH_ANNOTATION]
    assert template_digest(deployment("1.0")) == recorded
    assert recorded != template_hash(deployment("1.0")["spec"]["template"])
    held = holding_stable(deployment("1.1"), live)
    pending = json.loads(held["metadata"]["annotations"][PENDING_ANNOTATION])
    assert template_digest(deployment("1.1")) == pending["hash"]
    canary = {**deployment("1.0"), "metadata": annotated({"canary": {"steps": []}})["metadata"]}
    assert template_digest(canary) == template_hash(canary["spec"]["template"])


def test_a_new_version_is_held_with_its_revision_and_replicas() -> None:
    live = holding_stable(deployment("1.0"), None)
    live["spec"]["replicas"] = 4
    held = holding_stable(deployment("1.1"), live)
    assert held["spec"]["template"] == live["spec"]["template"]
    pending = json.loads(held["metadata"]["annotations"][PENDING_ANNOTATION])
    revision = template_hash(deployment("1.1")["spec"]["template"])
    assert pending["template"]["metadata"]["labels"][REVISION_LABEL] == revision
    # Blue-green never scales the Deployment, so its replicas are compared as well.
    assert as_compared(deployment("1.1"), live, "hakobu")["spec"]["replicas"] == 4


def test_pods_without_the_label_are_replaced_directly_once() -> None:
    live = deployment("1.0")
    live["metadata"]["annotations"][TEMPLATE_HASH_ANNOTATION] = "old"
    applied = holding_stable(deployment("1.1"), live)
    assert PENDING_ANNOTATION not in applied["metadata"]["annotations"]
    assert applied["spec"]["template"]["spec"]["containers"][0]["image"] == "example.test/web:1.1"


def live_service(revision: str, managers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        **service("web"),
        "metadata": {"name": "web", "namespace": "dev", "managedFields": managers},
        "spec": {"selector": {"app": "web", REVISION_LABEL: revision}},
    }


def test_a_service_keeps_the_revision_a_rollout_switched_it_to() -> None:
    desired = {**service("web"), "spec": {"selector": {"app": "web"}}}
    switched = live_service("abc", [])
    assert holding_stable(desired, switched)["spec"]["selector"] == {
        "app": "web",
        REVISION_LABEL: "abc",
    }
    # The rollout took the selector from the sync: not compared until the sync applies it.
    assert "selector" not in as_compared(desired, switched, "hakobu")["spec"]
    owned = live_service(
        "abc",
        [{"manager": "hakobu", "operation": "Apply", "fieldsV1": {"f:spec": {"f:selector": {}}}}],
    )
    assert as_compared(desired, owned, "hakobu")["spec"]["selector"][REVISION_LABEL] == "abc"
    plain = {**service("web"), "spec": {"selector": {"app": "web"}}}
    assert holding_stable(desired, plain) is desired
