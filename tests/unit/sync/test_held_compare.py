"""A Deployment whose canary holds a new version is Synced while held: before the rollout
takes a step (hakobu still owns the replicas it applied) and after (the rollout's manager
took them)."""

from __future__ import annotations

import copy
from typing import Any

from hakobu.model.canary import ROLLOUT_ANNOTATION, holding_stable
from hakobu.model.objects import Object, object_id
from hakobu.sync.manifests import Manifest
from hakobu.sync.ownership import Owner
from hakobu.sync.plan import Action, plan_app, resource_of

OWNER = Owner("shop", "dev", "web")
ROLLOUT = '{"canary":{"steps":[{"setWeight":10}]}}'


def deployment(image: str) -> Object:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "dev",
            "annotations": {ROLLOUT_ANNOTATION: ROLLOUT},
        },
        "spec": {
            "replicas": 4,
            "template": {"spec": {"containers": [{"name": "web", "image": image}]}},
        },
    }


def fields_of(value: Any) -> dict[str, Any]:
    """The FieldsV1 set of every field of ``value`` (lists of named items by key)."""
    if isinstance(value, dict):
        return {f"f:{k}": fields_of(v) for k, v in value.items()}
    if isinstance(value, list):
        return {f'k:{{"name":"{item["name"]}"}}': {".": {}, **fields_of(item)} for item in value}
    return {}


def applied(obj: Object, *managers: tuple[str, Object]) -> Object:
    """``obj`` as the server holds it after server-side applies by ``managers``."""
    live = copy.deepcopy(obj)
    live["metadata"]["managedFields"] = [
        {
            "manager": name,
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": fields_of({k: v for k, v in part.items() if k in ("metadata", "spec")}),
        }
        for name, part in managers
    ]
    container = live["spec"]["template"]["spec"]["containers"][0]
    container["terminationMessagePath"] = "/dev/termination-log"
    return live


def action(desired: Object, live: Object) -> Action:
    resource = resource_of(Manifest(desired, "generated/dev/web/d.yaml"), OWNER)
    plan = plan_app(OWNER, [resource], {object_id(desired): live}, [])
    return plan.steps[0].action


def held_after_sync() -> tuple[Object, Object]:
    """2.0 synced over 1.0 running: what git asks, and the live Deployment."""
    first = resource_of(Manifest(deployment("web:1"), "d.yaml"), OWNER).obj
    running = applied(holding_stable(first, None), ("hakobu", holding_stable(first, None)))
    desired = resource_of(Manifest(deployment("web:2"), "d.yaml"), OWNER).obj
    held = holding_stable(desired, running)
    return deployment("web:2"), applied(held, ("hakobu", held))


def test_a_held_deployment_is_synced_before_the_rollout_scales_it() -> None:
    desired, live = held_after_sync()
    assert action(desired, live) is Action.UNCHANGED


def test_a_held_deployment_is_synced_once_the_rollout_owns_its_replicas() -> None:
    desired, live = held_after_sync()
    live["spec"]["replicas"] = 3
    fields = live["metadata"]["managedFields"][0]["fieldsV1"]
    del fields["f:spec"]["f:replicas"]
    live["metadata"]["managedFields"].append(
        {
            "manager": "hakobu-rollout-scale",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "fieldsV1": {"f:spec": {"f:replicas": {}}},
        }
    )
    assert action(desired, live) is Action.UNCHANGED


def test_a_change_git_makes_beside_the_template_is_an_update_while_held() -> None:
    desired, live = held_after_sync()
    desired["metadata"]["annotations"]["team"] = "shop"
    assert action(desired, live) is Action.UPDATE
