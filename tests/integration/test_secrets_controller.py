"""hakobu and the real Sealed Secrets controller, against the local control plane.

The controller (built from the pinned release) runs as a host process with an in-cluster
configuration: its ServiceAccount token (TokenRequest API), the cluster's CA and its
namespace sit in a temporary directory that is bind-mounted over /var/run inside a private
mount namespace (``unshare --mount``), so the machine's own /var/run is never touched. It
gets the upstream chart's RBAC and serves its HTTP port on 127.0.0.1 only; its certificate
is fetched there (the API server's service proxy cannot reach a loopback address, so the
proxy path of `hakobu secret seal` is not exercised here).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.localcluster.gobuild import ensure_tool
from hakobu.localcluster.toolchain import SEALED_SECRETS, SEALED_SECRETS_VERSION
from hakobu.model.objects import Object
from hakobu.secrets.keystore import KeyStore
from hakobu.secrets.sealedsecret import seal_secret

pytestmark = pytest.mark.cluster

SERVICE = "sealed-secrets-controller"
# The upstream chart's ClusterRole (templates/cluster-role.yaml) for all namespaces.
CONTROLLER_RULES = [
    {
        "apiGroups": ["bitnami.com"],
        "resources": ["sealedsecrets"],
        "verbs": ["get", "list", "watch"],
    },
    {"apiGroups": ["bitnami.com"], "resources": ["sealedsecrets/status"], "verbs": ["update"]},
    {
        "apiGroups": [""],
        "resources": ["secrets"],
        "verbs": ["get", "list", "create", "update", "delete", "watch"],
    },
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
    {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]},
]


@dataclass(frozen=True)
class Controller:
    namespace: str
    url: str
    kubeconfig: Path
    log: Path

    def certificate(self) -> bytes:
        response = httpx.get(f"{self.url}/v1/cert.pem", timeout=10)
        response.raise_for_status()
        return response.content


def eventually(what: str, probe: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def sealed_secrets_module() -> Path:
    listing = subprocess.run(
        ["go", "mod", "download", "-json", f"{SEALED_SECRETS.module}@{SEALED_SECRETS_VERSION}"],
        capture_output=True,
        check=True,
        timeout=300,
    )
    return Path(json.loads(listing.stdout)["Dir"])


def free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        port: int = s.getsockname()[1]
        return port


def install_crd(kube: KubeClient) -> None:
    crd_file = sealed_secrets_module() / "helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml"
    crd = yaml.safe_load(crd_file.read_text())
    kube.apply(crd, field_manager="hakobu-tests", force=True)

    def established() -> bool:
        live = kube.get(
            "apiextensions.k8s.io/v1", "CustomResourceDefinition", crd["metadata"]["name"]
        )
        conditions = (live.get("status") or {}).get("conditions") or []
        return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

    eventually("the SealedSecret CRD", established)


def grant_rbac(kube: KubeClient, namespace: str) -> None:
    name = f"sealed-secrets-{namespace}"
    kube.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name},
            "rules": CONTROLLER_RULES,
        }
    )
    kube.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": name,
            },
            "subjects": [{"kind": "ServiceAccount", "name": SERVICE, "namespace": namespace}],
        }
    )


def service_account_token(kube: KubeClient, namespace: str) -> str:
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": SERVICE, "namespace": namespace},
        }
    )
    request = kube.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{SERVICE}/token",
        body={
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": 3600},
        },
    )
    token: str = request["status"]["token"]
    return token


@pytest.fixture(scope="module")
def controller(local_cluster: ClusterInfo) -> Iterator[Controller]:
    binary = ensure_tool(SEALED_SECRETS, lambda m: print(f"[sealed-secrets] {m}", file=sys.stderr))
    kubeconfig = Path(local_cluster.kubeconfig)
    namespace = f"sealed-secrets-{uuid.uuid4().hex[:6]}"
    # Each cleanup is registered as soon as there is something to clean, so a set-up that
    # fails half-way leaves nothing behind either.
    with KubeClient.from_kubeconfig(kubeconfig) as kube, ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="hakobu-controller-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        install_crd(kube)
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        cleanup.callback(kube.delete, "v1", "Namespace", namespace, propagation="Background")
        for kind in ("ClusterRoleBinding", "ClusterRole"):
            cleanup.callback(
                kube.delete, "rbac.authorization.k8s.io/v1", kind, f"sealed-secrets-{namespace}"
            )
        grant_rbac(kube, namespace)
        token = service_account_token(kube, namespace)
        port = free_port("127.0.0.1")
        log = workdir / "controller.log"
        process = start_controller(
            kubeconfig,
            workdir,
            binary.binary("controller"),
            token=token,
            namespace=namespace,
            listen=f"127.0.0.1:{port}",
            flags=("--watch-for-secrets",),
        )
        cleanup.callback(process.wait, timeout=30)
        cleanup.callback(process.terminate)
        running = Controller(namespace, f"http://127.0.0.1:{port}", kubeconfig, log)
        eventually("the controller's certificate", lambda: _answers(running, process), 90)
        yield running


def start_controller(
    kubeconfig: Path,
    workdir: Path,
    binary: Path,
    *,
    token: str,
    namespace: str,
    listen: str,
    flags: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:
    """The controller as its Pod runs it: the service account's files under /var/run (a
    private mount), the API server from the environment; its output in controller.log."""
    account = workdir / "run/secrets/kubernetes.io/serviceaccount"
    account.mkdir(parents=True)
    (account / "token").write_text(token)
    (account / "namespace").write_text(namespace)
    cluster = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]
    (account / "ca.crt").write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
    host, api_port = cluster["server"].removeprefix("https://").rsplit(":", 1)
    with (workdir / "controller.log").open("wb") as output:
        return subprocess.Popen(
            [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                'mount --bind "$0" /var/run && exec "$@"',
                str(workdir / "run"),
                str(binary),
                "--key-prefix=sealed-secrets-key",
                f"--listen-addr={listen}",
                f"--listen-metrics-addr=127.0.0.1:{free_port('127.0.0.1')}",
                "--all-namespaces=true",
                "--key-renew-period=0",
                *flags,
            ],
            env={
                "PATH": os.environ["PATH"],
                "KUBERNETES_SERVICE_HOST": host,
                "KUBERNETES_SERVICE_PORT": api_port,
            },
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def _answers(controller: Controller, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"the controller exited:\n{controller.log.read_text()}")
    try:
        return bool(controller.certificate())
    except httpx.HTTPError:
        return False


def hakobu(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def secret(namespace: str, name: str, items: dict[str, str]) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "type": "Opaque",
        "stringData": items,
    }


def opened_by_controller(kube: KubeClient, namespace: str, name: str) -> dict[str, bytes]:
    def made() -> Object | None:
        try:
            return kube.get("v1", "Secret", name, namespace)
        except NotFound:
            return None

    made_secret: Object = eventually(f"Secret/{namespace}/{name} from the controller", made)
    owners = made_secret["metadata"].get("ownerReferences") or []
    assert [o["kind"] for o in owners] == ["SealedSecret"]
    return {k: base64.b64decode(v) for k, v in made_secret["data"].items()}


def test_the_controller_opens_what_hakobu_sealed_with_its_certificate(
    controller: Controller, kube: KubeClient, namespace: str
) -> None:
    sealed = seal_secret(
        secret(namespace, "db", {"password": "hunter2", "user": "app"}), controller.certificate()
    )
    kube.create(sealed)
    assert opened_by_controller(kube, namespace, "db") == {
        "password": b"hunter2",
        "user": b"app",
    }


def test_a_key_created_by_hakobu_seals_for_the_controller(
    controller: Controller,
    kube: KubeClient,
    namespace: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = controller.certificate()
    code, out, err = hakobu(
        capsys,
        "secret",
        "keys",
        "create",
        "--namespace",
        controller.namespace,
        "--kubeconfig",
        str(controller.kubeconfig),
    )
    assert code == 0, err
    created = out.split("Secret/")[1].split(":")[0].split("/")[1]
    assert created.startswith("sealed-secrets-key")
    newest = KeyStore(kube, controller.namespace).newest()
    assert newest.name == created
    assert newest.certificate_pem != before
    # The controller watches key Secrets and moves to the newest (its informer may take a
    # while on a busy machine; its log says what it saw when it does not).
    try:
        eventually(
            "the controller to seal with hakobu's key",
            lambda: controller.certificate() == newest.certificate_pem,
            timeout=150,
        )
    except AssertionError as e:
        log = controller.log.read_text(errors="replace")[-4000:]
        raise AssertionError(f"{e}; the controller's log ends:\n{log}") from None

    # No controller Service of this name: the certificate comes from the key store.
    target = tmp_path / "sealed.yaml"
    code, _, err = hakobu(
        capsys,
        "secret",
        "seal",
        "--name",
        "own-key",
        "--namespace",
        namespace,
        "--from-literal",
        "value=from hakobu's key store",
        "--controller-namespace",
        controller.namespace,
        "--controller-name",
        "no-such-controller",
        "--kubeconfig",
        str(controller.kubeconfig),
        "-w",
        str(target),
    )
    assert code == 0, err
    kube.create(yaml.safe_load(target.read_text()))
    assert opened_by_controller(kube, namespace, "own-key") == {"value": b"from hakobu's key store"}


def test_editing_one_item_keeps_the_others_and_the_controller_opens_the_result(
    controller: Controller,
    kube: KubeClient,
    namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sealed = seal_secret(
        secret(namespace, "app", {"a": "one", "b": "two", "c": "three"}), controller.certificate()
    )
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(sealed, sort_keys=True))
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import pathlib, sys\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "p.write_text(p.read_text().replace('b: two', 'b: changed'))\n"
    )
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    # Keys and certificate both from the cluster: no --key, no --cert.
    code = main(
        [
            "secret",
            "edit",
            str(path),
            "--controller-namespace",
            controller.namespace,
            "--kubeconfig",
            str(controller.kubeconfig),
        ]
    )
    assert code == 0
    edited = yaml.safe_load(path.read_text())
    before, after = sealed["spec"]["encryptedData"], edited["spec"]["encryptedData"]
    assert after["a"] == before["a"]
    assert after["c"] == before["c"]
    assert after["b"] != before["b"]
    kube.create(edited)
    assert opened_by_controller(kube, namespace, "app") == {
        "a": b"one",
        "b": b"changed",
        "c": b"three",
    }
