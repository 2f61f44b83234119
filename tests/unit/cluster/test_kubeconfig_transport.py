"""A cluster entry's way to the server: proxy-url, tls-server-name, insecure-skip-tls-verify
and disable-compression."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.cluster.kubeconfig import load
from hakobu.errors import InvalidInput
from tests.unit.cluster.test_kubeconfig import SERVER_NAME, Pki, b64, handshake, pki
from tests.unit.cluster.test_kubeconfig_exec import LocalServer

__all__ = ["pki"]  # the fixture, used by name


def write(tmp_path: Path, cluster: dict[str, Any], name: str = "config") -> Path:
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
        "clusters": [{"name": "k", "cluster": cluster}],
        "users": [{"name": "u", "user": {"token": "t"}}],
    }
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.fixture
def proxy() -> Iterator[LocalServer]:
    def answer(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, Any]]:
        return 200, {"through": "proxy"}

    local = LocalServer(answer)
    yield local
    local.close()


def test_requests_go_through_the_proxy(proxy: LocalServer, tmp_path: Path) -> None:
    path = write(tmp_path, {"server": "http://cluster.invalid:8080", "proxy-url": proxy.url})
    connection = load(path)
    assert connection.proxy == proxy.url
    with KubeClient(connection) as client:
        assert client.request("GET", "/version") == {"through": "proxy"}
    # A proxy is asked for the absolute URL (HTTPS would be a CONNECT tunnel instead).
    line, headers = proxy.seen[-1]
    assert line == "GET http://cluster.invalid:8080/version HTTP/1.1"
    assert headers["Authorization"] == "Bearer t"


@pytest.mark.parametrize(
    ("url", "expect"),
    [
        (
            "socks5://127.0.0.1:1080",
            "expected an http:// or https:// proxy URL, found scheme 'socks5'",
        ),
        ("http://", "expected a proxy URL with a host"),
    ],
)
def test_a_proxy_hakobu_cannot_use_is_refused(tmp_path: Path, url: str, expect: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load(write(tmp_path, {"server": "https://k", "proxy-url": url}))
    assert f"clusters[0].cluster.proxy-url: {expect}" in str(caught.value)


def test_tls_server_name_is_sent_and_checked(tmp_path: Path, pki: Pki) -> None:
    authority = {"certificate-authority-data": b64(pki.ca.cert)}
    # The URL names an address the certificate does not hold; the entry names one it does.
    named = load(
        write(
            tmp_path,
            {"server": "https://127.0.0.1:6443", "tls-server-name": SERVER_NAME, **authority},
        )
    )
    assert handshake(pki, named, server_hostname="127.0.0.1") == ""
    other = load(
        write(
            tmp_path,
            {"server": f"https://{SERVER_NAME}", "tls-server-name": "other.test", **authority},
        )
    )
    assert handshake(pki, other, server_hostname=SERVER_NAME) is None
    plain = load(write(tmp_path, {"server": "https://127.0.0.1:6443", **authority}))
    assert handshake(pki, plain, server_hostname="127.0.0.1") is None


def test_insecure_skip_tls_verify_is_warned_about_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path, {"server": "https://insecure.test:6443", "insecure-skip-tls-verify": True}
    )
    load(path)
    load(path)
    warnings = capsys.readouterr().err.strip().splitlines()
    assert warnings == [
        "warning: the kubeconfig's context 'c' sets insecure-skip-tls-verify: the certificate "
        "of https://insecure.test:6443 is not checked, so anyone on the way can read and "
        "change what hakobu sends"
    ]


def test_disable_compression(proxy: LocalServer, tmp_path: Path) -> None:
    server = proxy  # any local server will do: it is asked directly here
    for disabled, expect in ((True, "identity"), (False, "gzip")):
        path = write(tmp_path, {"server": server.url, "disable-compression": disabled})
        with KubeClient(load(path)) as client:
            client.request("GET", "/")
        assert expect in server.seen[-1][1]["Accept-Encoding"]
