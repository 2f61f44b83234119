"""A promotion written as the sync writes it: nothing of the held version is left behind, and
the sync's own comparison finds the Deployment in sync with git."""

from __future__ import annotations

import json

from hakobu.model.canary import PENDING_ANNOTATION, TEMPLATE_HASH_ANNOTATION
from hakobu.model.objects import Object
from hakobu.model.rollout import holding_stable
from hakobu.releases.canary.engine import FIELD_MANAGER
from hakobu.releases.canary.handover import promote
from hakobu.sync.compare import in_sync
from hakobu.sync.held import compared_view
from hakobu.sync.ownership import FIELD_MANAGER as SYNC_MANAGER
from tests.fakes.kube import FakeKube

NAMESPACE = "shop"


def deployment(image: str, env: list[dict[str, str]]) -> Object:
    container = {"name": "web", "image": image, "env": env}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": NAMESPACE,
            "labels": {"hakobu.dev/app": "web"},
            "annotations": {"hakobu.dev/rollout": '{"canary":{"steps":[{"pause":{}}]}}'},
        },
        "spec": {
            "replicas": 4,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [container]},
            },
        },
    }


def held_by_a_sync(kube: FakeKube, old: Object, new: Object) -> Object:
    """``old`` running, and a sync of ``new`` holding it for the rollout, which has since
    scaled it with its own manager."""
    kube.apply(holding_stable(old, None), field_manager=SYNC_MANAGER)
    live = kube.get("apps/v1", "Deployment", "web", NAMESPACE)
    kube.apply(holding_stable(new, live), field_manager=SYNC_MANAGER)
    scale = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": NAMESPACE},
        "spec": {"replicas": 2},
    }
    kube.apply(scale, field_manager=f"{FIELD_MANAGER}-scale", force=True)
    return kube.get("apps/v1", "Deployment", "web", NAMESPACE)


def test_the_promoted_deployment_is_what_the_sync_applies() -> None:
    kube = FakeKube()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    old = deployment("web:1.0", [{"name": "LEGACY", "value": "on"}])
    new = deployment("web:1.1", [])
    stable = held_by_a_sync(kube, old, new)
    annotations = stable["metadata"]["annotations"]
    assert PENDING_ANNOTATION in annotations
    pending = annotations[PENDING_ANNOTATION]

    promoted = promote(kube, stable, json.loads(pending), marked=True)

    marks = promoted["metadata"]["annotations"]
    assert PENDING_ANNOTATION not in marks
    assert marks[TEMPLATE_HASH_ANNOTATION] == json.loads(pending)["hash"]
    container = promoted["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "web:1.1"
    # The field the old version had and the new one dropped went with it.
    assert not container.get("env")
    assert promoted["spec"]["replicas"] == 4
    # The sync's comparison: Synced, so the next sync writes nothing.
    assert in_sync(compared_view(new, promoted), promoted, SYNC_MANAGER)


def test_a_promotion_not_yet_marked_keeps_the_rollout_in_flight() -> None:
    kube = FakeKube()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    old = deployment("web:1.0", [])
    new = deployment("web:1.1", [])
    stable = held_by_a_sync(kube, old, new)
    running = stable["metadata"]["annotations"][TEMPLATE_HASH_ANNOTATION]
    pending = stable["metadata"]["annotations"][PENDING_ANNOTATION]

    rolling = promote(kube, stable, json.loads(pending), marked=False)

    marks = rolling["metadata"]["annotations"]
    assert (marks[TEMPLATE_HASH_ANNOTATION], marks[PENDING_ANNOTATION]) == (running, pending)
    assert rolling["spec"]["template"]["spec"]["containers"][0]["image"] == "web:1.1"
    # A sync meanwhile applies the same: the new template is now the running one.
    assert in_sync(compared_view(new, rolling), rolling, SYNC_MANAGER)
