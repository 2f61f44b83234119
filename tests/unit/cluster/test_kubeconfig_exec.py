"""Exec credential plugins, run for a local HTTP server that accepts one bearer token: what
the plugin is given, when it runs again, and how its failures read. The same is proved
against the real API server in tests/integration/test_kubeconfig_auth.py."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.cluster import execcredential
from hakobu.cluster.client import KubeClient
from hakobu.cluster.credentials import CredentialsFailed
from hakobu.cluster.errors import Unauthorized
from hakobu.cluster.kubeconfig import load
from hakobu.errors import InvalidInput

Handler = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, Any]]]


class LocalServer:
    """An HTTP server on loopback answering every request with ``handler``; it records
    each request's line and headers."""

    def __init__(self, handler: Handler) -> None:
        seen: list[tuple[str, dict[str, str]]] = []
        # Every header as sent, repeated ones included.
        headers_sent: list[list[tuple[str, str]]] = []
        self.seen, self.headers_sent = seen, headers_sent

        class _Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.body = self.rfile.read(length) if length else b""
                seen.append((self.requestline, dict(self.headers.items())))
                headers_sent.append(list(self.headers.items()))
                status, body = handler(self)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def bearer_only(token: str) -> Handler:
    def handle(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, Any]]:
        if request.headers.get("Authorization") == f"Bearer {token}":
            return 200, {"ok": True}
        return 401, {"kind": "Status", "code": 401, "reason": "Unauthorized", "message": "no"}

    return handle


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer(bearer_only("good-token"))
    yield local
    local.close()


PLUGIN = """\
import json, os, pathlib, sys
runs = pathlib.Path(sys.argv[1])
count = int(runs.read_text()) + 1 if runs.exists() else 1
runs.write_text(str(count))
pathlib.Path(str(runs) + ".info").write_text(os.environ["KUBERNETES_EXEC_INFO"])
pathlib.Path(str(runs) + ".args").write_text(json.dumps(sys.argv[2:]))
answers = json.loads(os.environ["ANSWERS"])
answer = answers[min(count, len(answers)) - 1]
if "stderr" in answer:
    sys.stderr.write(answer["stderr"])
if "stdout" in answer:
    sys.stdout.write(answer["stdout"])
sys.exit(answer.get("exit", 0))
"""


def credential(api: str = "client.authentication.k8s.io/v1", **status: Any) -> dict[str, Any]:
    return {"stdout": json.dumps({"apiVersion": api, "kind": "ExecCredential", "status": status})}


def write_config(
    tmp_path: Path,
    server: str,
    answers: list[dict[str, Any]],
    *,
    api: str = "client.authentication.k8s.io/v1",
    **exec_extra: Any,
) -> tuple[Path, Path]:
    plugin = tmp_path / "plugin.py"
    plugin.write_text(PLUGIN)
    runs = tmp_path / "runs"
    exec_config = {
        "apiVersion": api,
        "command": sys.executable,
        "args": [str(plugin), str(runs), "--flag", "value"],
        "env": [{"name": "ANSWERS", "value": json.dumps(answers)}],
        "interactiveMode": "IfAvailable",
        **exec_extra,
    }
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "robot"}}],
        "clusters": [
            {
                "name": "k",
                "cluster": {
                    "server": server,
                    "extensions": [
                        {
                            "name": "client.authentication.k8s.io/exec",
                            "extension": {"audience": "hakobu-tests"},
                        }
                    ],
                },
            }
        ],
        "users": [{"name": "robot", "user": {"exec": exec_config}}],
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path, runs


def count(runs: Path) -> int:
    return int(runs.read_text()) if runs.exists() else 0


def test_the_plugin_gets_args_env_and_the_request(server: LocalServer, tmp_path: Path) -> None:
    path, runs = write_config(
        tmp_path, server.url, [credential(token="good-token")], provideClusterInfo=True
    )
    with KubeClient(load(path)) as client:
        assert client.request("GET", "/anything") == {"ok": True}
    assert json.loads(Path(f"{runs}.args").read_text()) == ["--flag", "value"]
    info = json.loads(Path(f"{runs}.info").read_text())
    assert info == {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "spec": {
            # Under pytest standard input is not a terminal.
            "interactive": False,
            "cluster": {"server": server.url, "config": {"audience": "hakobu-tests"}},
        },
    }


def test_cluster_info_only_when_asked(server: LocalServer, tmp_path: Path) -> None:
    path, runs = write_config(
        tmp_path,
        server.url,
        [credential("client.authentication.k8s.io/v1beta1", token="good-token")],
        api="client.authentication.k8s.io/v1beta1",
    )
    with KubeClient(load(path)) as client:
        client.request("GET", "/")
    info = json.loads(Path(f"{runs}.info").read_text())
    assert info["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert "cluster" not in info["spec"]


def test_runs_once_while_valid_again_when_expired(server: LocalServer, tmp_path: Path) -> None:
    path, runs = write_config(
        tmp_path,
        server.url,
        [
            credential(token="good-token", expirationTimestamp="2000-01-01T00:00:00Z"),
            credential(token="good-token", expirationTimestamp="2999-01-01T00:00:00Z"),
        ],
    )
    with KubeClient(load(path)) as client:
        client.request("GET", "/")
        assert count(runs) == 1
        # The first credential had expired already: asked again before the next request.
        client.request("GET", "/")
        assert count(runs) == 2
        for _ in range(3):
            client.request("GET", "/")
        assert count(runs) == 2


def test_a_401_asks_once_more(server: LocalServer, tmp_path: Path) -> None:
    path, runs = write_config(
        tmp_path,
        server.url,
        [credential(token="revoked"), credential(token="good-token")],
    )
    with KubeClient(load(path)) as client:
        assert client.request("GET", "/") == {"ok": True}
    assert count(runs) == 2
    assert [auth for _, headers in server.seen if (auth := headers.get("Authorization"))] == [
        "Bearer revoked",
        "Bearer good-token",
    ]


def test_a_credential_refused_twice_is_unauthorized(server: LocalServer, tmp_path: Path) -> None:
    path, runs = write_config(tmp_path, server.url, [credential(token="revoked")])
    with KubeClient(load(path)) as client, pytest.raises(Unauthorized):
        client.request("GET", "/")
    assert count(runs) == 2


@pytest.mark.parametrize(
    ("answer", "expect"),
    [
        (
            {"stderr": "error: login expired, run `sso login`\n", "exit": 2},
            "failed with exit status 2:\nerror: login expired, run `sso login`",
        ),
        ({"exit": 1}, "failed with exit status 1 and wrote nothing to stderr"),
        ({"stdout": "secret-token-not-json"}, "printed no JSON ExecCredential"),
        (
            credential("client.authentication.k8s.io/v1beta1", token="secret-token-x"),
            "answered with apiVersion 'client.authentication.k8s.io/v1beta1', not",
        ),
        (credential(), "status holds neither a token nor clientCertificateData"),
        (
            credential(clientCertificateData="secret-token-x"),
            "one of clientCertificateData and clientKeyData without the other",
        ),
        (
            credential(token="secret-token-x", expirationTimestamp="soon"),
            "expirationTimestamp is not an RFC 3339 time",
        ),
        (credential(token="secret-token x\r\n"), "status.token is not a string a bearer"),
    ],
    ids=["stderr", "silent", "not-json", "version", "empty", "half-cert", "expiry", "token"],
)
def test_plugin_failures_say_why(
    server: LocalServer, tmp_path: Path, answer: dict[str, Any], expect: str
) -> None:
    path, _ = write_config(tmp_path, server.url, [answer])
    with KubeClient(load(path)) as client, pytest.raises(CredentialsFailed) as caught:
        client.request("GET", "/")
    message = str(caught.value)
    assert message.startswith(f"the exec plugin of user 'robot' ({sys.executable})")
    assert expect in message
    assert "secret-token" not in message


def test_a_missing_command_shows_the_install_hint(server: LocalServer, tmp_path: Path) -> None:
    path, _ = write_config(
        tmp_path,
        server.url,
        [],
        command="hakobu-no-such-plugin",
        installHint="install it with: brew install no-such-plugin",
    )
    with KubeClient(load(path)) as client, pytest.raises(CredentialsFailed) as caught:
        client.request("GET", "/")
    assert "hakobu-no-such-plugin): the command was not found" in str(caught.value)
    assert "hint: install it with: brew install no-such-plugin" in str(caught.value)


def test_a_relative_command_is_found_beside_the_kubeconfig(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bin").mkdir()
    script = tmp_path / "bin" / "plugin"
    answer = json.loads(credential(token="good-token")["stdout"])
    script.write_text(f"#!{sys.executable}\nprint({json.dumps(json.dumps(answer))})\n")
    script.chmod(0o755)
    path, _ = write_config(tmp_path, server.url, [], command="./bin/plugin", args=[])
    monkeypatch.chdir("/")
    with KubeClient(load(path)) as client:
        assert client.request("GET", "/") == {"ok": True}


def test_an_interactive_plugin_is_refused_where_nobody_answers(
    server: LocalServer, tmp_path: Path
) -> None:
    path, runs = write_config(tmp_path, server.url, [], interactiveMode="Always")
    with pytest.raises(InvalidInput, match="hakobu runs unattended here") as unattended:
        load(path, interactive=False)
    assert "users[0].user.exec.interactiveMode: user 'robot': the exec plugin needs" in str(
        unattended.value
    )
    # Under pytest standard input is not a terminal.
    with pytest.raises(InvalidInput, match="standard input is not a terminal"):
        load(path)
    assert count(runs) == 0


@pytest.mark.parametrize(
    ("mode", "interactive"), [("IfAvailable", True), ("Always", True), ("Never", False)]
)
def test_with_a_terminal_the_plugin_may_ask(
    server: LocalServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    interactive: bool,
) -> None:
    monkeypatch.setattr(execcredential, "stdin_is_terminal", lambda: True)
    path, runs = write_config(
        tmp_path, server.url, [credential(token="good-token")], interactiveMode=mode
    )
    with KubeClient(load(path)) as client:
        client.request("GET", "/")
    assert json.loads(Path(f"{runs}.info").read_text())["spec"]["interactive"] is interactive
    # The controller says nobody answers, terminal or not.
    if mode == "Always":
        with pytest.raises(InvalidInput, match="hakobu runs unattended here"):
            load(path, interactive=False)
    else:
        with KubeClient(load(path, interactive=False)) as client:
            client.request("GET", "/")
        assert json.loads(Path(f"{runs}.info").read_text())["spec"]["interactive"] is False
