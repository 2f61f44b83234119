"""Kubeconfig credentials against the real API server, started with a static token
authenticator and an OpenID Connect issuer run here: exec plugins (v1 and v1beta1), their
cache and expiry, a failing plugin, a rewritten token file, merged files with a chosen
context, the oidc auth-provider's refresh, tls-server-name and proxy-url. Who the server
took the client for is asked with a SelfSubjectReview."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import os
import secrets
import select
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from hakobu.cluster.client import KubeClient
from hakobu.cluster.credentials import CredentialsFailed
from hakobu.cluster.errors import Unauthorized, Unreachable
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
if os.environ.get("PLUGIN_CERT"):
    status = {
        "clientCertificateData": os.environ["PLUGIN_CERT"],
        "clientKeyData": os.environ["PLUGIN_KEY"],
    }
else:
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


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class OidcIssuer:
    """An OpenID Connect provider on https://127.0.0.1: discovery, its signing key (JWKS)
    and a token endpoint that trades one refresh token for a fresh ID token."""

    CLIENT_ID = "hakobu"
    CLIENT_SECRET = "issuer-client-secret"

    def __init__(self, directory: Path) -> None:
        now = datetime.datetime.now(datetime.UTC)
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test issuer CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        serving_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        serving = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer")]))
            .issuer_name(ca_name)
            .public_key(serving_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        self.ca_pem = ca.public_bytes(serialization.Encoding.PEM)
        (directory / "issuer.crt").write_bytes(serving.public_bytes(serialization.Encoding.PEM))
        (directory / "issuer.key").write_bytes(_pem(serving_key))
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.refresh_token = secrets.token_urlsafe(16)
        self.refreshes = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    self._json(200, issuer.discovery())
                elif self.path == "/keys":
                    self._json(200, issuer.jwks())
                else:
                    self._json(404, {})

            def do_POST(self) -> None:
                form = dict(
                    urllib.parse.parse_qsl(
                        self.rfile.read(int(self.headers["Content-Length"])).decode()
                    )
                )
                client = base64.b64encode(
                    f"{issuer.CLIENT_ID}:{issuer.CLIENT_SECRET}".encode()
                ).decode()
                if (
                    self.path != "/token"
                    or self.headers.get("Authorization") != f"Basic {client}"
                    or form.get("grant_type") != "refresh_token"
                    or form.get("refresh_token") != issuer.refresh_token
                ):
                    self._json(400, {"error": "invalid_grant"})
                    return
                issuer.refreshes += 1
                issuer.refresh_token = secrets.token_urlsafe(16)
                self._json(
                    200,
                    {
                        "id_token": issuer.id_token("jane", lifetime=600),
                        "refresh_token": issuer.refresh_token,
                        "token_type": "Bearer",
                    },
                )

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(directory / "issuer.crt", directory / "issuer.key")
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/keys",
            "token_endpoint": f"{self.url}/token",
            "authorization_endpoint": f"{self.url}/authorize",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def jwks(self) -> dict[str, Any]:
        numbers = self.signing_key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "alg": "RS256",
                    "use": "sig",
                    "kid": "test-key",
                    "n": _b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                    "e": _b64url(numbers.e.to_bytes(3, "big")),
                }
            ]
        }

    def id_token(self, subject: str, *, lifetime: float) -> str:
        now = time.time()
        header = {"alg": "RS256", "typ": "JWT", "kid": "test-key"}
        claims = {
            "iss": self.url,
            "aud": self.CLIENT_ID,
            "sub": subject,
            "iat": int(now - 120),
            "exp": int(now + lifetime),
        }
        signed = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self.signing_key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signed}.{_b64url(signature)}"

    def authentication_config(self) -> dict[str, Any]:
        return {
            "apiVersion": "apiserver.config.k8s.io/v1",
            "kind": "AuthenticationConfiguration",
            "jwt": [
                {
                    "issuer": {
                        "url": self.url,
                        "audiences": [self.CLIENT_ID],
                        "certificateAuthority": self.ca_pem.decode(),
                    },
                    "claimMappings": {"username": {"claim": "sub", "prefix": "oidc:"}},
                }
            ],
        }

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass(frozen=True)
class AuthCluster:
    server: str
    ca_pem: bytes
    tokens: dict[str, str]
    issuer: OidcIssuer
    # The administrator's client certificate and key (PEM), as the cluster wrote them.
    admin_cert: str
    admin_key: str


def _progress(message: str) -> None:
    print(f"[token-auth cluster] {message}", file=sys.stderr, flush=True)


@pytest.fixture(scope="module")
def auth_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthCluster]:
    tokens = {user: secrets.token_urlsafe(24) for user in USERS}
    directory = tmp_path_factory.mktemp("token-auth")
    csv = directory / "tokens.csv"
    csv.write_text(
        "".join(f'{token},{user},uid-{user},"{READERS}"\n' for user, token in tokens.items())
    )
    base = Path(os.environ.get("HAKOBU_TEST_CLUSTER_DIR", cache_root() / "test-cluster"))
    # Its own cluster: the session's was started without the token authenticator.
    state_dir = base.with_name(base.name + "-token-auth")
    issuer = OidcIssuer(directory)
    authentication = directory / "authentication.yaml"
    authentication.write_text(yaml.safe_dump(issuer.authentication_config()))
    controlplane.down(state_dir)
    info, _ = controlplane.up(
        state_dir, _progress, token_auth_file=csv, authentication_config=authentication
    )
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
        # The authorizer learns of a new binding from its informer, a moment later.
        _wait_until_readers_may_view(admin)
    admin_config = yaml.safe_load(Path(info.kubeconfig).read_text())
    ca = base64.b64decode(admin_config["clusters"][0]["cluster"]["certificate-authority-data"])
    _wait_for_the_issuer(info.server, ca, issuer)
    admin_user = admin_config["users"][0]["user"]
    yield AuthCluster(
        info.server,
        ca,
        tokens,
        issuer,
        base64.b64decode(admin_user["client-certificate-data"]).decode(),
        base64.b64decode(admin_user["client-key-data"]).decode(),
    )
    controlplane.down(state_dir)
    issuer.close()


def _wait_until_readers_may_view(admin: KubeClient) -> None:
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": "probe",
            "groups": [READERS],
            "resourceAttributes": {
                "verb": "list",
                "resource": "configmaps",
                "namespace": "kube-system",
            },
        },
    }
    deadline = time.monotonic() + 30
    path = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
    while not admin.request("POST", path, body=review)["status"].get("allowed"):
        if time.monotonic() > deadline:
            raise AssertionError("the view binding of the readers never took effect")
        time.sleep(0.2)


def _wait_for_the_issuer(server: str, ca: bytes, issuer: OidcIssuer) -> None:
    """The API server fetches the issuer's keys after it is ready: until then it refuses
    every ID token."""
    context = ssl.create_default_context(cadata=ca.decode())
    token = issuer.id_token("probe", lifetime=300)
    deadline = time.monotonic() + 60
    while True:
        answer = httpx.post(
            f"{server}/apis/authentication.k8s.io/v1/selfsubjectreviews",
            json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
            headers={"Authorization": f"Bearer {token}"},
            verify=context,
        )
        if answer.status_code == 201:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the API server never took the issuer's tokens: {answer.text}")
        time.sleep(0.5)


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


def test_an_exec_plugin_can_give_a_client_certificate(
    auth_cluster: AuthCluster, tmp_path: Path
) -> None:
    user, counter = exec_user(
        tmp_path,
        "client.authentication.k8s.io/v1",
        {"PLUGIN_CERT": auth_cluster.admin_cert, "PLUGIN_KEY": auth_cluster.admin_key},
    )
    connection = load(write(tmp_path / "config", kubeconfig(auth_cluster, user)))
    subject = x509.load_pem_x509_certificate(auth_cluster.admin_cert.encode()).subject
    common_name = subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    with KubeClient(connection) as client:
        assert whoami(client) == common_name
    assert runs(counter) == 1


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


def oidc_user(issuer: OidcIssuer, id_token: str) -> dict[str, Any]:
    return {
        "auth-provider": {
            "name": "oidc",
            "config": {
                "idp-issuer-url": issuer.url,
                "client-id": issuer.CLIENT_ID,
                "client-secret": issuer.CLIENT_SECRET,
                "id-token": id_token,
                "refresh-token": issuer.refresh_token,
                "idp-certificate-authority-data": base64.b64encode(issuer.ca_pem).decode(),
            },
        }
    }


def test_oidc_id_token_and_its_refresh(auth_cluster: AuthCluster, tmp_path: Path) -> None:
    issuer = auth_cluster.issuer
    valid = load(
        write(
            tmp_path / "valid",
            kubeconfig(auth_cluster, oidc_user(issuer, issuer.id_token("jane", lifetime=300))),
        )
    )
    with KubeClient(valid) as client:
        assert whoami(client) == "oidc:jane"
    assert issuer.refreshes == 0

    expired_token = issuer.id_token("jane", lifetime=-60)
    # The server refuses the expired token itself...
    stale = load(write(tmp_path / "stale", kubeconfig(auth_cluster, {"token": expired_token})))
    with KubeClient(stale) as client, pytest.raises(Unauthorized):
        whoami(client)
    # ...so the entry's refresh token is traded for a new one at the issuer, once.
    refreshing = load(
        write(tmp_path / "expired", kubeconfig(auth_cluster, oidc_user(issuer, expired_token)))
    )
    with KubeClient(refreshing) as client:
        assert whoami(client) == "oidc:jane"
        assert whoami(client) == "oidc:jane"
    assert issuer.refreshes == 1
