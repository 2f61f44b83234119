"""The dashboard ``hakobu controller`` serves, as a Pod runs it: signed in to with
ServiceAccount tokens the API server accepts, every action authorized by the cluster's RBAC
on the Delivery, a session good at every replica, and a rollback from it pushed to the
Delivery's remote, which the cluster then runs; so is a promotion through the API."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from hakobu.cluster.client import KubeClient
from hakobu.controller.deliveries import request_reconcile
from hakobu.controller.delivery import DeliveryRef
from hakobu.controller.install import MANAGED_BY, SESSION_SECRET
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.web.sessionkey import KEY
from hakobu.web.sessions import COOKIE
from tests.browser.conftest import screenshot
from tests.browser.test_dashboard import cell, grant, token_for
from tests.integration.controllerkit import (
    SYSTEM,
    Controller,
    ProjectRemote,
    create_delivery,
    data,
    install_rbac,
    start_controller,
    status,
    wait_until,
)
from tests.integration.test_sync import configmap
from tests.unit.releases.test_rollback import Shop

pytestmark = pytest.mark.cluster

OPERATOR_VERBS = ["get", "patch", "rollback", "promote"]


@dataclass
class Stage:
    """Delivery ``shop`` of ``dev`` (the test's namespace) following a remote whose app web
    has had two colours, and the identity a replica runs as."""

    kube: KubeClient
    cluster: ClusterInfo
    identity: Path
    remote: ProjectRemote
    namespace: str
    directory: Path
    revision: str

    def replica(self, name: str) -> Controller:
        """A replica serving the dashboard of the Delivery's repository."""
        return start_controller(
            self.cluster.server,
            self.identity,
            self.directory / name,
            args=["--dashboard", f"{self.namespace}/shop"],
        )

    def applied(self) -> None:
        wait_until(
            "the Delivery applied green",
            lambda: (
                status(self.kube, self.namespace, "shop").get("lastAppliedRevision")
                == self.revision
            ),
        )


@pytest.fixture
def stage(local_cluster: ClusterInfo, kube: KubeClient, tmp_path: Path, namespace: str) -> Stage:
    identity = install_rbac(kube, Path(local_cluster.kubeconfig), tmp_path / "serviceaccount")
    remote = ProjectRemote(tmp_path / "git", {"dev": namespace})
    remote.declare("dev", {"web": [configmap("web", colour="blue")]})
    remote.push("web: blue")
    remote.declare("dev", {"web": [configmap("web", colour="green")]})
    revision = remote.push("web: green")
    create_delivery(
        kube, namespace, "shop", repository={"url": str(remote.bare)}, environment="dev"
    )
    return Stage(kube, local_cluster, identity, remote, namespace, tmp_path, revision)


def sign_in(page: Page, base: str, token: str) -> None:
    response = page.goto(base + "/")
    assert response is not None and response.status == 401
    page.locator("#token").fill(token)
    page.locator("#signin button[type=submit]").click()
    expect(page.locator("#app[data-ready=true]")).to_be_visible(timeout=30_000)


def test_the_controllers_dashboard_signs_in_with_tokens_and_acts_by_rbac(
    browser: Browser, stage: Stage
) -> None:
    kube, namespace = stage.kube, stage.namespace
    viewer = token_for(kube, namespace, "viewer")
    grant(kube, namespace, "viewer", ["get"])
    operator = token_for(kube, namespace, "operator")
    grant(kube, namespace, "operator", OPERATOR_VERBS)
    controller = stage.replica("replica")
    try:
        stage.applied()
        assert (data(kube, namespace, "web") or {}).get("colour") == "green"
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        unknown_token_is_refused(page, controller.url)
        read_only(page, controller.url, viewer, namespace)
        page.context.close()
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        roll_web_back(page, controller.url, operator)
        page.context.close()
    finally:
        controller.stop()
    # The rollback reached the remote the Delivery follows, and the cluster runs it.
    assert (data(kube, namespace, "web") or {}).get("colour") == "blue"
    pushed = subprocess.run(
        ["git", "-C", str(stage.remote.bare), "log", "-1", "--format=%s", "main"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert pushed.startswith("rollback dev/web to "), pushed
    log = controller.log.read_text()
    assert viewer not in log and operator not in log


def unknown_token_is_refused(page: Page, base: str) -> None:
    response = page.goto(base + "/")
    assert response is not None and response.status == 401
    page.locator("#token").fill("not-a-token")
    page.locator("#signin button[type=submit]").click()
    expect(page.locator("#signin-error")).to_contain_text("does not accept")
    screenshot(page, "controller-dashboard-signin")
    assert httpx.get(f"{base}/api/v1/overview").status_code == 401
    unknown = httpx.get(f"{base}/api/v1/overview", headers={"Authorization": "Bearer nope"})
    assert unknown.status_code == 401


def read_only(page: Page, base: str, token: str, namespace: str) -> None:
    """The Delivery's state, and no button anywhere; a forged POST is forbidden."""
    sign_in(page, base, token)
    expect(cell(page, "dev", "web")).to_contain_text("Synced")
    expect(cell(page, "dev", "web")).to_contain_text("Healthy")
    expect(page.locator("a", has_text="sync…")).to_have_count(0)
    screenshot(page, "controller-dashboard-overview")
    cell(page, "dev", "web").locator("a").click()
    expect(page.locator("#app[data-ready=true]")).to_be_visible()
    for button in ("#sync-app", "#rollback-app", "#promote-app"):
        expect(page.locator(button)).to_have_count(0)
    page.goto(base + "/env/dev/history")
    expect(page.locator("#app[data-ready=true]")).to_be_visible()
    expect(page.locator("table.list tbody tr")).to_have_count(2)
    expect(page.locator("button.rollback")).to_have_count(0)
    screenshot(page, "controller-dashboard-read-only")
    forged = page.evaluate(
        """async () => {
            const session = await (await fetch('/api/v1/session')).json();
            const r = await fetch('/api/v1/environments/dev/rollback/preview', {
                method: 'POST',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf},
                body: JSON.stringify({to: 'HEAD~1', app: 'web'}),
            });
            return {status: r.status, body: await r.json()};
        }"""
    )
    assert forged["status"] == 403, forged
    wanted = f"rollback on deliveries.hakobu.dev shop in namespace {namespace}"
    assert forged["body"]["permission"] == wanted


def roll_web_back(page: Page, base: str, token: str) -> None:
    """An operator rolls web back from its page, through the preview."""
    sign_in(page, base, token)
    page.goto(base + "/env/dev/app/web")
    expect(page.locator("#app[data-ready=true]")).to_be_visible()
    expect(page.locator("#sync-app")).to_be_visible()
    page.locator("#rollback-app").click()
    dialog = page.locator("#confirm")
    expect(dialog.locator("pre.commit")).to_contain_text("rollback dev/web to ")
    expect(dialog.locator("ul.undone")).to_contain_text("web: green")
    screenshot(page, "controller-dashboard-rollback-preview")
    dialog.locator("#confirm-ok").click()
    expect(dialog.locator("#progress[data-result=Succeeded]")).to_be_visible(timeout=90_000)
    screenshot(page, "controller-dashboard-rollback-done")


def test_a_session_signed_by_one_replica_is_good_at_another(stage: Stage) -> None:
    kube, namespace = stage.kube, stage.namespace
    viewer = token_for(kube, namespace, "viewer")
    grant(kube, namespace, "viewer", ["get"])
    first = stage.replica("a")
    second = stage.replica("b")
    try:
        stage.applied()
        signed = httpx.post(f"{first.url}/api/v1/session", json={"token": viewer}, timeout=30)
        assert signed.status_code == 200, signed.text
        cookie = signed.cookies[COOKIE]
        at_second = httpx.get(f"{second.url}/api/v1/session", cookies={COOKIE: cookie}, timeout=30)
        assert at_second.status_code == 200, at_second.text
        assert at_second.json()["user"] == f"system:serviceaccount:{namespace}:viewer"
        assert at_second.json()["can"]["dev"] == {
            "sync": False,
            "suspend": False,
            "resume": False,
            "rollback": False,
            "promote": False,
        }
        body, _, signature = cookie.partition(".")
        forged = f"{body}.{'0' * len(signature)}"
        refused = httpx.get(f"{second.url}/api/v1/session", cookies={COOKIE: forged}, timeout=30)
        assert refused.status_code == 401
    finally:
        first.stop()
        second.stop()
    secret = kube.get("v1", "Secret", SESSION_SECRET, SYSTEM)
    assert secret["metadata"]["labels"] == MANAGED_BY
    key = secret["data"][KEY]
    assert len(base64.b64decode(key)) == 32
    for log in (first.log, second.log):
        assert key not in log.read_text()


def role(kube: KubeClient, namespace: str, account: str, verbs: list[str]) -> None:
    """``verbs`` on Deliveries in ``namespace`` for ServiceAccount ``account``."""
    where, name = account.split("/")
    kube.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": f"{name}-deliveries", "namespace": namespace},
            "rules": [{"apiGroups": ["hakobu.dev"], "resources": ["deliveries"], "verbs": verbs}],
        }
    )
    kube.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": f"{name}-deliveries", "namespace": namespace},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": f"{name}-deliveries",
            },
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": where}],
        }
    )


@pytest.fixture
def shop(tmp_path: Path, namespace: str, kube: KubeClient) -> Iterator[Shop]:
    prod = f"{namespace}-prod"
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": prod}})
    yield Shop(tmp_path / "shop", dev=namespace, prod=prod)
    kube.delete("v1", "Namespace", prod, propagation="Background")


def test_a_promotion_from_the_controllers_dashboard_is_pushed_and_followed(
    local_cluster: ClusterInfo, kube: KubeClient, shop: Shop, namespace: str, tmp_path: Path
) -> None:
    prod = f"{namespace}-prod"
    identity = install_rbac(kube, Path(local_cluster.kubeconfig), tmp_path / "serviceaccount")
    shop.render_and_commit("web 1.27")
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    shop.git("remote", "add", "origin", str(bare))
    shop.git("push", "-q", "origin", "main")
    for where, env in ((namespace, "dev"), (prod, "prod")):
        create_delivery(kube, where, f"shop-{env}", repository={"url": str(bare)}, environment=env)
    token = token_for(kube, namespace, "releaser")
    role(kube, namespace, f"{namespace}/releaser", ["get"])
    role(kube, prod, f"{namespace}/releaser", ["get", "promote"])
    controller = start_controller(
        local_cluster.server,
        identity,
        tmp_path / "replica",
        args=["--dashboard", f"{namespace}/shop-dev"],
    )
    api = httpx.Client(
        base_url=controller.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    try:
        shop.write(
            "apps/web.yaml",
            shop.read("apps/web.yaml").replace(
                "environments:\n", "environments:\n  dev: {image: 'nginx:1.28'}\n"
            ),
        )
        revision = shop.render_and_commit("dev runs 1.28")
        shop.git("push", "-q", "origin", "main")
        request_reconcile(kube, DeliveryRef(namespace, "shop-dev"))
        wait_until(
            "dev runs 1.28",
            lambda: status(kube, namespace, "shop-dev").get("lastAppliedRevision") == revision,
            seconds=120,
        )

        def fetched() -> bool:
            envs = api.get("/api/v1/overview").json()["environments"]
            return any(e["env"] == "dev" and e["revision"] == revision for e in envs)

        wait_until("the dashboard's clone has the commit", fetched, seconds=60)
        path = "/api/v1/promotions/dev/prod"
        preview = api.post(f"{path}/preview", json={"app": "web"})
        assert preview.status_code == 200, preview.text
        assert "nginx:1.28" in str(preview.json()["apps"])
        started = api.post(path, json={"app": "web", "basis": preview.json()["basis"]})
        assert started.status_code == 202, started.text
        wait_until(
            "prod runs 1.28",
            lambda: image_of(kube, prod) == "nginx:1.28",
            seconds=120,
        )
    finally:
        api.close()
        controller.stop()
    pushed = subprocess.run(
        ["git", "-C", str(bare), "log", "-1", "--format=%s", "main"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert pushed.startswith("promote dev → prod"), pushed


def image_of(kube: KubeClient, namespace: str) -> str:
    live = kube.get("apps/v1", "Deployment", "web", namespace)
    return str(live["spec"]["template"]["spec"]["containers"][0]["image"])
