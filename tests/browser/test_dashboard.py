"""The dashboard in a real browser against the real control plane: what the overview shows
after syncs, drift appearing live, a sync through the button, and what a read-only user
may do."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Page, expect

from hakobu.cluster.client import KubeClient
from hakobu.controller.server import Server
from hakobu.model.project import load_project
from hakobu.sync import SyncOptions, read_desired, sync
from hakobu.sync.record import record_sync
from hakobu.web.access import ClusterAccess
from hakobu.web.local import LocalDashboard
from hakobu.web.server import create_app, dashboard
from tests.browser.conftest import screenshot
from tests.integration.test_sync import configmap, deployment

pytestmark = pytest.mark.cluster


class Clone:
    """A git work tree holding a project with two environments."""

    def __init__(self, root: Path, namespace: str) -> None:
        self.root = root
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "ada@example.com")
        self.git("config", "user.name", "Ada")
        project = {
            "apiVersion": "hakobu.dev/v1alpha1",
            "kind": "Project",
            "name": "shop",
            "environments": {
                "dev": {"namespace": namespace, "values": {"release": "2026.12"}},
                "prod": {"namespace": f"{namespace}-prod", "values": {"release": "2026.11"}},
            },
            "promote": {"values": ["release"]},
        }
        (root / "hakobu.yaml").write_text(yaml.safe_dump(project))

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.root), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    def put(self, env: str, app: str, obj: dict[str, Any]) -> None:
        directory = self.root / "generated" / env / app
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        (directory / name).write_text(yaml.safe_dump(obj))

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def clone(tmp_path: Path, namespace: str, kube: KubeClient) -> Iterator[Clone]:
    prod = f"{namespace}-prod"
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": prod}})
    (tmp_path / "shop").mkdir()
    made = Clone(tmp_path / "shop", namespace)
    for env in ("dev", "prod"):
        made.put(env, "web", deployment("web", "shop/web:1.0"))
        made.put(env, "web", configmap("web-settings", colour="blue"))
        made.put(env, "api", deployment("api", "shop/api:2.3"))
    made.commit("web 1.0 and api 2.3")
    yield made
    kube.delete("v1", "Namespace", prod, propagation="Background")


def sync_env(kube: KubeClient, root: Path, env: str) -> None:
    project = load_project(root)
    environment = project.environment(env)
    desired = read_desired(project, environment)
    result = sync(kube, project, environment, desired, options=SyncOptions(timeout=60))
    assert result.succeeded, result
    record_sync(kube, environment.namespace, result)


def cell(page: Page, env: str, app: str) -> Any:
    return page.locator(f'td[data-env="{env}"][data-app="{app}"]')


def test_overview_drift_app_page_and_sync_through_the_button(
    page: Page, kube: KubeClient, clone: Clone, namespace: str
) -> None:
    sync_env(kube, clone.root, "dev")
    local = LocalDashboard(load_project(clone.root), kube, port=0, interval=0.2)
    url = local.start()
    try:
        page.goto(url)
        expect(page.locator("#app[data-ready=true]")).to_be_visible()
        expect(cell(page, "dev", "web")).to_contain_text("Synced")
        expect(cell(page, "dev", "web")).to_contain_text("Healthy", timeout=30_000)
        expect(cell(page, "dev", "web")).to_contain_text("web:1.0")
        expect(cell(page, "prod", "api")).to_contain_text("OutOfSync")
        expect(page.locator("#counts-prod")).to_contain_text("2 out of sync")
        expect(page.locator("#live.on")).to_be_visible()
        screenshot(page, "overview")

        # A hand edit in the cluster shows as drift, live, without a reload.
        changed = time.monotonic()
        kube.request(
            "PATCH",
            f"/api/v1/namespaces/{namespace}/configmaps/web-settings",
            params={"fieldManager": "kubectl-edit"},
            body={"data": {"colour": "red"}},
            content_type="application/merge-patch+json",
        )
        expect(cell(page, "dev", "web")).to_contain_text("Drifted", timeout=5_000)
        assert time.monotonic() - changed < 3.0
        expect(page.locator("#counts-dev")).to_contain_text("1 out of sync")
        screenshot(page, "overview-drift")

        check_app_page(page)

        # Sync through the button: the preview is the diff; the result appears live.
        page.locator("#sync-app").click()
        dialog = page.locator("#confirm")
        expect(dialog.locator(".preview pre")).to_contain_text("colour: blue")
        # The edit was made by another field manager: the sync takes its field over.
        dialog.locator("#force").check()
        expect(dialog.locator("#force")).to_be_checked()
        expect(dialog.locator("#confirm-ok")).to_be_enabled()
        screenshot(page, "sync-preview")
        dialog.locator("#confirm-ok").click()
        expect(dialog.locator("#progress[data-result=Succeeded]")).to_be_visible(timeout=60_000)
        # Done: nothing is left to confirm or to cancel.
        expect(dialog.locator("#confirm-ok")).to_be_hidden()
        expect(dialog.locator("#confirm-cancel")).to_have_text("Close")
        screenshot(page, "sync-done")
        live = kube.get("v1", "ConfigMap", "web-settings", namespace)
        assert live["data"] == {"colour": "blue"}
        events = kube.list("v1", "Event", namespace).items
        audit = [e for e in events if (e.get("source") or {}).get("component") == "hakobu-web"]
        assert audit and "requested by" in audit[-1]["message"]

        page.goto(url.split("/signin")[0] + "/")
        expect(cell(page, "dev", "web")).to_contain_text("Synced")
        check_history_and_promotion(page, url.split("/signin")[0])
    finally:
        local.stop()


def check_history_and_promotion(page: Page, base: str) -> None:
    """The history page and its chart; what a promotion dev → prod would carry."""
    page.goto(base + "/env/dev/history")
    expect(page.locator("#app[data-ready=true]")).to_be_visible()
    expect(page.locator("table.list")).to_contain_text("web 1.0 and api 2.3")
    expect(page.locator("svg.chart rect")).not_to_have_count(0)
    screenshot(page, "history")

    # What a promotion would carry: dev's images and values beside prod's.
    page.goto(base + "/promote/dev/prod")
    expect(page.locator("#app[data-ready=true]")).to_be_visible()
    expect(page.locator('tr[data-app="web"]')).to_contain_text("web:1.0")
    expect(page.locator("table.list").nth(1)).to_contain_text('"2026.12"')
    expect(page.locator("table.list").nth(1)).to_contain_text('"2026.11"')
    screenshot(page, "promotion")


def check_app_page(page: Page) -> None:
    """The app: its tree through ownerReferences, the diff, a live manifest."""
    cell(page, "dev", "web").locator("a").click()
    expect(page.locator("#app[data-ready=true]")).to_be_visible()
    tree = page.locator(".tree")
    expect(tree.locator("button.object", has_text="ReplicaSet")).to_have_count(1)
    expect(tree.locator("button.object", has_text="Pod")).to_have_count(2)
    expect(page.locator(".diff pre")).to_contain_text("colour: red")
    expect(page.locator(".diff pre")).to_contain_text("colour: blue")
    tree.locator("button.object", has_text="web-settings").click()
    expect(page.locator("#manifest")).to_contain_text('"colour": "red"')
    screenshot(page, "app")


def token_for(kube: KubeClient, namespace: str, name: str) -> str:
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": namespace},
        }
    )
    review = kube.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
        body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}},
    )
    return str(review["status"]["token"])


def grant(kube: KubeClient, namespace: str, account: str, verbs: list[str]) -> None:
    name = f"{account}-deliveries"
    kube.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": name, "namespace": namespace},
            "rules": [{"apiGroups": ["hakobu.dev"], "resources": ["deliveries"], "verbs": verbs}],
        }
    )
    kube.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
        }
    )


def test_a_read_only_user_sees_no_actions_and_a_forged_post_is_forbidden(
    page: Page, kube: KubeClient, clone: Clone, namespace: str
) -> None:
    sync_env(kube, clone.root, "dev")
    viewer = token_for(kube, namespace, "viewer")
    grant(kube, namespace, "viewer", ["get"])
    board = dashboard(load_project(clone.root), kube, ClusterAccess(kube), interval=0.2)
    board.monitor.start()
    server = Server(create_app(board), "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.start()}"
    try:
        # No session: 401 and the sign-in page; an unknown token is refused.
        response = page.goto(base + "/")
        assert response is not None and response.status == 401
        page.locator("#token").fill("not-a-token")
        page.locator("#signin button[type=submit]").click()
        expect(page.locator("#signin-error")).to_contain_text("does not accept")
        screenshot(page, "signin")

        page.locator("#token").fill(viewer)
        page.locator("#signin button[type=submit]").click()
        expect(page.locator("#app[data-ready=true]")).to_be_visible()
        expect(cell(page, "dev", "web")).to_contain_text("Synced")
        # prod's namespace grants the viewer nothing: it is not shown at all.
        expect(page.locator('th[data-env="prod"]')).to_have_count(0)
        expect(page.locator("a", has_text="sync…")).to_have_count(0)
        cell(page, "dev", "web").locator("a").click()
        expect(page.locator("#app[data-ready=true]")).to_be_visible()
        expect(page.locator("#sync-app")).to_have_count(0)
        screenshot(page, "read-only-app")

        forged = page.evaluate(
            """async () => {
                const session = await (await fetch('/api/v1/session')).json();
                const r = await fetch('/api/v1/environments/dev/sync', {
                    method: 'POST',
                    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf},
                    body: JSON.stringify({basis: 'x'}),
                });
                return {status: r.status, body: await r.json()};
            }"""
        )
        assert forged["status"] == 403
        assert "patch on deliveries.hakobu.dev" in forged["body"]["message"]
        assert namespace in forged["body"]["permission"]
    finally:
        server.stop()
        board.monitor.stop()


def test_a_rollback_through_the_button_commits_and_the_cluster_follows(
    page: Page, kube: KubeClient, clone: Clone, namespace: str
) -> None:
    sync_env(kube, clone.root, "dev")
    first = clone.git("rev-parse", "HEAD")
    clone.put("dev", "web", deployment("web", "shop/web:1.1"))
    clone.commit("web 1.1")
    sync_env(kube, clone.root, "dev")
    local = LocalDashboard(load_project(clone.root), kube, port=0, interval=0.2)
    url = local.start()
    try:
        page.goto(url)
        expect(page.locator("#app[data-ready=true]")).to_be_visible()
        page.goto(f"http://127.0.0.1:{local.port}/env/dev/history")
        expect(page.locator("#app[data-ready=true]")).to_be_visible()
        page.locator(f'tr[data-commit="{first}"] button.rollback').click()
        dialog = page.locator("#confirm")
        expect(dialog.locator("pre.commit")).to_contain_text(f"rollback dev to {first[:7]}")
        expect(dialog.locator("ul.undone")).to_contain_text("web 1.1")
        screenshot(page, "rollback-preview")
        dialog.locator("#confirm-ok").click()
        expect(dialog.locator("#progress[data-result=Succeeded]")).to_be_visible(timeout=60_000)
        screenshot(page, "rollback-done")
        page.goto(f"http://127.0.0.1:{local.port}/env/dev/history")
        expect(page.locator("table.list tbody tr").first).to_contain_text("Succeeded")
        # The sync the rollback ran names who asked for it: the kubeconfig's user.
        user = page.locator("#user").inner_text()
        assert user
        expect(page.locator("table.list tbody tr").first).to_contain_text(f"· {user}")
    finally:
        local.stop()
    assert clone.git("log", "-1", "--format=%s").startswith("rollback ")
    live = kube.get("apps/v1", "Deployment", "web", namespace)
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "shop/web:1.0"
    audit = [
        e
        for e in kube.list("v1", "Event", namespace).items
        if (e.get("source") or {}).get("component") == "hakobu-web"
    ]
    assert {e["reason"] for e in audit} == {"Rollback", "Sync"}
