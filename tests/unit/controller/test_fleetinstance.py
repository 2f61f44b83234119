"""A FleetInstance's spec as the controller reads it, and its status as the controller
writes it."""

from __future__ import annotations

from typing import Any

import pytest

from hakobu.controller.delivery import DeliveryRef
from hakobu.controller.fleetinstance import InvalidFleetInstance, parse
from hakobu.controller.fleetstatus import (
    COMMITTED,
    REFUSED,
    Deployed,
    Writing,
    app_state,
    deployed_status,
    written_status,
)


def obj(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "berlin", "namespace": "shops", "generation": 3},
        "spec": {"delivery": "shop", "fleet": "shops", "tier": "canary", **spec},
    }


def test_the_instance_is_named_after_the_resource_unless_the_spec_names_it() -> None:
    found = parse(obj(values={"host": "b.example"}))
    assert (found.instance, found.delivery, found.generation) == (
        "berlin",
        DeliveryRef("shops", "shop"),
        3,
    )
    assert parse(obj(instance="berlin-2")).instance == "berlin-2"


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ({"instance": "../etc"}, "spec.instance: expected a DNS-1123 label"),
        ({"instance": "berlin\n"}, "spec.instance: expected a DNS-1123 label"),
        ({"fleet": "Shops"}, "spec.fleet: expected a DNS-1123 label"),
        ({"values": ["host"]}, "spec.values: expected a mapping"),
        ({"tier": ""}, "spec.tier: expected a non-empty string"),
        ({"delivery": None}, "spec.delivery: expected a non-empty string"),
    ],
)
def test_a_spec_that_cannot_name_a_file_is_refused(spec: dict[str, Any], said: str) -> None:
    with pytest.raises(InvalidFleetInstance, match="FleetInstance shops/berlin: ") as raised:
        parse(obj(**spec))
    assert said in raised.value.message


def test_written_then_read_back_healthy() -> None:
    status = written_status({}, Writing(3, COMMITTED, "written in abc", "abc123"), at="t0")
    assert status["commit"] == "abc123" and status["observedGeneration"] == 3
    ready = {c["type"]: c for c in status["conditions"]}
    assert (ready["Written"]["status"], ready["Ready"]["reason"]) == ("True", "Syncing")

    waiting = deployed_status(status, Deployed(False, "Synced", "Healthy"), at="t1")
    assert (waiting["sync"], waiting["health"]) == ("OutOfSync", "Healthy")
    done = deployed_status(waiting, Deployed(True, "Synced", "Healthy"), at="t2")
    conditions = {c["type"]: c for c in done["conditions"]}
    assert conditions["Ready"]["status"] == "True"
    # Written has held since the write: its transition time stays.
    assert conditions["Written"]["lastTransitionTime"] == "t0"
    assert conditions["Ready"]["lastTransitionTime"] == "t2"


def test_a_refusal_keeps_the_commit_of_the_generation_written_before() -> None:
    before = written_status({}, Writing(1, COMMITTED, "written", "abc123"), at="t0")
    after = written_status(before, Writing(2, REFUSED, "tier 'gold' is not a tier"), at="t1")
    conditions = {c["type"]: c for c in after["conditions"]}
    assert after["commit"] == "abc123" and after["observedGeneration"] == 2
    assert (conditions["Ready"]["status"], conditions["Ready"]["reason"]) == ("False", REFUSED)
    assert conditions["Ready"]["message"] == "tier 'gold' is not a tier"


def test_only_the_switches_the_spec_sets_are_the_resource_s() -> None:
    assert parse(obj()).switches == {}
    assert parse(obj(suspend=True, maintenance=False)).switches == {
        "suspend": True,
        "maintenance": False,
    }
    with pytest.raises(InvalidFleetInstance, match=r"spec.suspend: expected true or false"):
        parse(obj(suspend="yes"))


def test_a_suspended_instance_is_not_ready_and_says_why() -> None:
    status = written_status({}, Writing(3, COMMITTED, "written in abc", "abc123"), at="t0")
    read = deployed_status(status, Deployed(True, "Suspended", "Healthy"), at="t1")
    ready = {c["type"]: c for c in read["conditions"]}["Ready"]
    assert read["sync"] == "Suspended"
    assert (ready["status"], ready["reason"]) == ("False", "Suspended")
    assert "suspend: true" in ready["message"]


def test_an_instance_of_an_environment_of_several_clusters_is_its_worst_cluster_s() -> None:
    one = {"apps": [{"name": "shops-berlin", "sync": "Synced", "health": "Healthy"}]}
    assert app_state(one, "shops-berlin") == ("Synced", "Healthy")
    assert app_state(one, "shops-paris") == (None, None)
    several = {
        "clusters": [{"name": "one"}, {"name": "two"}],
        "apps": [
            {"name": "one/shops-berlin", "sync": "Synced", "health": "Healthy"},
            {"name": "two/shops-berlin", "sync": "Synced", "health": "Degraded"},
            {"name": "one/shops-paris", "sync": "Synced", "health": "Healthy"},
        ],
    }
    assert app_state(several, "shops-berlin") == ("Synced", "Degraded")
    # Not reported by cluster two: not there yet.
    assert app_state(several, "shops-paris") == ("OutOfSync", "Missing")


def test_a_commit_the_delivery_tried_and_did_not_apply_says_why() -> None:
    status = written_status({}, Writing(3, COMMITTED, "written in abc", "abc123"), at="t0")
    failed = ("SyncFailed", "cluster eu-2: apply refused: quota exceeded")
    read = deployed_status(status, Deployed(False, "OutOfSync", "Missing", failed), at="t1")
    ready = {c["type"]: c for c in read["conditions"]}["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "SyncFailed")
    assert ready["message"] == (
        "the Delivery did not apply the commit: cluster eu-2: apply refused: quota exceeded"
    )
