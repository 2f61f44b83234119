"""The dashboard's API against the real control plane: a confirmation that comes back
after the environment changed is refused with what changed, and nothing is applied;
suspend and resume act on the environment's Delivery and are told as Events."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from hakobu.cluster.client import KubeClient
from hakobu.controller.crd import delivery_crd
from hakobu.controller.deliveries import create_delivery, delivery_object
from hakobu.controller.delivery import DeliveryRef
from hakobu.model.project import load_project
from hakobu.web.local import LocalDashboard
from tests.browser.test_dashboard import Clone, clone, sync_env
from tests.integration.test_delivery_cli import wait_served
from tests.integration.test_sync import configmap

__all__ = ["clone"]

pytestmark = pytest.mark.cluster


@pytest.fixture
def api(kube: KubeClient, clone: Clone) -> Iterator[httpx.Client]:
    sync_env(kube, clone.root, "dev")
    local = LocalDashboard(load_project(clone.root), kube, port=0, interval=0.2)
    local.start()
    headers = {"Authorization": f"Bearer {local.key}"}
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{local.port}", headers=headers, timeout=60
        ) as client:
            yield client
    finally:
        local.stop()


def hand_edit(kube: KubeClient, namespace: str, colour: str) -> None:
    kube.request(
        "PATCH",
        f"/api/v1/namespaces/{namespace}/configmaps/web-settings",
        params={"fieldManager": "kubectl-edit"},
        body={"data": {"colour": colour}},
        content_type="application/merge-patch+json",
    )


def test_a_confirmation_after_a_change_is_refused_with_what_changed(
    api: httpx.Client, kube: KubeClient, clone: Clone, namespace: str
) -> None:
    hand_edit(kube, namespace, "red")
    body = {"app": "web", "force_conflicts": True}
    preview = api.post("/api/v1/environments/dev/sync/preview", json=body).json()
    assert [d["change"] for d in preview["diffs"]] == ["update"]

    hand_edit(kube, namespace, "green")
    stale = api.post("/api/v1/environments/dev/sync", json={**body, "basis": preview["basis"]})
    assert stale.status_code == 409
    assert any("differs otherwise than shown" in c for c in stale.json()["changes"])

    clone.put("dev", "web", configmap("web-settings", colour="yellow"))
    clone.commit("web: yellow")
    moved = api.post("/api/v1/environments/dev/sync", json={**body, "basis": preview["basis"]})
    assert moved.status_code == 409
    assert any(c.startswith("git moved from") for c in moved.json()["changes"])
    time.sleep(1)
    live = kube.get("v1", "ConfigMap", "web-settings", namespace)
    assert live["data"] == {"colour": "green"}, "a refused sync applied nothing"


def test_suspend_and_resume_patch_the_delivery_and_are_audited(
    api: httpx.Client, kube: KubeClient, namespace: str
) -> None:
    missing = api.post("/api/v1/environments/dev/suspend")
    assert missing.status_code == 404
    assert "no Delivery delivers dev" in missing.json()["message"]

    kube.apply(delivery_crd(), field_manager="hakobu-install")
    wait_served(kube, True)
    ref = DeliveryRef(namespace, "shop-dev")
    create_delivery(
        kube, delivery_object(ref, url="https://git.example/shop.git", environment="dev")
    )
    time.sleep(5.5)  # the dashboard reads the Deliveries again at most every 5 seconds
    assert api.get("/api/v1/controller").json()["deliveries"][0]["name"] == "shop-dev"

    assert api.post("/api/v1/environments/dev/suspend").json() == {
        "delivery": str(ref),
        "suspend": True,
    }
    stored = kube.request(
        "GET", f"/apis/hakobu.dev/v1alpha1/namespaces/{namespace}/deliveries/shop-dev"
    )
    assert stored["spec"]["suspend"] is True
    api.post("/api/v1/environments/dev/resume").raise_for_status()
    stored = kube.request(
        "GET", f"/apis/hakobu.dev/v1alpha1/namespaces/{namespace}/deliveries/shop-dev"
    )
    assert stored["spec"]["suspend"] is False
    events = [
        e
        for e in kube.list("v1", "Event", namespace).items
        if e["involvedObject"].get("kind") == "Delivery"
    ]
    assert sorted(e["reason"] for e in events) == ["Resume", "Suspend"]
    assert all(e["metadata"]["annotations"]["hakobu.dev/requested-by"] for e in events)
