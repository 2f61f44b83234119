"""ignoreDifferences in a sync, against the in-memory API server: the fields they name are
neither drift nor taken back once the object exists, and set from git when it is created."""

from __future__ import annotations

import dataclasses
from typing import Any

from hakobu.model.ignoredifferences import IgnoreRule
from hakobu.model.objects import Object
from hakobu.sync import observe, sync
from hakobu.sync.ignoring import ignoring
from hakobu.sync.manifests import DesiredState
from hakobu.sync.run import SyncOptions, SyncResult
from hakobu.sync.status import SyncState, app_status
from tests.fakes.kube import FakeKube
from tests.unit.sync.test_engine import ENV, NS, PROJECT, desired

REPLICAS = IgnoreRule("apps", "Deployment", None, None, (("spec", "replicas"),), ())
BY_AUTOSCALER = IgnoreRule("apps", "Deployment", "web", NS, (), ("autoscaler",))


def deployment(replicas: int, image: str = "web:1") -> Object:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": NS},
        "spec": {
            "replicas": replicas,
            "template": {"spec": {"containers": [{"name": "web", "image": image}]}},
        },
    }


def rolled_out(obj: Object) -> None:
    """A Deployment controller in small: every Deployment has rolled out at once."""
    if obj["kind"] == "Deployment":
        replicas = obj["spec"].get("replicas", 1)
        obj["status"] = {
            "observedGeneration": obj["metadata"].get("generation", 1),
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
        }


def cluster() -> FakeKube:
    kube = FakeKube()
    kube.controllers.append(rolled_out)
    return kube


def run(kube: FakeKube, state: DesiredState, *rules: IgnoreRule, **options: Any) -> SyncResult:
    env = dataclasses.replace(ENV, ignore_differences=rules)
    return sync(kube, PROJECT, env, state, options=SyncOptions(timeout=5, workers=2, **options))


def scaled_by_autoscaler(kube: FakeKube, replicas: int) -> None:
    scaled = {**deployment(replicas), "spec": {"replicas": replicas}}
    kube.apply(scaled, field_manager="autoscaler", force=True)


def live_replicas(kube: FakeKube) -> int:
    return int(kube.get("apps/v1", "Deployment", "web", NS)["spec"]["replicas"])


def test_an_ignored_field_is_set_at_creation_then_left_to_whoever_owns_it() -> None:
    for rule in (REPLICAS, BY_AUTOSCALER):
        kube = cluster()
        run(kube, desired(deployment(2)), rule)
        assert live_replicas(kube) == 2
        scaled_by_autoscaler(kube, 5)
        env = dataclasses.replace(ENV, ignore_differences=(rule,))
        [state] = observe(kube, PROJECT, env, desired(deployment(2)))
        assert app_status(state, PROJECT.health).sync is SyncState.SYNCED
        # A new image is applied; the autoscaler's replicas stay, even with force.
        result = run(kube, desired(deployment(2, "web:2")), rule, force_conflicts=True)
        assert result.succeeded, result
        live = kube.get("apps/v1", "Deployment", "web", NS)
        assert live["spec"]["replicas"] == 5
        assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "web:2"


def test_without_a_rule_the_same_change_is_drift_and_taken_back() -> None:
    kube = cluster()
    run(kube, desired(deployment(2)))
    scaled_by_autoscaler(kube, 5)
    [state] = observe(kube, PROJECT, ENV, desired(deployment(2)))
    assert app_status(state, PROJECT.health).sync is not SyncState.SYNCED
    run(kube, desired(deployment(2)), force_conflicts=True)
    assert live_replicas(kube) == 2


def test_pointers_reach_into_lists_and_leave_other_objects_alone() -> None:
    rule = IgnoreRule("apps", "Deployment", "web", None, (("spec", "template", "spec",
                      "containers", "0", "image"), ("spec", "absent")), ())  # fmt: skip
    web = deployment(2)
    trimmed = ignoring(web, web, [rule])
    assert trimmed["spec"]["template"]["spec"]["containers"] == [{"name": "web"}]
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "web:1"  # a copy
    other = {**web, "metadata": {"name": "api", "namespace": NS}}
    assert ignoring(other, other, [rule]) is other
