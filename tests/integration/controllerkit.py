"""``hakobu controller`` replicas run as a Pod runs them, and what tests and benchmarks do
to them: install the RBAC ``hakobu install`` grants, start a replica with a ServiceAccount's
identity, create Deliveries, send signed push webhooks, read status.

Shared by tests/integration/test_controller.py, test_fault_campaign.py,
scripts/fault_campaign.py and the controller benchmarks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound, TooManyRequests
from hakobu.controller import install
from hakobu.controller.delivery import API_VERSION
from hakobu.localcluster import podprocess
from hakobu.localcluster.controlplane import ClusterInfo
from tests.integration.test_agent import Remote
from tests.unit.images.test_registry import free_port

SYSTEM = "hakobu-system"
SECRET = "s3cret-for-webhooks"


class Controller:
    """One replica: its process, where it serves, its log."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process, self.url, self.log = process, url, log

    def hook(self, provider: str, body: dict[str, Any], secret: str = SECRET) -> httpx.Response:
        raw = json.dumps(body).encode()
        signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": f"sha256={signature}",
        }
        return httpx.post(f"{self.url}/hooks/{provider}", content=raw, headers=headers)

    def metrics(self) -> str:
        return httpx.get(f"{self.url}/metrics").text

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the controller exited: {self.log.read_text()}")
        try:
            return httpx.get(f"{self.url}/readyz").status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """``kill -9``: no Lease released, no sync finished."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_until(what: str, check: Callable[[], Any], seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds}s: {what}")
        time.sleep(0.1)


def install_rbac(kube: KubeClient, kubeconfig: Path, directory: Path) -> Path:
    """The CRD and exactly the privileges `hakobu install` grants (the workload itself runs
    here); the directory holding the ServiceAccount's token, CA and namespace."""
    for obj in install.manifests(install.InstallOptions(namespace=SYSTEM)):
        if obj["kind"] not in ("Deployment", "Service", "PodDisruptionBudget"):
            kube.apply(obj, field_manager="test", force=True)
    wait_until("the Delivery CRD is served", lambda: _served(kube))
    return podprocess.service_account_files(kube, kubeconfig, SYSTEM, install.NAME, directory)


def _served(kube: KubeClient) -> bool:
    try:
        kube.refresh_discovery()
        kube.list(API_VERSION, "Delivery", "default")
    except (NotFound, TooManyRequests):  # not yet discovered; its storage starting
        return False
    return True


def start_controller(
    server: str, identity: Path, directory: Path, *, args: Sequence[str] = ()
) -> Controller:
    """A replica with the Pod identity in ``identity``, its log and clones in ``directory``;
    returned once it answers /readyz."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = directory / "controller.log"
    with log.open("ab") as out:
        process = podprocess.start(
            [
                sys.executable, "-m", "hakobu", "controller",
                "--shard-namespace", SYSTEM,
                "--listen", f"127.0.0.1:{port}",
                "--workdir", str(directory / "work"),
                *args,
            ],
            server,
            identity,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    running = Controller(process, f"http://127.0.0.1:{port}", log)
    wait_until("the controller is ready", running.ready, seconds=60)
    return running


@contextmanager
def running_controller(cluster: ClusterInfo, directory: Path) -> Iterator[Controller]:
    """The RBAC install grants and one replica with it, stopped on exit."""
    kubeconfig = Path(cluster.kubeconfig)
    with KubeClient.from_kubeconfig(kubeconfig) as kube:
        identity = install_rbac(kube, kubeconfig, directory / "serviceaccount")
    running = start_controller(cluster.server, identity, directory)
    try:
        yield running
    finally:
        running.stop()


def create_delivery(kube: KubeClient, namespace: str, name: str, **spec: Any) -> None:
    """A Delivery and its Secret (the webhook secret); ``spec`` adds to or overrides an
    interval of an hour (anything sooner is a webhook's or a watch's doing, not a poll's)."""
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"{name}-git", "namespace": namespace},
            "stringData": {"webhookSecret": SECRET},
        }
    )
    kube.create(
        {
            "apiVersion": API_VERSION,
            "kind": "Delivery",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"interval": "1h", "secretRef": {"name": f"{name}-git"}, **spec},
        }
    )


def status(kube: KubeClient, namespace: str, name: str) -> dict[str, Any]:
    return kube.get(API_VERSION, "Delivery", name, namespace).get("status") or {}


def condition(kube: KubeClient, namespace: str, name: str, kind: str) -> dict[str, Any]:
    for entry in status(kube, namespace, name).get("conditions") or []:
        if entry["type"] == kind:
            return dict(entry)
    return {}


def holds(
    kube: KubeClient, namespace: str, name: str, kind: str, value: str
) -> dict[str, Any] | None:
    """The condition ``kind`` when its status is ``value``, else None."""
    found = condition(kube, namespace, name, kind)
    return found if found.get("status") == value else None


def push_body(url: str, revision: str, branch: str = "main") -> dict[str, Any]:
    return {
        "ref": f"refs/heads/{branch}",
        "after": revision,
        "repository": {"clone_url": url, "html_url": url, "full_name": "shop/shop"},
    }


def data(kube: KubeClient, namespace: str, name: str) -> dict[str, str] | None:
    try:
        return dict(kube.get("v1", "ConfigMap", name, namespace).get("data") or {})
    except NotFound:
        return None


class ProjectRemote(Remote):
    """A Remote whose project declares the given environments (name -> namespace), and
    whose environments' manifests are written afresh for each commit."""

    def __init__(self, root: Path, environments: dict[str, str]) -> None:
        super().__init__(root, next(iter(environments.values())))
        project = {
            "apiVersion": "hakobu.dev/v1alpha1",
            "kind": "Project",
            "name": "shop",
            "environments": {env: {"namespace": ns} for env, ns in environments.items()},
        }
        (self.work / "hakobu.yaml").write_text(yaml.safe_dump(project))

    def declare(self, env: str, apps: dict[str, list[dict[str, Any]]]) -> None:
        """``env`` holds exactly ``apps`` (app -> objects) from the next commit on."""
        directory = self.work / "generated" / env
        if directory.exists():
            for old in sorted(directory.rglob("*.yaml")):
                old.unlink()
        for app, objects in apps.items():
            for obj in objects:
                self.put(env, app, obj)
