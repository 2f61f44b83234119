"""Following a remote that asks for credentials, over git's real HTTP protocol."""

from __future__ import annotations

import http.server
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

from hakobu.agent.checkout import Checkout
from hakobu.errors import OperationFailed
from hakobu.repo.clone import GitCredentials
from tests.gitserver import serve

TOKEN = "glpat-not-a-real-token"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def served(tmp_path: Path) -> tuple[Path, Path]:
    bare = tmp_path / "srv" / "shop.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    git(work, "config", "user.email", "ci@example.com")
    git(work, "config", "user.name", "CI")
    (work / "hakobu.yaml").write_text("name: shop\n")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "one")
    git(work, "push", "-q", str(bare), "main")
    return bare, work


def test_a_token_is_offered_when_asked_and_an_unchanged_branch_is_not_fetched(
    served: tuple[Path, Path], tmp_path: Path
) -> None:
    bare, work = served
    with serve(bare.parent, "git", TOKEN) as (url, requests):
        checkout = Checkout(
            f"{url}/shop.git", "main", tmp_path / "clone", GitCredentials("git", TOKEN)
        )
        first = checkout.fetch()
        assert first == git(work, "rev-parse", "HEAD")
        assert any("auth=True" in r for r in requests)
        requests.clear()
        assert checkout.fetch() == first
        assert checkout.unchanged
        # Only the list of branches was asked for: no upload-pack POST (no fetch).
        assert not any(r.startswith("POST") for r in requests), requests
        (work / "hakobu.yaml").write_text("name: shop2\n")
        git(work, "commit", "-qam", "two")
        git(work, "push", "-q", str(bare), "main")
        assert checkout.fetch() == git(work, "rev-parse", "HEAD")
        assert not checkout.unchanged
        assert (checkout.directory / "hakobu.yaml").read_text() == "name: shop2\n"


@pytest.mark.parametrize("credentials", [None, GitCredentials("git", "wrong")])
def test_missing_or_wrong_credentials_fail_clearly_without_the_secret(
    served: tuple[Path, Path], tmp_path: Path, credentials: GitCredentials | None
) -> None:
    bare, _ = served
    with serve(bare.parent, "git", TOKEN) as (url, _):
        checkout = Checkout(f"{url}/shop.git", "main", tmp_path / "clone", credentials)
        with pytest.raises(OperationFailed) as failed:
            checkout.fetch()
    message = str(failed.value)
    assert "credentials" in message
    assert TOKEN not in message and "wrong" not in message


def test_a_server_certificate_no_authority_vouches_for_is_refused(
    tmp_path: Path, key_pair: tuple[Path, Path]
) -> None:
    key, certificate = key_pair
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{server.server_port}/shop.git"
        checkout = Checkout(url, "main", tmp_path / "clone", GitCredentials("git", TOKEN))
        with pytest.raises(OperationFailed) as failed:
            checkout.fetch()
    finally:
        server.shutdown()
        server.server_close()
    assert str(failed.value.message) == f"the TLS certificate of {url} could not be verified"
