"""``hakobu controller`` as a Pod runs it, against the real control plane and git remotes.

One controller process serves the module, started with a ServiceAccount token, CA and
namespace where a Pod reads them and the RBAC ``hakobu install`` grants; each test brings
its own bare remote and Delivery in its own namespace.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import http.server
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.controller.delivery import API_VERSION
from hakobu.localcluster.controlplane import ClusterInfo
from tests.gitserver import serve
from tests.integration.controllerkit import (
    Controller,
    condition,
    create_delivery,
    data,
    holds,
    push_body,
    running_controller,
    status,
    wait_until,
)
from tests.integration.test_agent import Remote
from tests.integration.test_sync import configmap
from tests.sshserver import keypair
from tests.sshserver import serve as serve_ssh
from tests.unit.agent.test_retry import closed_port
from tests.unit.images.test_registry import free_port, start_registry

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def controller(
    local_cluster: ClusterInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Controller]:
    with running_controller(local_cluster, tmp_path_factory.mktemp("controller")) as running:
        yield running


@pytest.fixture
def remote(tmp_path: Path, namespace: str) -> Remote:
    return Remote(tmp_path, namespace)


def delivered(kube: KubeClient, remote: Remote, namespace: str) -> str:
    """A Delivery ``shop`` of ``dev`` with one ConfigMap, applied; the revision."""
    remote.put("dev", "web", configmap("web", colour="blue"))
    revision = remote.push("blue")
    create_delivery(
        kube, namespace, "shop", repository={"url": str(remote.bare)}, environment="dev"
    )
    wait_until(
        "applied", lambda: status(kube, namespace, "shop").get("lastAppliedRevision") == revision
    )
    return revision


def test_a_push_webhook_is_applied_in_seconds_and_reported_in_status(
    controller: Controller, kube: KubeClient, remote: Remote, namespace: str
) -> None:
    delivered(kube, remote, namespace)
    ready = condition(kube, namespace, "shop", "Ready")
    assert ready["status"] == "True", ready
    assert status(kube, namespace, "shop")["apps"] == [
        {"name": "web", "sync": "Synced", "health": "Healthy"}
    ]

    remote.put("dev", "web", configmap("web", colour="green"))
    second = remote.push("green")
    sent = time.monotonic()
    answer = controller.hook("github", push_body(str(remote.bare), second))
    assert answer.status_code == 202, answer.text
    wait_until(
        "the push is applied",
        lambda: (data(kube, namespace, "web") or {}).get("colour") == "green",
        seconds=15,
    )
    took = time.monotonic() - sent
    assert took < 10, f"webhook to applied took {took:.1f}s"
    wait_until(
        "status names the new revision",
        lambda: status(kube, namespace, "shop").get("lastAppliedRevision") == second,
    )
    shown = status(kube, namespace, "shop")
    assert shown["revision"] == second[:12] and shown["sync"] == "Synced"
    assert shown["observedGeneration"] == 1
    series = f'hakobu_syncs_total{{delivery="{namespace}/shop",result="succeeded"}} 2.0'
    assert series in controller.metrics()


def test_drift_is_repaired_by_the_watch_not_the_poll(
    controller: Controller, kube: KubeClient, remote: Remote, namespace: str
) -> None:
    delivered(kube, remote, namespace)
    kube.request(
        "PATCH",
        f"/api/v1/namespaces/{namespace}/configmaps/web",
        params={"fieldManager": "kubectl-edit"},
        body={"data": {"colour": "red"}},
        content_type="application/merge-patch+json",
    )
    changed = time.monotonic()
    wait_until(
        "the drift is repaired",
        lambda: (data(kube, namespace, "web") or {}).get("colour") == "blue",
        seconds=15,
    )
    assert time.monotonic() - changed < 10
    wait_until(
        "the repair is counted",
        lambda: (
            f'hakobu_drift_repairs_total{{delivery="{namespace}/shop"}} 1.0' in controller.metrics()
        ),
        seconds=10,
    )
    assert "hakobu_held_deliveries 0.0" not in controller.metrics()
    # kubectl scale writes through the scale subresource, and its entry has no time.
    remote.put("dev", "api", _deployment("api", "registry.example/api:1"))
    second = remote.push("api")
    controller.hook("github", push_body(str(remote.bare), second))
    wait_until(
        "the api is applied",
        lambda: status(kube, namespace, "shop").get("lastAppliedRevision") == second,
    )
    kube.request(
        "PATCH",
        f"/apis/apps/v1/namespaces/{namespace}/deployments/api/scale",
        params={"fieldManager": "kubectl"},
        body={"spec": {"replicas": 3}},
        content_type="application/merge-patch+json",
    )
    wait_until(
        "the scale is put back",
        lambda: kube.get("apps/v1", "Deployment", "api", namespace)["spec"]["replicas"] == 1,
        seconds=15,
    )


def test_webhooks_with_a_bad_signature_or_an_unknown_repository(
    controller: Controller, kube: KubeClient, remote: Remote, namespace: str
) -> None:
    revision = delivered(kube, remote, namespace)
    before = kube.get(API_VERSION, "Delivery", "shop", namespace)["metadata"]
    bad = controller.hook("github", push_body(str(remote.bare), revision), secret="wrong")
    assert bad.status_code == 401
    unknown = controller.hook("github", push_body("https://git.example/other/repo", revision))
    assert unknown.status_code == 202 and "ignored" in unknown.text.lower()
    after = kube.get(API_VERSION, "Delivery", "shop", namespace)["metadata"]
    assert after.get("annotations") == before.get("annotations")


def test_broken_deliveries_stall_with_a_reason_and_leave_the_others_alone(
    controller: Controller, kube: KubeClient, remote: Remote, namespace: str
) -> None:
    remote.put("dev", "web", configmap("web", colour="blue"))
    revision = remote.push("blue")
    create_delivery(
        kube, namespace, "no-env", repository={"url": str(remote.bare)}, environment="staging"
    )
    create_delivery(
        kube,
        namespace,
        "no-repo",
        repository={"url": f"http://127.0.0.1:{closed_port()}/x.git"},
        environment="dev",
    )
    create_delivery(
        kube,
        namespace,
        "no-branch",
        repository={"url": str(remote.bare), "branch": "nope"},
        environment="dev",
    )
    create_delivery(
        kube, namespace, "shop", repository={"url": str(remote.bare)}, environment="dev"
    )
    for name, reason in (
        ("no-env", "InvalidProject"),
        ("no-repo", "FetchFailed"),
        ("no-branch", "FetchFailed"),
    ):
        stalled = wait_until(
            f"{name} is Stalled", functools.partial(holds, kube, namespace, name, "Stalled", "True")
        )
        assert stalled["reason"] == reason, stalled
        assert condition(kube, namespace, name, "Ready")["status"] == "False"
    assert "staging" in condition(kube, namespace, "no-env", "Stalled")["message"]
    wait_until(
        "the sound one is applied",
        lambda: status(kube, namespace, "shop").get("lastAppliedRevision") == revision,
    )


def test_a_suspended_delivery_applies_nothing(
    controller: Controller, kube: KubeClient, remote: Remote, namespace: str
) -> None:
    remote.put("dev", "web", configmap("web", colour="blue"))
    revision = remote.push("blue")
    create_delivery(
        kube,
        namespace,
        "shop",
        repository={"url": str(remote.bare)},
        environment="dev",
        suspend=True,
    )
    ready = wait_until(
        "reported Suspended",
        lambda: condition(kube, namespace, "shop", "Ready").get("reason") == "Suspended",
    )
    assert ready
    controller.hook("github", push_body(str(remote.bare), revision))
    time.sleep(2)
    assert data(kube, namespace, "web") is None


def test_a_revision_waits_for_its_images_then_proceeds(
    controller: Controller, kube: KubeClient, remote: Remote, namespace: str, tmp_path: Path
) -> None:
    registry_dir = tmp_path / "registry"
    registry_dir.mkdir()
    registry = start_registry(registry_dir, auth=False)
    host = next(registry)
    try:
        project = (remote.work / "hakobu.yaml").read_text()
        (remote.work / "services" / "api").mkdir(parents=True)
        (remote.work / "services" / "api" / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
        (remote.work / "hakobu.yaml").write_text(
            project
            + f"images:\n  - name: api\n    context: services/api\n    registry: {host}/shop\n"
        )
        remote.push("the api image")
        tag = subprocess.run(
            [sys.executable, "-m", "hakobu", "images", "--offline", "-o", "json"],
            cwd=remote.work,
            check=True,
            capture_output=True,
            text=True,
        )
        reference = _reference(json.loads(tag.stdout), "api")
        remote.put("dev", "api", _deployment("api", reference))
        revision = remote.push("deploy the api")
        create_delivery(
            kube, namespace, "shop", repository={"url": str(remote.bare)}, environment="dev"
        )
        wait_until(
            "it waits for the image",
            lambda: condition(kube, namespace, "shop", "Ready").get("reason") == "Waiting",
        )
        assert reference in condition(kube, namespace, "shop", "Ready")["message"]
        with pytest.raises(NotFound):
            kube.get("apps/v1", "Deployment", "api", namespace)
        _push_image(host, reference)
        wait_until(
            "applied once the image is there",
            lambda: status(kube, namespace, "shop").get("lastAppliedRevision") == revision,
            seconds=90,
        )
        kube.get("apps/v1", "Deployment", "api", namespace)
    finally:
        next(registry, None)


def _reference(listing: Any, name: str) -> str:
    rows = listing if isinstance(listing, list) else listing.get("images", [])
    for row in rows:
        if row["name"] == name:
            return str(row["reference"])
    raise AssertionError(f"no image {name} in {listing}")


def _deployment(name: str, image: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
    }


def _push_image(host: str, reference: str) -> None:
    """An image manifest (one empty layer) uploaded the way a builder pushes one."""
    name, _, tag = reference.removeprefix(f"{host}/").rpartition(":")
    base = f"http://{host}/v2/{name}"
    blobs = {}
    for blob in (b"{}", b""):
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        started = httpx.post(f"{base}/blobs/uploads/")
        location = started.headers["Location"]
        separator = "&" if "?" in location else "?"
        done = httpx.put(
            f"{location}{separator}digest={digest}",
            content=blob,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert done.status_code == 201, done.text
        blobs[blob] = (digest, len(blob))
    oci = "application/vnd.oci.image"
    manifest = {
        "schemaVersion": 2,
        "mediaType": f"{oci}.manifest.v1+json",
        "config": {"mediaType": f"{oci}.config.v1+json", "digest": blobs[b"{}"][0], "size": 2},
        "layers": [{"mediaType": f"{oci}.layer.v1.tar", "digest": blobs[b""][0], "size": 0}],
    }
    put = httpx.put(
        f"{base}/manifests/{tag}",
        content=json.dumps(manifest),
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert put.status_code == 201, put.text


def test_credentials_from_the_secret_and_another_cluster_from_its_kubeconfig(
    controller: Controller,
    kube: KubeClient,
    remote: Remote,
    namespace: str,
    local_cluster: ClusterInfo,
) -> None:
    remote.put("dev", "web", configmap("web", colour="blue"))
    revision = remote.push("blue")
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "elsewhere", "namespace": namespace},
            "stringData": {"value": Path(local_cluster.kubeconfig).read_text()},
        }
    )
    with serve(remote.bare.parent, "git", "t0ken") as (url, requests):
        for name, password in (("shop", "t0ken"), ("refused", "wrong")):
            kube.create(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": f"{name}-token", "namespace": namespace},
                    "stringData": {"username": "git", "password": password},
                }
            )
            kube.create(
                {
                    "apiVersion": API_VERSION,
                    "kind": "Delivery",
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": {
                        "repository": {"url": f"{url}/{remote.bare.name}"},
                        "environment": "dev",
                        "secretRef": {"name": f"{name}-token"},
                        "cluster": {"secretRef": {"name": "elsewhere"}},
                    },
                }
            )
        wait_until(
            "applied through the token",
            lambda: status(kube, namespace, "shop").get("lastAppliedRevision") == revision,
        )
        assert any("auth=True" in r for r in requests)
        stalled = wait_until(
            "wrong credentials stall",
            functools.partial(holds, kube, namespace, "refused", "Stalled", "True"),
        )
    assert stalled["reason"] == "FetchFailed" and "credentials" in stalled["message"]
    assert "wrong" not in stalled["message"]
    assert "wrong" not in controller.log.read_text()


def test_a_delivery_fetches_over_ssh_only_from_a_host_its_known_hosts_lists(
    controller: Controller, kube: KubeClient, remote: Remote, namespace: str, tmp_path: Path
) -> None:
    remote.put("dev", "web", configmap("web", colour="blue"))
    revision = remote.push("blue")
    key = keypair(tmp_path / "keys", "deploy", passphrase="key passphrase")
    impostor = keypair(tmp_path / "keys", "impostor").public.split()[:2]
    with serve_ssh(tmp_path / "sshd", [key.public]) as server:
        name = server.known_hosts.split()[0]
        for delivery, known_hosts in (
            ("shop", server.known_hosts),
            ("intercepted", f"{name} {impostor[0]} {impostor[1]}\n"),
        ):
            kube.create(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": f"{delivery}-ssh", "namespace": namespace},
                    "stringData": {
                        "identity": key.private,
                        "identity.pub": key.public,
                        "known_hosts": known_hosts,
                        "password": "key passphrase",
                    },
                }
            )
            kube.create(
                {
                    "apiVersion": API_VERSION,
                    "kind": "Delivery",
                    "metadata": {"name": delivery, "namespace": namespace},
                    "spec": {
                        "repository": {"url": server.url(remote.bare)},
                        "environment": "dev",
                        "secretRef": {"name": f"{delivery}-ssh"},
                    },
                }
            )
        ready = wait_until(
            "applied over SSH", functools.partial(holds, kube, namespace, "shop", "Ready", "True")
        )
        assert status(kube, namespace, "shop")["lastAppliedRevision"] == revision, ready
        stalled = wait_until(
            "an unlisted host key stalls",
            functools.partial(holds, kube, namespace, "intercepted", "Stalled", "True"),
        )
    assert stalled["reason"] == "FetchFailed"
    assert (
        f"the SSH host key of {server.address} port {server.port} is not listed in known_hosts "
        f"in Secret {namespace}/intercepted-ssh" in stalled["message"]
    )
    body = "".join(key.private.strip().splitlines()[1:-1])
    for shown in (stalled["message"], controller.log.read_text()):
        assert "key passphrase" not in shown
        assert body[:40] not in shown and body[-40:] not in shown


class Receiver:
    """A local HTTP endpoint that keeps what is POSTed to it."""

    def __init__(self) -> None:
        received = self.received = []  # type: list[tuple[dict[str, str], bytes]]

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/events"


def test_a_sync_is_told_by_a_signed_notification_and_a_kubernetes_event(
    controller: Controller, kube: KubeClient, remote: Remote, namespace: str
) -> None:
    receiver = Receiver()
    key = "notification-signing-key"
    remote.put("dev", "web", configmap("web", colour="blue"))
    revision = remote.push("blue")
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "audit", "namespace": namespace},
            "stringData": {"url": receiver.url, "key": key},
        }
    )
    create_delivery(
        kube,
        namespace,
        "shop",
        repository={"url": str(remote.bare)},
        environment="dev",
        notifications={
            "targets": [{"name": "audit", "provider": "webhook", "secretRef": {"name": "audit"}}]
        },
    )
    kinds = wait_until(
        "started and succeeded are told",
        lambda: (
            {headers.get("X-Hakobu-Event") for headers, _ in receiver.received}
            >= {"sync-started", "sync-succeeded"}
            and [headers.get("X-Hakobu-Event") for headers, _ in receiver.received]
        ),
    )
    assert kinds.count("sync-succeeded") == 1
    for headers, body in receiver.received:
        expected = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Hakobu-Signature-256"], f"sha256={expected}")
        event = json.loads(body)
        assert event["revision"] == revision and event["delivery"] == f"{namespace}/shop"
    recorded = wait_until(
        "a Kubernetes Event on the Delivery",
        lambda: [
            e
            for e in kube.list("v1", "Event", namespace).items
            if e["involvedObject"].get("kind") == "Delivery" and e["reason"] == "SyncSucceeded"
        ],
    )
    assert recorded[0]["type"] == "Normal" and revision[:12] in recorded[0]["message"]
    assert key not in controller.log.read_text() and receiver.url not in controller.log.read_text()
    receiver.server.shutdown()


def test_prometheus_scrapes_the_controller(
    controller: Controller, kube: KubeClient, remote: Remote, namespace: str, tmp_path: Path
) -> None:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed: `apt-get install prometheus`")
    delivered(kube, remote, namespace)
    target = controller.url.removeprefix("http://")
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [{"job_name": "hakobu", "static_configs": [{"targets": [target]}]}],
    }
    (tmp_path / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    query = f'hakobu_syncs_total{{delivery="{namespace}/shop",result="succeeded"}}'

    def scraped() -> list[Any]:
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": query})
        except httpx.HTTPError:
            return []
        return list(answer.json()["data"]["result"]) if answer.status_code == 200 else []

    try:
        result = wait_until("Prometheus has the series", scraped, seconds=60)
    finally:
        process.terminate()
        process.wait(30)
        log.close()
    assert result[0]["metric"]["job"] == "hakobu"
    assert float(result[0]["value"][1]) >= 1


def test_a_cluster_kubeconfig_may_not_run_commands_or_read_the_controllers_files(
    controller: Controller, kube: KubeClient, remote: Remote, namespace: str, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    remote.put("dev", "web", configmap("web", colour="blue"))
    remote.push("blue")
    hostile = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [
            {
                "name": "u",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "command": "touch",
                        "args": [str(marker)],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "c",
    }
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "elsewhere", "namespace": namespace},
            "stringData": {"value": json.dumps(hostile)},
        }
    )
    create_delivery(
        kube,
        namespace,
        "shop",
        repository={"url": str(remote.bare)},
        environment="dev",
        cluster={"secretRef": {"name": "elsewhere"}},
    )
    stalled = wait_until(
        "the kubeconfig is refused",
        functools.partial(holds, kube, namespace, "shop", "Stalled", "True"),
    )
    assert stalled["reason"] == "InvalidSecret" and "exec" in stalled["message"]
    assert not marker.exists()
