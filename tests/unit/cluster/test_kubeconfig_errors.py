"""A kubeconfig's errors name the file, line and field, and never quote a credential."""

from __future__ import annotations

import base64
import datetime
import os
import ssl
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from hakobu.cluster.kubeconfig import load
from hakobu.errors import InvalidInput

MARKER = "tok3n-M4RKER-value"


def certificate(name: str) -> tuple[bytes, bytes]:
    """``(key PEM, self-signed certificate PEM)``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki() -> tuple[bytes, bytes]:
    return certificate("client")


def b64(data: bytes | str) -> str:
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def config(cluster: dict[str, object], user: dict[str, object]) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "c",
            "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
            "clusters": [{"name": "k", "cluster": cluster}],
            "users": [{"name": "u", "user": user}],
        },
        sort_keys=False,
    )


def refused(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "kubeconfig"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(InvalidInput) as caught:
        load(path)
    message = str(caught.value)
    assert MARKER not in message
    assert "kubeconfig" in message
    return message


def test_the_data_and_file_forms_load(tmp_path: Path, pki: tuple[bytes, bytes]) -> None:
    key, cert = pki
    (tmp_path / "ca.crt").write_bytes(cert)
    (tmp_path / "client.crt").write_bytes(cert)
    (tmp_path / "client.key").write_bytes(key)
    (tmp_path / "token").write_text(f"{MARKER}\n")
    path = tmp_path / "kubeconfig"
    path.write_text(
        config(
            {"server": "https://127.0.0.1:6443/", "certificate-authority": "ca.crt"},
            {"client-certificate": "client.crt", "client-key": "client.key", "tokenFile": "token"},
        )
    )
    loaded = load(path)
    assert loaded.server == "https://127.0.0.1:6443"
    assert loaded.token == MARKER
    assert isinstance(loaded.ssl_context, ssl.SSLContext)
    assert loaded.ssl_context.verify_mode == ssl.CERT_REQUIRED

    path.write_text(
        config(
            {"server": "https://k:6443", "certificate-authority-data": b64(cert)},
            {"client-certificate-data": b64(cert), "client-key-data": b64(key), "token": "t"},
        )
    )
    assert load(path).token == "t"
    path.write_text(config({"server": "https://k", "insecure-skip-tls-verify": True}, {}))
    insecure = load(path).ssl_context
    assert isinstance(insecure, ssl.SSLContext)
    assert insecure.verify_mode == ssl.CERT_NONE


def test_broken_yaml_on_a_token_line_is_not_quoted(tmp_path: Path) -> None:
    text = config({"server": "https://k"}, {"token": "x"}).replace(
        "token: x", f"token: {MARKER}: {MARKER} ["
    )
    message = refused(tmp_path, text)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if MARKER in s)
    assert f"kubeconfig:{line}: not valid YAML: mapping values are not allowed" in message


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (f"token: !!int {MARKER}\n", "no current context"),
        (f"users: {MARKER}\n", "no current context"),
        (f"current-context: c\ncontexts: {{{MARKER}: 1}}\n", "contexts: expected a list"),
        (f"[{MARKER}]\n", "expected a mapping"),
        (f"key: \0{MARKER}\n", "not valid YAML"),
        (b"token: \xff" + MARKER.encode(), "not UTF-8"),
        ("", "the file is empty"),
    ],
    ids=["tag", "scalar-section", "mapping-section", "list", "nul", "not-utf8", "empty"],
)
def test_malformed_files(tmp_path: Path, text: str | bytes, expect: str) -> None:
    assert expect in refused(tmp_path, text)


@pytest.mark.parametrize(
    ("cluster", "user", "expect"),
    [
        ({"server": "https://k"}, {"token": {"value": MARKER}}, "users[0].user.token: expected a"),
        ({"server": "https://k"}, {"token": [MARKER]}, "users[0].user.token: expected a single"),
        ({"server": "https://k"}, {"token": f"{MARKER}\r\nX-Evil: 1"}, "user.token: the token"),
        ({"server": "https://k"}, {"token": f"{MARKER} é"}, "user.token: the token holds"),
        (
            {"server": "https://k"},
            {"client-certificate-data": b64(MARKER), "client-key-data": f"!{MARKER}!"},
            "user.client-key-data: not valid base64",
        ),
        (
            {"server": "https://k", "certificate-authority-data": b64(f"{MARKER}\n")},
            {},
            "cluster.certificate-authority-data: expected PEM certificates",
        ),
        ({"server": "https://k", "insecure-skip-tls-verify": MARKER}, {}, "expected true or"),
        ({"server": {"url": MARKER}}, {}, "clusters[0].cluster.server: expected a single"),
        ({}, {}, "clusters[0].cluster.server: the cluster of context 'c' has no server"),
    ],
    ids=[
        "token-mapping",
        "token-list",
        "token-header-injection",
        "token-non-ascii",
        "key-not-base64",
        "ca-not-pem",
        "flag-not-boolean",
        "server-mapping",
        "no-server",
    ],
)
def test_bad_fields(
    tmp_path: Path, cluster: dict[str, object], user: dict[str, object], expect: str
) -> None:
    assert expect in refused(tmp_path, config(cluster, user))


def test_a_client_key_that_is_not_a_key(tmp_path: Path, pki: tuple[bytes, bytes]) -> None:
    _, cert = pki
    fake_key = f"-----BEGIN RSA PRIVATE KEY-----\n{b64(MARKER)}\n-----END RSA PRIVATE KEY-----\n"
    message = refused(
        tmp_path,
        config(
            {"server": "https://k"},
            {"client-certificate-data": b64(cert), "client-key-data": b64(fake_key)},
        ),
    )
    assert "users[0].user.client-key-data: the client certificate and key cannot be" in message


def test_names_that_match_nothing(tmp_path: Path) -> None:
    text = config({"server": "https://k"}, {}).replace("cluster: k", "cluster: other")
    assert "clusters: no entry named 'other'" in refused(tmp_path, text)
    with pytest.raises(InvalidInput, match="contexts: no entry named 'nope'"):
        load(tmp_path / "kubeconfig", "nope")


@pytest.mark.parametrize("field", ["tokenFile", "client-key", "certificate-authority"])
@pytest.mark.parametrize("target", ["fifo", "zero", "missing", "large", "directory"])
def test_files_it_names_are_read_bounded(
    tmp_path: Path, pki: tuple[bytes, bytes], field: str, target: str
) -> None:
    _, cert = pki
    (tmp_path / "client.crt").write_bytes(cert)
    named = tmp_path / "named"
    if target == "fifo":
        os.mkfifo(named)
    elif target == "zero":
        named.symlink_to("/dev/zero")
    elif target == "large":
        with named.open("wb") as handle:
            handle.truncate(9 << 20)
    elif target == "directory":
        named.mkdir()
    user: dict[str, object] = {"client-certificate": "client.crt", "client-key": "named"}
    cluster: dict[str, object] = {"server": "https://k"}
    if field == "tokenFile":
        user = {"tokenFile": "named"}
    elif field == "certificate-authority":
        cluster["certificate-authority"] = "named"
    message = refused(tmp_path, config(cluster, user))
    assert f".{field}: {named}" in message
    expected = {
        "fifo": "is a FIFO",
        "zero": "is a device",
        "missing": "does not exist",
        "large": "larger than",
        "directory": "is a directory",
    }
    assert expected[target] in message


@pytest.mark.parametrize("target", ["fifo", "zero"])
def test_the_kubeconfig_itself_is_read_bounded(tmp_path: Path, target: str) -> None:
    path = tmp_path / "kubeconfig"
    if target == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    with pytest.raises(InvalidInput, match=f"kubeconfig {path}: is a "):
        load(path)
