"""In a real browser: a sync the dashboard asks for inside a closed sync window is refused,
and goes on once the user gives a reason, which the sync record keeps; an app that waits
for another (dependsOn) says so on the overview and on its page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from hakobu.cluster.client import KubeClient
from hakobu.model.dependencies import ANNOTATION
from hakobu.model.project import load_project
from hakobu.web.local import LocalDashboard
from tests.browser.conftest import screenshot
from tests.browser.test_dashboard import Clone, cell, clone, sync_env
from tests.integration.test_sync import configmap, deployment
from tests.integration.test_sync_windows import deny_now
from tests.integration.test_web_api import hand_edit
from tests.integration.test_web_windows import records

__all__ = ["clone"]

pytestmark = pytest.mark.cluster


def test_a_sync_in_a_closed_window_goes_on_with_a_reason(
    page: Page, kube: KubeClient, clone: Clone, namespace: str
) -> None:
    sync_env(kube, clone.root, "dev")
    deny_now(clone.root)
    clone.commit("dev: a deny window")
    hand_edit(kube, namespace, "red")
    local = LocalDashboard(load_project(clone.root), kube, port=0, interval=0.2)
    url = local.start()
    try:
        page.goto(url)
        expect(page.locator("#app[data-ready=true]")).to_be_visible()
        page.goto(url.split("/signin")[0] + "/env/dev/app/web")
        expect(page.locator("#app[data-ready=true]")).to_be_visible()
        page.locator("#sync-app").click()
        dialog = page.locator("#confirm")
        expect(dialog.locator(".preview pre")).to_contain_text("colour: blue")
        dialog.locator("#force").check()
        expect(dialog.locator("#confirm-ok")).to_be_enabled()
        dialog.locator("#confirm-ok").click()

        refused = dialog.locator(".action-error")
        expect(refused).to_contain_text("deny window syncWindows[0]")
        override = refused.locator("form.override")
        expect(override).to_be_visible()
        screenshot(page, "sync-window-closed")
        # Nothing was applied while the window refused it.
        assert kube.get("v1", "ConfigMap", "web-settings", namespace)["data"] == {"colour": "red"}

        override.locator("input[name=reason]").fill("red breaks checkout")
        override.locator("button[type=submit]").click()
        expect(dialog.locator("#progress[data-result=Succeeded]")).to_be_visible(timeout=60_000)
        screenshot(page, "sync-window-overridden")
        last = records(kube, namespace)[-1]
        assert last["window_override"]["reason"] == "red breaks checkout"
        assert kube.get("v1", "ConfigMap", "web-settings", namespace)["data"] == {"colour": "blue"}
    finally:
        local.stop()


def test_an_app_waiting_for_another_says_which(
    page: Page, kube: KubeClient, clone: Clone, namespace: str
) -> None:
    # As render writes it: web's every object names the app it is synced after.
    for env in ("dev", "prod"):
        for obj in (deployment("web", "shop/web:1.0"), configmap("web-settings", colour="blue")):
            obj["metadata"].setdefault("annotations", {})[ANNOTATION] = "api"
            clone.put(env, "web", obj)
    clone.commit("web depends on api")
    sync_env(kube, clone.root, "dev")
    local = LocalDashboard(load_project(clone.root), kube, port=0, interval=0.2)
    url = local.start()
    try:
        page.goto(url)
        expect(page.locator("#app[data-ready=true]")).to_be_visible()
        # prod was never synced: web waits for api, which is not there yet.
        expect(cell(page, "prod", "web").locator(".waiting")).to_have_text("waits for api")
        expect(cell(page, "prod", "web").locator(".waiting")).to_have_attribute(
            "title", "waiting for api (OutOfSync, Missing)"
        )
        # dev is synced: nothing waits.
        expect(cell(page, "dev", "web")).to_contain_text("Synced")
        expect(cell(page, "dev", "web").locator(".waiting")).to_have_count(0)
        screenshot(page, "overview-waiting")
        page.goto(url.split("/signin")[0] + "/env/prod/app/web")
        expect(page.locator(".toolbar .waiting")).to_have_text(
            "waiting for api (OutOfSync, Missing)"
        )
    finally:
        local.stop()
