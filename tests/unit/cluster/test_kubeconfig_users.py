"""User entries: which credential is sent, and entries hakobu cannot use refused by name."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.cluster.kubeconfig import load
from hakobu.errors import InvalidInput
from tests.unit.cluster.test_kubeconfig_exec import LocalServer

MARKER = "s3cret-M4RKER"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    def echo(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, Any]]:
        return 200, {}

    local = LocalServer(echo)
    yield local
    local.close()


def write(tmp_path: Path, user: dict[str, Any], server: str = "http://k.test") -> Path:
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "deployer"}}],
        "clusters": [{"name": "k", "cluster": {"server": server}}],
        "users": [{"name": "deployer", "user": user}],
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def sent(server: LocalServer, path: Path) -> list[tuple[str, str]]:
    with KubeClient(load(path)) as client:
        client.request("GET", "/")
    _, headers = server.seen[-1]
    return sorted(
        (name, value)
        for name, value in headers.items()
        if name.startswith("Impersonate") or name == "Authorization"
    )


def test_impersonation_headers(server: LocalServer, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "token": "t",
            "as": "jane",
            "as-uid": "1234",
            "as-groups": ["devs", "ops"],
            "as-user-extra": {"reason": ["on call"]},
        },
        server.url,
    )
    with KubeClient(load(path)) as client:
        client.request("GET", "/")
    _, headers = server.seen[-1]
    assert headers["Authorization"] == "Bearer t"
    assert headers["Impersonate-User"] == "jane"
    assert headers["Impersonate-Uid"] == "1234"
    assert headers["Impersonate-Extra-reason"] == "on call"
    groups = [value for name, value in server.headers_sent[-1] if name == "Impersonate-Group"]
    assert groups == ["devs", "ops"]


def test_username_and_password(server: LocalServer, tmp_path: Path) -> None:
    path = write(tmp_path, {"username": "admin", "password": "pw"}, server.url)
    basic = base64.b64encode(b"admin:pw").decode()
    assert sent(server, path) == [("Authorization", f"Basic {basic}")]


def test_a_token_wins_over_an_exec_plugin(server: LocalServer, tmp_path: Path) -> None:
    # As kubectl: the plugin is not even run when the entry holds a token.
    path = write(
        tmp_path,
        {
            "token": "direct",
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1",
                "command": "hakobu-no-such-plugin",
                "interactiveMode": "Never",
            },
        },
        server.url,
    )
    assert sent(server, path) == [("Authorization", "Bearer direct")]


@pytest.mark.parametrize(
    ("user", "expect"),
    [
        (
            {"tokn": MARKER},
            "users[0].user.tokn: user 'deployer': hakobu does not know this field",
        ),
        (
            {"token": MARKER, "username": "u", "password": MARKER},
            "user.username: user 'deployer': username/password or a token may be set, not both",
        ),
        (
            {
                "exec": {"command": "x", "apiVersion": "client.authentication.k8s.io/v1"},
                "auth-provider": {"name": "oidc"},
            },
            "user.exec: user 'deployer': exec and auth-provider cannot be used together",
        ),
        (
            {"exec": {"apiVersion": "client.authentication.k8s.io/v1"}},
            "user.exec.command: user 'deployer': exec has no command",
        ),
        (
            {"exec": {"command": "x"}},
            "user.exec.apiVersion: user 'deployer': exec needs apiVersion "
            "client.authentication.k8s.io/v1 or /v1beta1",
        ),
        (
            {"exec": {"command": "x", "apiVersion": "client.authentication.k8s.io/v1alpha1"}},
            "/v1beta1, found another",
        ),
        (
            {"exec": {"command": "x", "apiVersion": "client.authentication.k8s.io/v1"}},
            "user.exec.interactiveMode: user 'deployer': exec with "
            "client.authentication.k8s.io/v1 needs interactiveMode",
        ),
        (
            {
                "exec": {
                    "command": "x",
                    "apiVersion": "client.authentication.k8s.io/v1",
                    "interactiveMode": "Sometimes",
                }
            },
            "expected interactiveMode Never, IfAvailable or Always",
        ),
        (
            {
                "exec": {
                    "command": "x",
                    "apiVersion": "client.authentication.k8s.io/v1beta1",
                    "env": [{"value": MARKER}],
                }
            },
            "user.exec.env[0].name: user 'deployer': an exec env entry needs a name",
        ),
        (
            {"auth-provider": {"name": "gcp", "config": {"access-token": MARKER}}},
            "user.auth-provider.name: user 'deployer': hakobu supports the oidc "
            "auth-provider; this one was removed from kubectl too",
        ),
        (
            {"auth-provider": {"name": "custom"}},
            "hakobu supports the oidc auth-provider; this one is not known",
        ),
        (
            {"token": MARKER, "as-groups": ["devs"]},
            "user.as: user 'deployer': as-uid, as-groups or as-user-extra is set without as",
        ),
        (
            {"client-key-data": base64.b64encode(MARKER.encode()).decode()},
            "user.client-key-data: user 'deployer': client-key is given without "
            "client-certificate (or client-certificate-data)",
        ),
    ],
    ids=[
        "unknown-field",
        "basic-and-token",
        "exec-and-provider",
        "exec-no-command",
        "exec-no-version",
        "exec-old-version",
        "exec-v1-no-mode",
        "exec-bad-mode",
        "exec-env-no-name",
        "provider-gcp",
        "provider-unknown",
        "groups-without-as",
        "key-without-cert",
    ],
)
def test_unusable_user_entries_are_refused_by_name(
    tmp_path: Path, user: dict[str, Any], expect: str
) -> None:
    path = write(tmp_path, user)
    with pytest.raises(InvalidInput) as caught:
        load(path)
    message = str(caught.value)
    assert f"{path}:" in message
    assert expect in message
    assert MARKER not in message


@pytest.mark.parametrize(
    ("cluster", "user", "field"),
    [
        ({"certificate-authority": "/etc/ssl/ca.pem"}, {"token": "t"}, "cluster.certificate-"),
        (
            {},
            {"tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"},
            "user.tokenFile",
        ),
        ({}, {"client-certificate": "c.crt", "client-key-data": "a2V5"}, "client-certificate"),
        ({}, {"client-certificate-data": "Y2VydA==", "client-key": "c.key"}, "user.client-key"),
        (
            {},
            {
                "auth-provider": {
                    "name": "oidc",
                    "config": {
                        "idp-issuer-url": "https://issuer.test",
                        "client-id": "k",
                        "id-token": "t",
                        "idp-certificate-authority": "/etc/ca.pem",
                    },
                }
            },
            "config.idp-certificate-authority",
        ),
        (
            {},
            {
                "exec": {
                    "apiVersion": "client.authentication.k8s.io/v1",
                    "command": "sh",
                    "interactiveMode": "Never",
                }
            },
            "user.exec: user 'deployer': this kubeconfig may not run an exec plugin",
        ),
    ],
    ids=["ca-file", "token-file", "cert-file", "key-file", "idp-ca-file", "exec"],
)
def test_a_kubeconfig_from_others_may_not_use_this_machine(
    tmp_path: Path, cluster: dict[str, Any], user: dict[str, Any], field: str
) -> None:
    path = tmp_path / "config"
    document = yaml.safe_load(write(tmp_path, user, "https://k.test").read_text())
    document["clusters"][0]["cluster"].update(cluster)
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(InvalidInput) as caught:
        load(path, local_credentials=False)
    assert field in str(caught.value)
    assert "user 'deployer': this kubeconfig may not" in str(caught.value)


def test_a_kubeconfig_from_others_with_embedded_credentials(tmp_path: Path) -> None:
    path = write(tmp_path, {"token": "inline"}, "https://k.test")
    assert load(path, local_credentials=False).token == "inline"
