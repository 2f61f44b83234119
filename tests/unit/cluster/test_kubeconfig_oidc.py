"""The oidc auth-provider: the ID token while valid, a refresh at the issuer's token endpoint
(found by discovery) when it has expired or is refused. The issuer and the API server are
one local HTTP server here; the API server's own OIDC authenticator is not started."""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.cluster.credentials import CredentialsFailed
from hakobu.cluster.kubeconfig import load
from hakobu.errors import InvalidInput
from tests.unit.cluster.test_kubeconfig_exec import LocalServer


def jwt(exp: float, subject: str) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part({'sub': subject, 'exp': int(exp)})}.c2lnbmF0dXJl"


class Issuer:
    """An OpenID provider's discovery and token endpoint, and an API that accepts one token."""

    def __init__(self) -> None:
        self.valid = jwt(time.time() + 3600, "fresh")
        self.grants: list[dict[str, str]] = []
        self.refresh_answer: tuple[int, dict[str, Any]] | None = None
        self.server = LocalServer(self.handle)

    def handle(self, request: BaseHTTPRequestHandler) -> tuple[int, dict[str, Any]]:
        if request.path == "/issuer/.well-known/openid-configuration":
            return 200, {
                "issuer": f"{self.server.url}/issuer",
                "token_endpoint": f"{self.server.url}/issuer/token",
            }
        if request.path == "/issuer/token":
            form = dict(urllib.parse.parse_qsl(getattr(request, "body", b"").decode()))
            self.grants.append({**form, "authorization": request.headers["Authorization"]})
            if self.refresh_answer is not None:
                return self.refresh_answer
            return 200, {"id_token": self.valid, "refresh_token": "refresh-2"}
        if request.headers.get("Authorization") == f"Bearer {self.valid}":
            return 200, {"ok": True}
        return 401, {"kind": "Status", "code": 401, "message": "no"}


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    local = Issuer()
    yield local
    local.server.close()


def write(tmp_path: Path, issuer: Issuer, **config: Any) -> Path:
    provider = {
        "name": "oidc",
        "config": {
            "idp-issuer-url": f"{issuer.server.url}/issuer",
            "client-id": "hakobu",
            "client-secret": "s3cret",
            **config,
        },
    }
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "oidc-user"}}],
        "clusters": [{"name": "k", "cluster": {"server": issuer.server.url}}],
        "users": [{"name": "oidc-user", "user": {"auth-provider": provider}}],
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(document))
    return path


def test_a_valid_id_token_is_sent_as_it_is(issuer: Issuer, tmp_path: Path) -> None:
    path = write(tmp_path, issuer, **{"id-token": issuer.valid, "refresh-token": "refresh-1"})
    with KubeClient(load(path)) as client:
        assert client.request("GET", "/api") == {"ok": True}
    assert issuer.grants == []


def test_an_expired_id_token_is_refreshed(issuer: Issuer, tmp_path: Path) -> None:
    expired = jwt(time.time() - 5, "old")
    path = write(tmp_path, issuer, **{"id-token": expired, "refresh-token": "refresh-1"})
    with KubeClient(load(path)) as client:
        assert client.request("GET", "/api") == {"ok": True}
        assert client.request("GET", "/api") == {"ok": True}
    basic = base64.b64encode(b"hakobu:s3cret").decode()
    assert issuer.grants == [
        {
            "grant_type": "refresh_token",
            "refresh_token": "refresh-1",
            "authorization": f"Basic {basic}",
        }
    ]


def test_a_refused_id_token_is_refreshed_once(issuer: Issuer, tmp_path: Path) -> None:
    # Valid by its claims, but the server no longer takes it (the key was rotated).
    unknown = jwt(time.time() + 3600, "unknown")
    path = write(tmp_path, issuer, **{"id-token": unknown, "refresh-token": "refresh-1"})
    with KubeClient(load(path)) as client:
        assert client.request("GET", "/api") == {"ok": True}
    assert [grant["refresh_token"] for grant in issuer.grants] == ["refresh-1"]


def test_a_refusing_issuer_is_reported(issuer: Issuer, tmp_path: Path) -> None:
    issuer.refresh_answer = (400, {"error": "invalid_grant", "error_description": "expired"})
    path = write(
        tmp_path, issuer, **{"id-token": jwt(time.time() - 5, "old"), "refresh-token": "r-1"}
    )
    with KubeClient(load(path)) as client, pytest.raises(CredentialsFailed) as caught:
        client.request("GET", "/api")
    message = str(caught.value)
    assert "refreshing the ID token of user 'oidc-user'" in message
    assert "HTTP 400: invalid_grant expired" in message
    assert "r-1" not in message


def test_an_expired_token_without_refresh_token(issuer: Issuer, tmp_path: Path) -> None:
    path = write(tmp_path, issuer, **{"id-token": jwt(time.time() - 5, "old")})
    with KubeClient(load(path)) as client, pytest.raises(CredentialsFailed, match="has expired"):
        client.request("GET", "/api")


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        ({"client-id": None}, "config.client-id: user 'oidc-user': the oidc auth-provider needs"),
        ({"idp-issuer-url": ""}, "needs config.idp-issuer-url"),
        ({}, "has neither id-token nor refresh-token"),
        ({"id-token": "a b"}, "config.id-token: user 'oidc-user': the token holds"),
    ],
)
def test_unusable_entries(
    issuer: Issuer, tmp_path: Path, change: dict[str, Any], expect: str
) -> None:
    path = write(tmp_path, issuer, **change)
    with pytest.raises(InvalidInput) as caught:
        load(path)
    assert expect in str(caught.value)
