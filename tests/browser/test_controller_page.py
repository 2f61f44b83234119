"""The Controller page: Deliveries with their last reconcile request, and the replicas'
and shards' Leases with their holders."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from hakobu.cluster.client import KubeClient
from hakobu.controller.crd import delivery_crd
from hakobu.controller.deliveries import create_delivery, delivery_object, request_reconcile
from hakobu.controller.delivery import DeliveryRef
from hakobu.controller.membership import ROLE_LABEL, SHARDS_LABEL
from hakobu.controller.sharding import SHARD_LABEL
from hakobu.model.project import load_project
from hakobu.web.local import LocalDashboard
from tests.browser.conftest import screenshot
from tests.browser.test_dashboard import Clone, clone
from tests.integration.test_delivery_cli import wait_served

__all__ = ["clone"]

pytestmark = pytest.mark.cluster


def lease(kube: KubeClient, namespace: str, name: str, labels: dict[str, str], holder: str) -> None:
    kube.create(
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15},
        }
    )


def test_the_controller_page_shows_deliveries_shards_and_holders(
    page: Page, kube: KubeClient, clone: Clone, namespace: str
) -> None:
    kube.apply(delivery_crd(), field_manager="hakobu-install")
    wait_served(kube, True)
    ref = DeliveryRef(namespace, "shop-dev")
    create_delivery(
        kube, delivery_object(ref, url="https://git.example/shop.git", environment="dev")
    )
    request_reconcile(kube, ref)
    lease(
        kube, namespace, "hakobu-member-a", {ROLE_LABEL: "member", SHARDS_LABEL: "2"}, "replica-a"
    )
    for shard in ("0", "1"):
        labels = {ROLE_LABEL: "shard", SHARD_LABEL: shard, SHARDS_LABEL: "2"}
        lease(kube, namespace, f"hakobu-shard-{shard}", labels, "replica-a")
    local = LocalDashboard(
        load_project(clone.root), kube, port=0, interval=0.5, shard_namespace=namespace
    )
    url = local.start()
    try:
        page.goto(url)
        expect(page.locator("#app[data-ready=true]")).to_be_visible()
        page.goto(f"http://127.0.0.1:{local.port}/controller")
        expect(page.locator("#app[data-ready=true]")).to_be_visible()
        tables = page.locator("table.list")
        expect(tables.nth(0)).to_contain_text(f"{namespace}/shop-dev")
        # The last reconcile request, as a push webhook sets it.
        expect(tables.nth(0)).to_contain_text(re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d"))
        expect(tables.nth(1)).to_contain_text("shard 1")
        expect(tables.nth(1).locator("td", has_text="replica-a")).to_have_count(3)
        screenshot(page, "controller")
    finally:
        local.stop()
