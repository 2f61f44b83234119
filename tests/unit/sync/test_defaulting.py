"""An update the server's dry run says changes nothing is no update: what the server fills
in by default inside a list hakobu owns whole is not a difference."""

from __future__ import annotations

import copy
from typing import Any, cast

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import Conflict
from hakobu.model.objects import Object, object_id
from hakobu.sync.compare import in_sync
from hakobu.sync.defaulting import only_defaults, settled
from hakobu.sync.manifests import Manifest
from hakobu.sync.ownership import Owner
from hakobu.sync.plan import Action, plan_app, resource_of

OWNER = Owner("shop", "dev", "edge")
# The fields of an apply of ``route()``: its lists are atomic, owned whole.
ROUTE_FIELDS: dict[str, Any] = {
    "f:metadata": {"f:labels": {}},
    "f:spec": {"f:parentRefs": {}, "f:rules": {}},
}


def route(port: int = 80) -> Object:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web", "namespace": "dev"},
        "spec": {
            "parentRefs": [{"name": "shop"}],
            "rules": [{"backendRefs": [{"name": "web", "port": port}]}],
        },
    }


def defaulted(obj: Object) -> Object:
    """``obj`` as the API server stores it: the CRD's defaults inside its lists."""
    stored = copy.deepcopy(obj)
    spec = stored["spec"]
    spec["parentRefs"] = [
        {"group": "gateway.networking.k8s.io", "kind": "Gateway", **p} for p in spec["parentRefs"]
    ]
    for rule in spec["rules"]:
        rule["matches"] = [{"path": {"type": "PathPrefix", "value": "/"}}]
        rule["backendRefs"] = [
            {"group": "", "kind": "Service", "weight": 1, **b} for b in rule["backendRefs"]
        ]
    stored["metadata"]["managedFields"] = [
        {
            "manager": "hakobu",
            "operation": "Apply",
            "apiVersion": obj["apiVersion"],
            "fieldsV1": ROUTE_FIELDS,
        }
    ]
    return stored


class DryRuns:
    """Answers a dry run of an apply as the server would: the object with its defaults."""

    def __init__(self, refuse: bool = False) -> None:
        self.asked: list[Object] = []
        self.refuse = refuse

    def apply(
        self, obj: Object, *, field_manager: str, force: bool = False, dry_run: bool = False
    ) -> Object:
        assert dry_run and field_manager == "hakobu"
        self.asked.append(obj)
        if self.refuse:
            raise Conflict(409, "Conflict", "Apply failed with 1 conflict", {})
        return defaulted(obj)


def kube(dry_runs: DryRuns) -> KubeApi:
    return cast(KubeApi, dry_runs)


def planned(desired: Object, live: Object, dry_runs: DryRuns) -> Action:
    resource = resource_of(Manifest(desired, "generated/dev/edge/route.yaml"), OWNER)
    lives: dict[Any, Object | None] = {object_id(desired): live}
    plan = settled(kube(dry_runs), plan_app(OWNER, [resource], lives, []), lives)
    return plan.steps[0].action


def test_defaults_inside_an_atomic_list_are_a_difference_to_the_fields_alone() -> None:
    # The reason the server is asked: the field set owns the lists whole.
    assert not in_sync(route(), defaulted(route()), "hakobu")


def test_a_route_differing_only_by_defaults_is_unchanged() -> None:
    dry_runs = DryRuns()
    desired = resource_of(Manifest(route(), "r.yaml"), OWNER).obj
    assert planned(route(), defaulted(desired), dry_runs) is Action.UNCHANGED
    assert len(dry_runs.asked) == 1


def test_a_change_inside_an_atomic_list_is_an_update() -> None:
    dry_runs = DryRuns()
    live = defaulted(resource_of(Manifest(route(), "r.yaml"), OWNER).obj)
    assert planned(route(port=8080), live, dry_runs) is Action.UPDATE


def test_an_object_in_sync_asks_nothing() -> None:
    dry_runs = DryRuns()
    desired = resource_of(Manifest(route(), "r.yaml"), OWNER).obj
    live = copy.deepcopy(desired)
    live["metadata"]["managedFields"] = defaulted(desired)["metadata"]["managedFields"]
    assert planned(route(), live, dry_runs) is Action.UNCHANGED
    assert dry_runs.asked == []


def test_a_dry_run_the_server_refuses_leaves_the_update() -> None:
    live = defaulted(resource_of(Manifest(route(), "r.yaml"), OWNER).obj)
    assert not only_defaults(kube(DryRuns(refuse=True)), route(), live)
