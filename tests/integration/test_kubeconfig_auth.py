"""Kubeconfig credentials against the real API server, started with a static token
authenticator: exec plugins (v1 and v1beta1), their cache and expiry, a failing plugin, a
rewritten token file, merged files with a chosen context, tls-server-name and proxy-url.
Who the server took the client for is asked with a SelfSubjectReview."""

from __future__ import annotations

import base64
import json
import os
import secrets
import select
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.cluster.credentials import CredentialsFailed
from hakobu.cluster.errors import Unreachable
from hakobu.cluster.kubeconfig import Connection, load
from hakobu.localcluster import controlplane
from hakobu.model.usercache import cache_root

pytestmark = pytest.mark.cluster

READERS = "hakobu-test-readers"
USERS = ("exec-v1", "exec-v1beta1", "stale", "rotating-1", "rotating-2", "first", "second")

PLUGIN = """\
import json, os, pathlib, sys, datetime
runs = pathlib.Path(sys.argv[1])
count = int(runs.read_text()) + 1 if runs.exists() else 1
runs.write_text(str(count))
pathlib.Path(str(runs) + ".info").write_text(os.environ["KUBERNETES_EXEC_INFO"])
if os.environ.get("PLUGIN_FAIL"):
    print(os.environ["PLUGIN_FAIL"], file=sys.stderr)
    sys.exit(3)
token = os.environ["PLUGIN_TOKEN"]
if count == 1 and os.environ.get("PLUGIN_FIRST_TOKEN"):
    token = os.environ["PLUGIN_FIRST_TOKEN"]
status = {"token": token}
ttl = os.environ.get("PLUGIN_TTL")
if ttl:
    expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=float(ttl))
    status["expirationTimestamp"] = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
api = json.loads(os.environ["KUBERNETES_EXEC_INFO"])["apiVersion"]
print(json.dumps({"apiVersion": api, "kind": "ExecCredential", "status": status}))
"""


@dataclass(frozen=True)
class AuthCluster:
    server: str
    ca_pem: bytes
    tokens: dict[str, str]


def _progress(message: str) -> None:
    print(f"[token-auth cluster] {message}", file=sys.stderr, flush=True)


@pytest.fixture(scope="module")
def auth_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthCluster]:
    tokens = {user: secrets.token_urlsafe(24) for user in USERS}
    csv = tmp_path_factory.mktemp("token-auth") / "tokens.csv"
    csv.write_text(
        "".join(f'{token},{user},uid-{user},"{READERS}"\n' for user, token in tokens.items())
    )
    base = Path(os.environ.get("HAKOBU_TEST_CLUSTER_DIR", cache_root() / "test-cluster"))
    # Its own cluster: the session's was started without the token authenticator.
    state_dir = base.with_name(base.name + "-token-auth")
    controlplane.down(state_dir)
    info, _ = controlplane.up(state_dir, _progress, token_auth_file=csv)
    with KubeClient(load(Path(info.kubeconfig))) as admin:
        admin.create(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": "hakobu-test-readers"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "view",
                },
                "subjects": [
                    {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": READERS}
                ],
            }
        )
    admin_config = yaml.safe_load(Path(info.kubeconfig).read_text())
    ca = base64.b64decode(admin_config["clusters"][0]["cluster"]["certificate-authority-data"])
    yield AuthCluster(info.server, ca, tokens)
    controlplane.down(state_dir)


def kubeconfig(
    cluster: AuthCluster, user: dict[str, Any], *, cluster_extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "local",
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": "someone"}}],
        "clusters": [
            {
                "name": "local",
                "cluster": {
                    "server": cluster.server,
                    "certificate-authority-data": base64.b64encode(cluster.ca_pem).decode(),
                    **(cluster_extra or {}),
                },
            }
        ],
        "users": [{"name": "someone", "user": user}],
    }


def write(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def whoami(client: KubeClient) -> str:
    review = client.request(
        "POST",
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
    )
    username: str = review["status"]["userInfo"]["username"]
    return username


def exec_user(tmp_path: Path, api_version: str, env: dict[str, str]) -> tuple[dict[str, Any], Path]:
    plugin = tmp_path / "plugin.py"
    plugin.write_text(PLUGIN)
    runs = tmp_path / "runs"
    user = {
        "exec": {
            "apiVersion": api_version,
            "command": sys.executable,
            "args": [str(plugin), str(runs)],
            "env": [{"name": k, "value": v} for k, v in env.items()],
            "interactiveMode": "Never",
            "provideClusterInfo": True,
        }
    }
    return user, runs


def runs(path: Path) -> int:
    return int(path.read_text()) if path.exists() else 0


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_an_exec_plugin_authenticates(
    auth_cluster: AuthCluster, tmp_path: Path, version: str
) -> None:
    user_name = f"exec-{version}"
    user, counter = exec_user(
        tmp_path,
        f"client.authentication.k8s.io/{version}",
        {"PLUGIN_TOKEN": auth_cluster.tokens[user_name]},
    )
    connection = load(write(tmp_path / "config", kubeconfig(auth_cluster, user)))
    with KubeClient(connection) as client:
        assert whoami(client) == user_name
        # A read the view role allows, as that user.
        assert client.list("v1", "ConfigMap", "kube-system").items
    assert runs(counter) == 1
    info = json.loads(Path(f"{counter}.info").read_text())
    assert info["apiVersion"] == f"client.authentication.k8s.io/{version}"
    assert info["spec"]["interactive"] is False
    # provideClusterInfo: what the plugin needs to reach the same server.
    cluster = info["spec"]["cluster"]
    assert cluster["server"] == auth_cluster.server
    assert base64.b64decode(cluster["certificate-authority-data"]) == auth_cluster.ca_pem


def test_a_credential_is_reused_until_it_expires(auth_cluster: AuthCluster, tmp_path: Path) -> None:
    ttl = 10
    user, counter = exec_user(
        tmp_path,
        "client.authentication.k8s.io/v1",
        {"PLUGIN_TOKEN": auth_cluster.tokens["exec-v1"], "PLUGIN_TTL": str(ttl)},
    )
    connection = load(write(tmp_path / "config", kubeconfig(auth_cluster, user)))
    with KubeClient(connection) as client:
        assert whoami(client) == "exec-v1"
        assert whoami(client) == "exec-v1"
        assert client.list("v1", "Namespace").items
        assert runs(counter) == 1
        time.sleep(ttl + 1)
        assert whoami(client) == "exec-v1"
        assert runs(counter) == 2


def test_a_rejected_credential_is_asked_for_again(
    auth_cluster: AuthCluster, tmp_path: Path
) -> None:
    # The first credential is refused (401) though it claims an hour of validity.
    user, counter = exec_user(
        tmp_path,
        "client.authentication.k8s.io/v1",
        {
            "PLUGIN_FIRST_TOKEN": "revoked-token",
            "PLUGIN_TOKEN": auth_cluster.tokens["stale"],
            "PLUGIN_TTL": "3600",
        },
    )
    connection = load(write(tmp_path / "config", kubeconfig(auth_cluster, user)))
    with KubeClient(connection) as client:
        assert whoami(client) == "stale"
        assert whoami(client) == "stale"
    assert runs(counter) == 2


def test_a_failing_plugin_shows_its_stderr(auth_cluster: AuthCluster, tmp_path: Path) -> None:
    user, _ = exec_user(
        tmp_path,
        "client.authentication.k8s.io/v1",
        {"PLUGIN_FAIL": "the token service refused: account locked"},
    )
    connection = load(write(tmp_path / "config", kubeconfig(auth_cluster, user)))
    with KubeClient(connection) as client, pytest.raises(CredentialsFailed) as caught:
        whoami(client)
    message = str(caught.value)
    assert "the exec plugin of user 'someone'" in message
    assert "exit status 3" in message
    assert "the token service refused: account locked" in message


def test_a_rewritten_token_file_is_used(auth_cluster: AuthCluster, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(auth_cluster.tokens["rotating-1"] + "\n")
    connection = load(write(tmp_path / "config", kubeconfig(auth_cluster, {"tokenFile": "token"})))
    with KubeClient(connection) as client:
        assert whoami(client) == "rotating-1"
        # Rewritten in place, as the kubelet rotates a projected token.
        token_file.write_text(auth_cluster.tokens["rotating-2"] + "\n")
        assert whoami(client) == "rotating-2"


def test_merged_files_and_a_chosen_context(
    auth_cluster: AuthCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = auth_cluster.tokens
    # The first file names its context and user but leaves the cluster to the second.
    first = write(
        tmp_path / "first",
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "a",
            "contexts": [{"name": "a", "context": {"cluster": "local", "user": "reader"}}],
            "users": [{"name": "reader", "user": {"token": tokens["first"]}}],
        },
    )
    second_config = kubeconfig(auth_cluster, {"token": tokens["second"]})
    second_config["current-context"] = "b"
    second_config["contexts"] = [
        {"name": "b", "context": {"cluster": "local", "user": "writer"}},
        # Shadowed by the first file's entries of the same names.
        {"name": "a", "context": {"cluster": "local", "user": "writer"}},
    ]
    second_config["users"] = [
        {"name": "writer", "user": {"token": tokens["second"]}},
        {"name": "reader", "user": {"token": tokens["rotating-1"]}},
    ]
    second = write(tmp_path / "second", second_config)
    missing = tmp_path / "not-there"

    def who(connection: Connection) -> str:
        with KubeClient(connection) as client:
            return whoami(client)

    assert who(load([first, missing, second])) == "first"
    assert who(load([first, second], "b")) == "second"
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(map(str, [first, missing, second])))
    assert who(load()) == "first"
    assert who(load(context="b")) == "second"
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(map(str, [second, first])))
    assert who(load()) == "second"


def test_tls_server_name_is_the_name_checked(auth_cluster: AuthCluster, tmp_path: Path) -> None:
    user = {"token": auth_cluster.tokens["first"]}
    # A name the serving certificate holds, though the URL names an address.
    named = load(
        write(
            tmp_path / "named",
            kubeconfig(auth_cluster, user, cluster_extra={"tls-server-name": "kubernetes.default"}),
        )
    )
    with KubeClient(named) as client:
        assert whoami(client) == "first"
    wrong = load(
        write(
            tmp_path / "wrong",
            kubeconfig(auth_cluster, user, cluster_extra={"tls-server-name": "elsewhere.test"}),
        )
    )
    with KubeClient(wrong) as client, pytest.raises(Unreachable, match=r"elsewhere\.test"):
        whoami(client)


class _ConnectProxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    tunnels: list[str]


class _Tunnel(socketserver.BaseRequestHandler):
    """An HTTP CONNECT proxy's one tunnel: what kubectl's proxy-url talks to."""

    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
        assert isinstance(self.server, _ConnectProxy)
        self.server.tunnels.append(f"{method} {target}")
        host, port = target.rsplit(":", 1)
        with socket.create_connection((host, int(port))) as upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            sockets = [self.request, upstream]
            while True:
                ready, _, _ = select.select(sockets, [], [], 30)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.request else self.request).sendall(data)


def test_proxy_url_carries_the_requests(auth_cluster: AuthCluster, tmp_path: Path) -> None:
    with _ConnectProxy(("127.0.0.1", 0), _Tunnel) as proxy:
        proxy.tunnels = []
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{proxy.server_address[1]}"
            connection = load(
                write(
                    tmp_path / "config",
                    kubeconfig(
                        auth_cluster,
                        {"token": auth_cluster.tokens["second"]},
                        cluster_extra={"proxy-url": url, "tls-server-name": "kubernetes"},
                    ),
                )
            )
            with KubeClient(connection) as client:
                assert whoami(client) == "second"
        finally:
            proxy.shutdown()
    port = auth_cluster.server.rsplit(":", 1)[1]
    assert proxy.tunnels == [f"CONNECT 127.0.0.1:{port}"]
