"""Promote through the button: FROM must be Synced and Healthy; the commit is made, and TO
follows it in the cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from hakobu.cluster.client import KubeClient
from hakobu.model.project import load_project
from hakobu.sync import SyncOptions, read_desired, sync
from hakobu.sync.record import record_sync
from hakobu.web.local import LocalDashboard
from tests.browser.conftest import screenshot
from tests.unit.releases.test_rollback import Shop

pytestmark = pytest.mark.cluster


@pytest.fixture
def shop(tmp_path: Path, namespace: str, kube: KubeClient) -> Iterator[Shop]:
    prod = f"{namespace}-prod"
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": prod}})
    yield Shop(tmp_path / "shop", dev=namespace, prod=prod)
    kube.delete("v1", "Namespace", prod, propagation="Background")


def test_a_promotion_through_the_button_commits_and_the_target_follows(
    page: Page, kube: KubeClient, shop: Shop, namespace: str
) -> None:
    shop.write(
        "apps/web.yaml",
        shop.read("apps/web.yaml").replace(
            "environments:\n", "environments:\n  dev: {image: 'nginx:1.28'}\n"
        ),
    )
    before = shop.render_and_commit("dev runs 1.28")
    project = load_project(shop.root)
    dev = project.environment("dev")
    result = sync(kube, project, dev, read_desired(project, dev), options=SyncOptions(timeout=90))
    assert result.succeeded, result
    record_sync(kube, dev.namespace, result)
    local = LocalDashboard(project, kube, port=0, interval=0.3)
    url = local.start()
    try:
        page.goto(url)
        expect(page.locator("#app[data-ready=true]")).to_be_visible()
        page.goto(f"http://127.0.0.1:{local.port}/promote/dev/prod")
        expect(page.locator("#app[data-ready=true]")).to_be_visible()
        dialog = page.locator("#confirm")
        # One app's promotion, previewed from its row, then left.
        page.locator('button.promote-app[data-app="web"]').click()
        expect(dialog.locator("#confirm-title")).to_have_text("Promote web from dev → prod")
        expect(dialog.locator("table.changes")).to_contain_text("nginx:1.28")
        screenshot(page, "promote-app-preview")
        dialog.locator("#confirm-cancel").click()
        page.locator("#promote").click()
        expect(dialog.locator("#confirm-title")).to_have_text("Promote dev → prod")
        expect(dialog.locator("table.changes")).to_contain_text("nginx:1.28")
        screenshot(page, "promote-preview")
        dialog.locator("#confirm-ok").click()
        expect(dialog.locator("#progress[data-result=Succeeded]")).to_be_visible(timeout=90_000)
        screenshot(page, "promote-done")
    finally:
        local.stop()
    assert shop.git("rev-parse", "HEAD~1") == before
    assert "image: nginx:1.28" in shop.read("generated/prod/web/deployment-web.yaml")
    live = kube.get("apps/v1", "Deployment", "web", f"{namespace}-prod")
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
