"""Git over SSH against a real OpenSSH sshd: the host key is checked against the
credentials' known_hosts before any key is offered, and messages hold no secret."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.repo.clone import fetch_branch, open_clone, push_branch, remote_tip
from hakobu.repo.ssh import (
    SshCredentials,
    SshEndpoint,
    check_identity,
    check_known_hosts,
    ssh_endpoint,
)
from tests.sshserver import KeyPair, SshServer, keypair, serve

ORIGIN = "Secret shop/shop-git"
PASSPHRASE = "correct horse battery"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyPair]:
    directory = tmp_path_factory.mktemp("keys")
    return {
        "ed25519": keypair(directory, "ed25519"),
        "encrypted": keypair(directory, "encrypted", passphrase=PASSPHRASE),
        "rsa-pem": keypair(directory, "rsa", kind="rsa"),
        "stranger": keypair(directory, "stranger"),
    }


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, keys: dict[str, KeyPair]
) -> Iterator[SshServer]:
    authorized = [keys[name].public for name in ("ed25519", "encrypted", "rsa-pem")]
    with serve(tmp_path_factory.mktemp("sshd"), authorized) as running:
        yield running


@pytest.fixture
def bare(tmp_path: Path) -> Path:
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
    return bare


def credentials(
    key: KeyPair, known_hosts: str, *, password: str = "", with_public: bool = False
) -> SshCredentials:
    public = key.public if with_public else None
    return SshCredentials(key.private, known_hosts, ORIGIN, public, password)


def assert_no_secret(message: str, key: KeyPair, *more: str) -> None:
    body = "".join(key.private.strip().splitlines()[1:-1])
    for secret in (key.private, body[:40], body[-40:], *more):
        assert secret not in message


@pytest.mark.parametrize(
    "case",
    [
        ("ed25519", "", False),
        ("encrypted", PASSPHRASE, False),
        ("rsa-pem", "", False),
        ("ed25519", "", True),
    ],
    ids=["openssh-key", "encrypted-key", "pem-key", "with-public-key"],
)
def test_a_listed_host_and_an_authorized_key_fetch_and_push(
    server: SshServer,
    keys: dict[str, KeyPair],
    bare: Path,
    tmp_path: Path,
    case: tuple[str, str, bool],
) -> None:
    name, password, with_public = case
    given = credentials(keys[name], server.known_hosts, password=password, with_public=with_public)
    url = server.url(bare)
    home = pygit2.settings.homedir
    repo = open_clone(tmp_path / "clone", url)
    tip = git(bare, "rev-parse", "main")
    assert remote_tip(repo, url, "main", given) == tip
    assert fetch_branch(repo, url, "main", given) == tip
    assert (tmp_path / "clone" / "hakobu.yaml").read_text() == "name: shop\n"
    # The home directory libgit2 read known_hosts from was a passing one.
    assert pygit2.settings.homedir == home

    signature = pygit2.Signature("CI", "ci@example.com")
    commit = repo.create_commit(
        None, signature, signature, "two", repo.head.peel(pygit2.Commit).tree.id, [repo.head.target]
    )
    push_branch(repo, url, "main", str(commit), given)
    assert git(bare, "rev-parse", "main") == str(commit)


def test_a_hashed_known_hosts_entry_is_matched(
    server: SshServer, keys: dict[str, KeyPair], bare: Path, tmp_path: Path
) -> None:
    file = tmp_path / "known_hosts"
    file.write_text(server.known_hosts)
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(file)], check=True, capture_output=True)
    hashed = file.read_text()
    assert hashed.startswith("|1|") and server.address not in hashed
    check_known_hosts(hashed, ORIGIN)
    repo = open_clone(tmp_path / "clone", server.url(bare))
    given = credentials(keys["ed25519"], hashed)
    assert remote_tip(repo, server.url(bare), "main", given) == git(bare, "rev-parse", "main")


def test_a_host_key_known_hosts_does_not_list_is_refused_before_any_key_is_offered(
    server: SshServer, keys: dict[str, KeyPair], bare: Path, tmp_path: Path
) -> None:
    impostor = keypair(tmp_path / "other", "impostor").public.split()[:2]
    name = server.known_hosts.split()[0]
    wrong = f"{name} {impostor[0]} {impostor[1]}\n"
    key = keys["ed25519"]
    repo = open_clone(tmp_path / "clone", server.url(bare))
    before = server.log.read_text()
    with pytest.raises(OperationFailed) as failed:
        remote_tip(repo, server.url(bare), "main", credentials(key, wrong))
    message = str(failed.value)
    assert f"the SSH host key of {server.address} port {server.port}" in message
    assert f"is not listed in known_hosts in {ORIGIN}" in message
    assert "ssh-keyscan" in message
    assert_no_secret(message, key)
    # The client gave up at the host key: sshd never saw a public key offered.
    assert "Accepted publickey" not in server.log.read_text()[len(before) :]


def test_an_unknown_host_is_refused(
    server: SshServer, keys: dict[str, KeyPair], bare: Path, tmp_path: Path
) -> None:
    elsewhere = server.known_hosts.replace(server.address, "git.example.com", 1)
    repo = open_clone(tmp_path / "clone", server.url(bare))
    with pytest.raises(OperationFailed, match="is not listed in known_hosts in Secret shop"):
        fetch_branch(repo, server.url(bare), "main", credentials(keys["ed25519"], elsewhere))
    assert repo.head_is_unborn


def test_a_key_the_server_does_not_authorize_is_refused_without_showing_it(
    server: SshServer, keys: dict[str, KeyPair], bare: Path, tmp_path: Path
) -> None:
    key = keys["stranger"]
    repo = open_clone(tmp_path / "clone", server.url(bare))
    with pytest.raises(OperationFailed) as failed:
        fetch_branch(repo, server.url(bare), "main", credentials(key, server.known_hosts))
    message = str(failed.value)
    assert f"refused the key (identity) in {ORIGIN} for user {server.user}" in message
    assert_no_secret(message, key)


def test_an_encrypted_key_with_a_wrong_password_is_named_without_the_password(
    server: SshServer, keys: dict[str, KeyPair], bare: Path, tmp_path: Path
) -> None:
    key = keys["encrypted"]
    repo = open_clone(tmp_path / "clone", server.url(bare))
    given = credentials(key, server.known_hosts, password="not the passphrase")
    with pytest.raises(OperationFailed) as failed:
        remote_tip(repo, server.url(bare), "main", given)
    message = str(failed.value)
    assert f"the private key (identity) in {ORIGIN} could not be used" in message
    assert "password" in str(failed.value.hint)
    assert_no_secret(message, key, "not the passphrase", PASSPHRASE)


def test_an_scp_like_url_reaches_port_22(
    tmp_path: Path, keys: dict[str, KeyPair], bare: Path
) -> None:
    # scp-like URLs have no port: the server listens on 22, on a loopback address of its
    # own so that no other server on the machine is in the way (binding 22 needs root,
    # as the cluster tests do).
    address = "127." + ".".join(str(1 + byte % 254) for byte in os.urandom(3))
    with serve(tmp_path / "sshd", [keys["ed25519"].public], address=address, port=22) as server:
        url = f"{server.user}@{address}:{bare}"
        assert ssh_endpoint(url) == SshEndpoint(server.user, address, 22)
        repo = open_clone(tmp_path / "clone", url)
        given = credentials(keys["ed25519"], server.known_hosts)
        assert fetch_branch(repo, url, "main", given) == git(bare, "rev-parse", "main")


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("ssh://git@git.example.com/shop.git", SshEndpoint("git", "git.example.com", 22)),
        ("ssh://git@git.example.com:2222/shop.git", SshEndpoint("git", "git.example.com", 2222)),
        ("git+ssh://git.example.com/shop", SshEndpoint(None, "git.example.com", 22)),
        ("ssh://git@[::1]:2222/shop", SshEndpoint("git", "::1", 2222)),
        ("git@github.com:acme/shop.git", SshEndpoint("git", "github.com", 22)),
        ("github.com:acme/shop.git", SshEndpoint(None, "github.com", 22)),
        ("https://git.example.com/shop.git", None),
        ("/srv/git/shop.git", None),
        ("./shop:old/x", None),
    ],
)
def test_ssh_endpoints_of_urls(url: str, endpoint: SshEndpoint | None) -> None:
    assert ssh_endpoint(url) == endpoint


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "lists no host key"),
        ("# only a comment\n\n", "lists no host key"),
        ("github.com ssh-ed25519\n", "line 1 is not `HOST KEYTYPE BASE64-KEY`"),
        ("# c\ngithub.com ssh-ed25519 AAAA not base64!\n", None),
        ("# c\ngithub.com ssh-ed25519 AA%A\n", "line 2 is not"),
        ("@revoked github.com ssh-ed25519 AAAA\n", "line 1: markers (@revoked) are not"),
        ("@cert-authority *.example.com ssh-rsa AAAA\n", "markers (@cert-authority)"),
    ],
)
def test_known_hosts_libssh2_would_misread_are_refused_by_line(
    text: str, expected: str | None
) -> None:
    if expected is None:
        check_known_hosts(text, ORIGIN)
        return
    with pytest.raises(InvalidInput) as refused:
        check_known_hosts(text, ORIGIN)
    assert refused.value.message.startswith(f"{ORIGIN}: known_hosts")
    assert expected in refused.value.message


@pytest.mark.parametrize("text", ["", "ssh-ed25519 AAAA me@host", "-----BEGIN PUBLIC KEY-----"])
def test_an_identity_that_is_no_private_key_is_refused_without_quoting_it(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_identity(text, ORIGIN)
    assert refused.value.message == f"{ORIGIN}: identity is not a private key"


def test_private_keys_in_pem_and_openssh_form_are_accepted(keys: dict[str, KeyPair]) -> None:
    for key in keys.values():
        check_identity(key.private, ORIGIN)
