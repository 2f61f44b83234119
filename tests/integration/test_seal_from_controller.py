"""``hakobu secret seal`` without ``--cert``: the certificate from the running controller.

The certificate is fetched through the API server's service proxy, which forwards only to
an address that is not loopback and that belongs to a Pod backing the Service. So the
controller (built from the pinned release, with the in-cluster configuration of
``test_secrets_controller``) listens on the host end of a veth pair whose other end sits
in a network namespace of its own: a private address no other machine can reach. A Pod
bound to a Node no agent runs on carries that address in its status, and the Service's
Endpoints point at it, as a kubelet and the endpoints controller would have it.

The user who seals may only read the controller's Service and its proxy, as the upstream
chart's service-proxier Role allows, and not the key Secrets: the seal can only have
used the certificate the controller served.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import Forbidden
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.localcluster.gobuild import ensure_tool
from hakobu.localcluster.toolchain import SEALED_SECRETS
from tests.integration.test_secrets_controller import (
    SERVICE,
    eventually,
    free_port,
    grant_rbac,
    hakobu,
    install_crd,
    opened_by_controller,
    service_account_token,
    start_controller,
)

pytestmark = pytest.mark.cluster

# The port the upstream chart's Service exposes, named as hakobu looks it up.
SERVICE_PORT = 8080
# The upstream chart's service-proxier Role: what `kubeseal --fetch-cert` needs.
PROXIER_RULES = [
    {"apiGroups": [""], "resources": ["services"], "resourceNames": [SERVICE], "verbs": ["get"]},
    {
        "apiGroups": [""],
        "resources": ["services/proxy"],
        "resourceNames": [f"http:{SERVICE}:", f"http:{SERVICE}:http", SERVICE],
        "verbs": ["create", "get"],
    },
]


@dataclass(frozen=True)
class Link:
    """A veth pair: ``address`` on this namespace's end, the peer in ``netns``."""

    netns: str
    address: str


@dataclass(frozen=True)
class Controller:
    namespace: str
    url: str
    sealer_kubeconfig: Path


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture
def link() -> Iterator[Link]:
    unique = uuid.uuid4()
    tag = unique.hex[:6]
    netns, host_end, peer_end = f"hakobu-{tag}", f"hk{tag}h", f"hk{tag}p"
    # A /30 of 10.231.0.0/16, away from the cluster's Service (10.96/16) and Pod
    # (10.244/16) ranges; random, so that runs side by side do not collide.
    third, fourth = unique.bytes[3], 4 * (unique.bytes[4] % 64)
    host_address, peer_address = f"10.231.{third}.{fourth + 1}", f"10.231.{third}.{fourth + 2}"
    ip("netns", "add", netns)
    try:
        ip("link", "add", host_end, "type", "veth", "peer", "name", peer_end, "netns", netns)
        ip("addr", "add", f"{host_address}/30", "dev", host_end)
        ip("link", "set", host_end, "up")
        ip("-n", netns, "addr", "add", f"{peer_address}/30", "dev", peer_end)
        ip("-n", netns, "link", "set", peer_end, "up")
        yield Link(netns, host_address)
    finally:
        # Deleting the namespace deletes the peer, and with it the pair.
        ip("netns", "del", netns)


def proxier_kubeconfig(kube: KubeClient, admin: Path, namespace: str, target: Path) -> Path:
    """A kubeconfig for a ServiceAccount bound to the service-proxier Role only."""
    kube.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "service-proxier", "namespace": namespace},
            "rules": PROXIER_RULES,
        }
    )
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "sealer", "namespace": namespace},
        }
    )
    kube.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "service-proxier", "namespace": namespace},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "service-proxier",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "sealer", "namespace": namespace}],
        }
    )
    token = kube.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts/sealer/token",
        body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}},
    )["status"]["token"]
    cluster = yaml.safe_load(admin.read_text())["clusters"][0]["cluster"]
    target.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "sealer",
                "contexts": [{"name": "sealer", "context": {"cluster": "c", "user": "sealer"}}],
                "clusters": [{"name": "c", "cluster": cluster}],
                "users": [{"name": "sealer", "user": {"token": token}}],
            }
        )
    )
    return target


def back_service_with(kube: KubeClient, namespace: str, address: str, port: int) -> None:
    """The controller's Service, its Endpoints at ``address``, and the Pod they name."""
    node = f"hakobu-proxy-{namespace}"
    pod = f"{SERVICE}-0"
    kube.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}})
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": pod, "namespace": namespace},
            "spec": {
                "nodeName": node,
                # The node never reports Ready; its taints must not evict the Pod.
                "tolerations": [{"operator": "Exists"}],
                "containers": [{"name": "controller", "image": "example.test/controller:1"}],
            },
        }
    )
    kube.request(
        "PATCH",
        f"/api/v1/namespaces/{namespace}/pods/{pod}/status",
        body={"status": {"phase": "Running", "podIP": address, "podIPs": [{"ip": address}]}},
        content_type="application/merge-patch+json",
    )
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": SERVICE, "namespace": namespace},
            "spec": {"ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": port}]},
        }
    )
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": SERVICE, "namespace": namespace},
            "subsets": [
                {
                    "addresses": [
                        {
                            "ip": address,
                            "targetRef": {"kind": "Pod", "name": pod, "namespace": namespace},
                        }
                    ],
                    "ports": [{"name": "http", "port": port}],
                }
            ],
        }
    )


@pytest.fixture
def controller(local_cluster: ClusterInfo, link: Link, tmp_path: Path) -> Iterator[Controller]:
    binary = ensure_tool(SEALED_SECRETS, lambda m: print(f"[sealed-secrets] {m}", file=sys.stderr))
    admin = Path(local_cluster.kubeconfig)
    namespace = f"sealed-secrets-{uuid.uuid4().hex[:6]}"
    with KubeClient.from_kubeconfig(admin) as kube, ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="hakobu-controller-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        install_crd(kube)
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        cleanup.callback(kube.delete, "v1", "Namespace", namespace, propagation="Background")
        cleanup.callback(kube.delete, "v1", "Node", f"hakobu-proxy-{namespace}")
        for kind in ("ClusterRoleBinding", "ClusterRole"):
            cleanup.callback(
                kube.delete, "rbac.authorization.k8s.io/v1", kind, f"sealed-secrets-{namespace}"
            )
        grant_rbac(kube, namespace)
        token = service_account_token(kube, namespace)
        port = free_port(link.address)
        log = workdir / "controller.log"
        process = start_controller(
            admin,
            workdir,
            binary.binary("controller"),
            token=token,
            namespace=namespace,
            listen=f"{link.address}:{port}",
        )
        cleanup.callback(process.wait, timeout=30)
        cleanup.callback(process.terminate)
        url = f"http://{link.address}:{port}"

        def answers() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the controller exited:\n{log.read_text()}")
            try:
                return httpx.get(f"{url}/v1/cert.pem", timeout=5).is_success
            except httpx.HTTPError:
                return False

        eventually("the controller's certificate", answers, 90)
        back_service_with(kube, namespace, link.address, port)
        sealer = proxier_kubeconfig(kube, admin, namespace, tmp_path / "sealer.kubeconfig")
        yield Controller(namespace, url, sealer)


def test_seal_without_cert_uses_the_certificate_the_controller_serves(
    controller: Controller,
    kube: KubeClient,
    namespace: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The sealer cannot read the key Secrets, so the seal cannot fall back on them.
    with KubeClient.from_kubeconfig(controller.sealer_kubeconfig) as sealer:
        with pytest.raises(Forbidden):
            sealer.list("v1", "Secret", controller.namespace)
        served = httpx.get(f"{controller.url}/v1/cert.pem", timeout=10).content
        through_proxy = sealer.request(
            "GET",
            f"/api/v1/namespaces/{controller.namespace}/services/http:{SERVICE}:http/proxy"
            "/v1/cert.pem",
            accept="application/x-pem-file, */*",
        )
        assert through_proxy.encode() == served

    target = tmp_path / "sealed.yaml"
    code, _, err = hakobu(
        capsys,
        "secret",
        "seal",
        "--name",
        "db",
        "--namespace",
        namespace,
        "--from-literal",
        "password=hunter2",
        "--from-literal",
        "user=app",
        "--controller-namespace",
        controller.namespace,
        "--kubeconfig",
        str(controller.sealer_kubeconfig),
        "-w",
        str(target),
    )
    assert code == 0, err
    sealed = yaml.safe_load(target.read_text())
    assert sealed["kind"] == "SealedSecret"
    kube.create(sealed)
    assert opened_by_controller(kube, namespace, "db") == {"password": b"hunter2", "user": b"app"}
