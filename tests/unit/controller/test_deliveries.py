"""Handling Deliveries through the API: the requests made and what a person is told."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from hakobu.cluster.discovery import ApiResource
from hakobu.cluster.errors import AlreadyExists, NotFound
from hakobu.controller import deliveries
from hakobu.controller.delivery import RECONCILE_REQUESTED_AT, DeliveryRef, InvalidDelivery
from hakobu.errors import InvalidInput
from tests.fakes.kube import BUILT_IN, FakeKube

DELIVERY = ApiResource("hakobu.dev", "v1alpha1", "Delivery", "deliveries", namespaced=True)
REF = DeliveryRef("team", "shop")


class PatchingKube(FakeKube):
    """FakeKube with JSON merge patches (RFC 7386) by REST path, which it does not model."""

    def __init__(self, *, crd: bool = True) -> None:
        super().__init__(BUILT_IN + ((DELIVERY,) if crd else ()))
        self.sent: list[tuple[str, str, Any, str]] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        self.sent.append((method, path, kwargs.get("body"), kwargs.get("content_type", "")))
        if method != "PATCH":
            return super().request(method, path, **kwargs)
        assert kwargs["content_type"] == "application/merge-patch+json"
        live = super().request("GET", path)
        return self._update(_merge_patch(live, kwargs["body"]))


def _merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    merged = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _merge_patch(merged.get(key), value)
    return merged


def kube_with_shop() -> PatchingKube:
    kube = PatchingKube()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    kube.create(deliveries.delivery_object(REF, url="/srv/shop.git", environment="prod"))
    return kube


def test_paths() -> None:
    assert deliveries.collection_path(None) == "/apis/hakobu.dev/v1alpha1/deliveries"
    assert (
        deliveries.delivery_path(REF) == "/apis/hakobu.dev/v1alpha1/namespaces/team/deliveries/shop"
    )
    assert deliveries.collection_path("team") == DELIVERY.collection_path("team")


@pytest.mark.parametrize(
    "ref", [DeliveryRef("team", "../../../api/v1/secrets"), DeliveryRef("Team", "shop")]
)
def test_a_name_that_would_lead_elsewhere_is_refused(ref: DeliveryRef) -> None:
    kube = kube_with_shop()
    with pytest.raises(InvalidInput):
        deliveries.request_reconcile(kube, ref)
    with pytest.raises(InvalidInput):
        deliveries.delivery_object(ref, url="u", environment="e")
    assert kube.sent == []


def test_request_reconcile_sets_the_annotation_with_one_merge_patch() -> None:
    kube = kube_with_shop()
    at = datetime(2026, 12, 3, 9, 30, 5, 120000, tzinfo=UTC)
    deliveries.request_reconcile(kube, REF, at)
    assert kube.sent == [
        (
            "PATCH",
            "/apis/hakobu.dev/v1alpha1/namespaces/team/deliveries/shop",
            {"metadata": {"annotations": {RECONCILE_REQUESTED_AT: "2026-12-03T09:30:05.120000Z"}}},
            "application/merge-patch+json",
        )
    ]
    stored = kube.get("hakobu.dev/v1alpha1", "Delivery", "shop", "team")
    assert stored["metadata"]["annotations"][RECONCILE_REQUESTED_AT] == (
        "2026-12-03T09:30:05.120000Z"
    )
    assert stored["spec"]["environment"] == "prod"


def test_timestamps_are_utc_and_differ_within_a_second() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert deliveries.timestamp(datetime(2026, 1, 1, 9, tzinfo=tokyo)) == (
        "2026-01-01T00:00:00.000000Z"
    )
    first = datetime(2026, 1, 1, tzinfo=UTC)
    assert deliveries.timestamp(first) != deliveries.timestamp(first + timedelta(microseconds=1))
    parsed = datetime.fromisoformat(deliveries.timestamp())
    assert abs(parsed - datetime.now(UTC)) < timedelta(seconds=5)


def test_request_reconcile_of_a_missing_delivery_raises_not_found() -> None:
    kube = kube_with_shop()
    with pytest.raises(NotFound):
        deliveries.request_reconcile(kube, DeliveryRef("team", "gone"))


def test_suspend_and_resume() -> None:
    kube = kube_with_shop()
    assert deliveries.set_suspended(kube, REF, True)["spec"]["suspend"] is True
    assert kube.get("hakobu.dev/v1alpha1", "Delivery", "shop", "team")["spec"]["suspend"]
    deliveries.set_suspended(kube, REF, False)
    assert not kube.get("hakobu.dev/v1alpha1", "Delivery", "shop", "team")["spec"]["suspend"]
    assert [body for _, _, body, _ in kube.sent[-2:]] == [
        {"spec": {"suspend": True}},
        {"spec": {"suspend": False}},
    ]


def test_list_sorts_by_namespace_then_name_and_filters_by_namespace() -> None:
    kube = kube_with_shop()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "alpha"}})
    for ns, name in (("team", "cart"), ("alpha", "web")):
        kube.create(
            deliveries.delivery_object(DeliveryRef(ns, name), url="/srv/x.git", environment="e")
        )
    every = deliveries.list_deliveries(kube, None)
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in every] == [
        ("alpha", "web"),
        ("team", "cart"),
        ("team", "shop"),
    ]
    assert all(o["kind"] == "Delivery" for o in every)
    assert [o["metadata"]["name"] for o in deliveries.list_deliveries(kube, "team")] == [
        "cart",
        "shop",
    ]


def test_list_without_the_crd_says_to_install() -> None:
    with pytest.raises(deliveries.NotInstalled) as caught:
        deliveries.list_deliveries(PatchingKube(crd=False), None)
    assert "hakobu install" in str(caught.value) and caught.value.exit_code == 1


def test_missing_tells_a_missing_delivery_from_a_missing_crd() -> None:
    gone = DeliveryRef("team", "gone")
    told = deliveries.missing(kube_with_shop(), gone)
    assert isinstance(told, deliveries.DeliveryNotFound)
    assert 'Delivery "gone" not found in namespace "team"' in str(told)
    assert isinstance(deliveries.missing(PatchingKube(crd=False), gone), deliveries.NotInstalled)


def test_delivery_object_writes_only_what_was_given() -> None:
    assert deliveries.delivery_object(REF, url="u", environment="prod") == {
        "apiVersion": "hakobu.dev/v1alpha1",
        "kind": "Delivery",
        "metadata": {"name": "shop", "namespace": "team"},
        "spec": {"repository": {"url": "u"}, "environment": "prod"},
    }
    full = deliveries.delivery_object(
        REF,
        url="ssh://git@host/shop",
        environment="prod",
        branch="release",
        path="deploy",
        interval="1m30s",
        prune=True,
        secret="shop-git",
        auto_rollback="10m",
    )
    assert full["spec"] == {
        "repository": {"url": "ssh://git@host/shop", "branch": "release", "path": "deploy"},
        "environment": "prod",
        "interval": "1m30s",
        "prune": True,
        "secretRef": {"name": "shop-git"},
        "autoRollback": {"window": "10m"},
    }


@pytest.mark.parametrize(
    ("field", "arguments"),
    [
        ("spec.interval", {"interval": "5"}),
        ("spec.interval", {"interval": "0s"}),
        ("spec.autoRollback.window", {"auto_rollback": "soon"}),
        ("spec.repository.branch", {"branch": ""}),
        ("spec.environment", {"environment": ""}),
    ],
)
def test_delivery_object_refuses_what_the_controller_would(
    field: str, arguments: dict[str, Any]
) -> None:
    with pytest.raises(InvalidDelivery, match=field):
        deliveries.delivery_object(REF, **({"url": "u", "environment": "prod"} | arguments))


def test_create_posts_with_the_field_manager_and_refuses_a_second() -> None:
    kube = kube_with_shop()
    obj = deliveries.delivery_object(DeliveryRef("team", "cart"), url="u", environment="e")
    created = deliveries.create_delivery(kube, obj)
    assert created["metadata"]["uid"]
    assert kube.sent[-1][:2] == ("POST", "/apis/hakobu.dev/v1alpha1/namespaces/team/deliveries")
    with pytest.raises(AlreadyExists):
        deliveries.create_delivery(kube, obj)


def test_create_without_the_crd_says_to_install() -> None:
    obj = deliveries.delivery_object(REF, url="u", environment="e")
    with pytest.raises(deliveries.NotInstalled):
        deliveries.create_delivery(PatchingKube(crd=False), obj)


def condition(kind: str, status: str, message: str) -> dict[str, str]:
    return {"type": kind, "status": status, "message": message}


@pytest.mark.parametrize(
    ("conditions", "ready", "message"),
    [
        ([], "", ""),
        ([condition("Ready", "True", "applied abc")], "True", ""),
        ([condition("Ready", "False", "clone failed")], "False", "clone failed"),
        (
            [
                condition("Ready", "False", "clone failed"),
                condition("Stalled", "True", "no secret"),
            ],
            "False",
            "no secret",
        ),
        (
            [condition("Ready", "Unknown", "syncing"), condition("Stalled", "False", "old")],
            "Unknown",
            "",
        ),
    ],
)
def test_summary_tells_why_a_delivery_is_stuck(
    conditions: list[dict[str, str]], ready: str, message: str
) -> None:
    obj = deliveries.delivery_object(REF, url="u", environment="prod")
    obj["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
    obj["status"] = {"revision": "abc1234", "sync": "Synced", "conditions": conditions}
    shown = deliveries.summary(obj)
    assert (shown.ready, shown.message) == (ready, message)
    assert (shown.namespace, shown.name, shown.environment) == ("team", "shop", "prod")
    assert (shown.revision, shown.sync, shown.health) == ("abc1234", "Synced", "")
    assert shown.created == "2026-01-01T00:00:00Z" and not shown.suspended
