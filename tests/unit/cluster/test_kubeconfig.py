"""What a kubeconfig's current context (or a chosen one) connects with.

Credentials are checked where they matter: a TLS handshake with a server that asks for a
client certificate signed by its own authority, over a socket pair, shows which certificate
authority the client trusts and which certificate it presents.
"""

from __future__ import annotations

import base64
import datetime
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hakobu.cluster.kubeconfig import Connection, default_kubeconfig_path, load
from hakobu.errors import InvalidInput

SERVER_NAME = "kube.test"


@dataclass(frozen=True)
class Issued:
    key: bytes
    cert: bytes


@dataclass(frozen=True)
class Pki:
    ca: Issued
    server: Issued
    alice: Issued
    # A second authority, and a client certificate it signed, that the server does not trust.
    other_ca: Issued
    mallory: Issued


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _issue(
    name: str, issuer: tuple[ec.EllipticCurvePrivateKey, x509.Name] | None, *, server: bool = False
) -> tuple[ec.EllipticCurvePrivateKey, x509.Name, Issued]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    signer, issuer_name = issuer if issuer is not None else (key, subject)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False
        )
    cert = builder.sign(signer, hashes.SHA256())
    return key, subject, Issued(_pem_key(key), cert.public_bytes(serialization.Encoding.PEM))


@pytest.fixture(scope="module")
def pki() -> Pki:
    ca_key, ca_name, ca = _issue("kube-ca", None)
    _, _, server = _issue(SERVER_NAME, (ca_key, ca_name), server=True)
    _, _, alice = _issue("alice", (ca_key, ca_name))
    other_key, other_name, other_ca = _issue("other-ca", None)
    _, _, mallory = _issue("mallory", (other_key, other_name))
    return Pki(ca, server, alice, other_ca, mallory)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def handshake(
    pki: Pki,
    connection: Connection,
    *,
    server: Issued | None = None,
    server_hostname: str = SERVER_NAME,
) -> str | None:
    """Connect to a server that presents ``server`` (default: one signed by the kube CA) and
    asks for a client certificate of the kube CA. The common name of the client certificate
    it accepted ("" when the client presented none), or None when either side refused."""
    client_context = connection.ssl_context
    assert isinstance(client_context, ssl.SSLContext)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as directory:
        cert, key = Path(directory) / "server.crt", Path(directory) / "server.key"
        cert.write_bytes((server or pki.server).cert)
        key.write_bytes((server or pki.server).key)
        server_context.load_cert_chain(cert, key)
    server_context.verify_mode = ssl.CERT_OPTIONAL
    server_context.load_verify_locations(cadata=pki.ca.cert.decode())
    near, far = socket.socketpair()
    near.settimeout(10)
    far.settimeout(10)
    peer: list[str] = []

    def serve() -> None:
        try:
            with server_context.wrap_socket(far, server_side=True) as tls:
                certificate: Any = tls.getpeercert()
                subject = dict(item[0] for item in certificate["subject"]) if certificate else {}
                peer.append(subject.get("commonName", ""))
                tls.sendall(b"ok")
        except OSError:
            far.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client_context.wrap_socket(near, server_hostname=server_hostname) as tls:
            answer = tls.recv(2)
    except OSError:
        near.close()
        return None
    finally:
        thread.join(10)
    return peer[0] if answer == b"ok" and peer else None


def write(path: Path, config: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def kubeconfig(cluster: dict[str, Any], user: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "main",
        "contexts": [{"name": "main", "context": {"cluster": "k", "user": "u"}}],
        "clusters": [{"name": "k", "cluster": cluster}],
        "users": [{"name": "u", "user": user}],
        **extra,
    }


def test_the_current_context_names_the_cluster_and_user(tmp_path: Path) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "staging",
        "contexts": [
            {"name": "production", "context": {"cluster": "east", "user": "deployer"}},
            {"name": "staging", "context": {"cluster": "west", "user": "reader"}},
        ],
        "clusters": [
            {"name": "east", "cluster": {"server": "http://east.test:8080"}},
            {"name": "west", "cluster": {"server": "http://west.test:8080/"}},
        ],
        "users": [
            {"name": "deployer", "user": {"token": "deployer-token"}},
            {"name": "reader", "user": {"token": "reader-token"}},
        ],
    }
    path = write(tmp_path / "config", config)

    current = load(path)
    assert (current.context_name, current.server, current.token) == (
        "staging",
        "http://west.test:8080",
        "reader-token",
    )
    # Plain HTTP: no TLS at all.
    assert current.ssl_context is False

    chosen = load(path, "production")
    assert (chosen.context_name, chosen.server, chosen.token) == (
        "production",
        "http://east.test:8080",
        "deployer-token",
    )


def test_a_chosen_context_needs_no_current_one(tmp_path: Path) -> None:
    config = kubeconfig({"server": "http://k.test"}, {"token": "t"})
    del config["current-context"]
    path = write(tmp_path / "config", config)
    with pytest.raises(InvalidInput, match="current-context: no current context is set"):
        load(path)
    assert load(path, "main").token == "t"


def test_token_inline_from_a_file_or_none(tmp_path: Path) -> None:
    path = tmp_path / "config"
    write(path, kubeconfig({"server": "http://k.test"}, {}))
    assert load(path).token is None

    write(path, kubeconfig({"server": "http://k.test"}, {"token": ""}))
    assert load(path).token is None

    (tmp_path / "token").write_text("from-the-file\n")
    write(path, kubeconfig({"server": "http://k.test"}, {"tokenFile": "token"}))
    assert load(path).token == "from-the-file"

    # The inline token wins over the file, as in kubectl.
    write(path, kubeconfig({"server": "http://k.test"}, {"token": "inline", "tokenFile": "token"}))
    assert load(path).token == "inline"


def test_files_are_found_beside_the_kubeconfig_not_the_working_directory(
    tmp_path: Path, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home" / ".kube"
    (home / "creds").mkdir(parents=True)
    (home / "creds" / "token").write_text("relative-token")
    (home / "creds" / "ca.crt").write_bytes(pki.ca.cert)
    (home / "creds" / "alice.crt").write_bytes(pki.alice.cert)
    (home / "creds" / "alice.key").write_bytes(pki.alice.key)
    # Decoys where a lookup relative to the working directory would find them.
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "creds").mkdir(parents=True)
    (elsewhere / "creds" / "token").write_text("wrong-token")
    monkeypatch.chdir(elsewhere)
    path = write(
        home / "config",
        kubeconfig(
            {"server": f"https://{SERVER_NAME}:6443", "certificate-authority": "creds/ca.crt"},
            {
                "tokenFile": "creds/token",
                "client-certificate": "creds/alice.crt",
                "client-key": "creds/alice.key",
            },
        ),
    )
    connection = load(path)
    assert connection.token == "relative-token"
    assert handshake(pki, connection) == "alice"


def test_absolute_file_paths_are_used_as_they_are(tmp_path: Path, pki: Pki) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "token").write_text("absolute-token")
    (creds / "ca.crt").write_bytes(pki.ca.cert)
    path = write(
        tmp_path / "kube" / "config",
        kubeconfig(
            {"server": f"https://{SERVER_NAME}", "certificate-authority": str(creds / "ca.crt")},
            {"tokenFile": str(creds / "token")},
        ),
    )
    connection = load(path)
    assert connection.token == "absolute-token"
    context = connection.ssl_context
    assert isinstance(context, ssl.SSLContext)
    # The named authority alone: not the system's trust store besides.
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "kube-ca"),),)]


def test_client_certificate_and_authority_as_data(tmp_path: Path, pki: Pki) -> None:
    path = write(
        tmp_path / "config",
        kubeconfig(
            {"server": f"https://{SERVER_NAME}", "certificate-authority-data": b64(pki.ca.cert)},
            {"client-certificate-data": b64(pki.alice.cert), "client-key-data": b64(pki.alice.key)},
        ),
    )
    connection = load(path)
    assert connection.token is None
    assert handshake(pki, connection) == "alice"


def test_data_wins_over_a_file_of_the_same_field(tmp_path: Path, pki: Pki) -> None:
    # kubectl reads *-data first; the file named beside it is not even opened.
    path = write(
        tmp_path / "config",
        kubeconfig(
            {
                "server": f"https://{SERVER_NAME}",
                "certificate-authority-data": b64(pki.ca.cert),
                "certificate-authority": "missing-ca.crt",
            },
            {
                "client-certificate-data": b64(pki.alice.cert),
                "client-certificate": "missing.crt",
                "client-key-data": b64(pki.alice.key),
                "client-key": "missing.key",
            },
        ),
    )
    assert handshake(pki, load(path)) == "alice"


def test_the_named_authority_is_the_one_trusted(tmp_path: Path, pki: Pki) -> None:
    path = write(
        tmp_path / "config",
        kubeconfig(
            {
                "server": f"https://{SERVER_NAME}",
                "certificate-authority-data": b64(pki.other_ca.cert),
            },
            {"client-certificate-data": b64(pki.alice.cert), "client-key-data": b64(pki.alice.key)},
        ),
    )
    # The server's certificate is signed by the kube CA, which this kubeconfig does not name.
    assert handshake(pki, load(path)) is None


def test_without_an_authority_the_system_trust_store_is_used(tmp_path: Path, pki: Pki) -> None:
    path = write(tmp_path / "config", kubeconfig({"server": f"https://{SERVER_NAME}"}, {}))
    context = load(path).ssl_context
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert handshake(pki, load(path)) is None


def test_insecure_skip_tls_verify_accepts_any_server(tmp_path: Path, pki: Pki) -> None:
    path = write(
        tmp_path / "config",
        kubeconfig(
            {
                "server": f"https://{SERVER_NAME}",
                "insecure-skip-tls-verify": True,
                # Ignored when verification is off, as kubectl ignores it then.
                "certificate-authority": "missing-ca.crt",
            },
            {"client-certificate-data": b64(pki.alice.cert), "client-key-data": b64(pki.alice.key)},
        ),
    )
    connection = load(path)
    # A server whose certificate no authority of the client vouches for.
    _, _, stranger = _issue(SERVER_NAME, None, server=True)
    assert handshake(pki, connection, server=stranger) == "alice"

    write(
        path,
        kubeconfig(
            {
                "server": f"https://{SERVER_NAME}",
                "insecure-skip-tls-verify": False,
                "certificate-authority-data": b64(pki.ca.cert),
            },
            {},
        ),
    )
    assert handshake(pki, load(path), server=stranger) is None


def test_a_client_certificate_without_its_key_is_refused(tmp_path: Path, pki: Pki) -> None:
    # Connecting without the certificate would be connecting as someone else (anonymous).
    path = write(
        tmp_path / "config",
        kubeconfig(
            {"server": f"https://{SERVER_NAME}", "certificate-authority-data": b64(pki.ca.cert)},
            {"client-certificate-data": b64(pki.alice.cert)},
        ),
    )
    with pytest.raises(InvalidInput, match=r"client-certificate-data: user 'u': client-cert"):
        load(path)


def test_a_certificate_of_another_authority_is_refused_by_the_server(
    tmp_path: Path, pki: Pki
) -> None:
    path = write(
        tmp_path / "config",
        kubeconfig(
            {"server": f"https://{SERVER_NAME}", "certificate-authority-data": b64(pki.ca.cert)},
            {
                "client-certificate-data": b64(pki.mallory.cert),
                "client-key-data": b64(pki.mallory.key),
            },
        ),
    )
    assert handshake(pki, load(path)) is None


def test_a_context_without_a_user_is_refused_by_name(tmp_path: Path) -> None:
    config = kubeconfig({"server": "http://k.test"}, {})
    del config["contexts"][0]["context"]["user"]
    path = write(tmp_path / "config", config)
    with pytest.raises(InvalidInput, match="users: no entry is named: the context does not say"):
        load(path)


def test_the_first_file_of_kubeconfig_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write(tmp_path / "a" / "config", kubeconfig({"server": "http://first.test"}, {}))
    second = write(tmp_path / "b" / "config", kubeconfig({"server": "http://second.test"}, {}))
    monkeypatch.setenv("KUBECONFIG", f"{first}:{second}")
    assert default_kubeconfig_path() == first
    assert load().server == "http://first.test"


def test_without_kubeconfig_the_home_directory_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / ".kube" / "config", kubeconfig({"server": "http://home.test"}, {}))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KUBECONFIG", "")
    assert default_kubeconfig_path() == tmp_path / ".kube" / "config"
    assert load().server == "http://home.test"
