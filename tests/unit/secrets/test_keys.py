"""Key pairs like the controller's, and loading keys and certificates with clear errors."""

from __future__ import annotations

import base64
import datetime
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.x509.oid import NameOID

from hakobu.errors import InvalidInput
from hakobu.secrets.keys import (
    generate_key_pair,
    load_certificate,
    load_private_key_files,
    load_private_keys,
)

KeyPair = tuple[bytes, bytes]


@pytest.fixture(scope="module")
def pair() -> KeyPair:
    return generate_key_pair("sealed-secrets", key_size=2048)


def test_controller_shaped_key_pair() -> None:
    now = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    private_pem, certificate_pem = generate_key_pair("hakobu-test", 30, now=now)
    assert private_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    key = serialization.load_pem_private_key(private_pem, password=None)
    assert isinstance(key, RSAPrivateKey)
    assert key.key_size == 4096
    public_key = x509.load_pem_x509_certificate(certificate_pem).public_key()
    assert isinstance(public_key, RSAPublicKey)
    assert public_key.public_numbers() == key.public_key().public_numbers()
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    assert certificate.subject == certificate.issuer
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "hakobu-test"
    )
    assert certificate.not_valid_before_utc == now
    assert certificate.not_valid_after_utc == now + datetime.timedelta(days=30)
    assert 0 < certificate.serial_number < 2**128
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.value.ca
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_encipherment
    assert not usage.digital_signature
    # Self-signed: the certificate verifies under its own key.
    certificate.verify_directly_issued_by(certificate)


def test_an_empty_common_name_gives_an_empty_subject() -> None:
    _, certificate_pem = generate_key_pair("", key_size=2048)
    assert len(x509.load_pem_x509_certificate(certificate_pem).subject) == 0


def test_validity_must_be_positive() -> None:
    with pytest.raises(InvalidInput, match="at least one day"):
        generate_key_pair("x", 0, key_size=2048)


def test_load_certificate(pair: KeyPair) -> None:
    private_pem, certificate_pem = pair
    loaded = load_certificate(b"garbage before\n" + certificate_pem, "cert.pem")
    key = load_private_keys(private_pem, "key.pem")[0]
    assert loaded.public_key.public_numbers() == key.public_key().public_numbers()


def test_an_expired_certificate_is_refused(pair: KeyPair) -> None:
    _, certificate_pem = pair
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3651)
    with pytest.raises(InvalidInput, match=r"cert\.pem: the certificate expired on") as raised:
        load_certificate(certificate_pem, "cert.pem", now=later)
    assert raised.value.hint is not None
    assert "current certificate" in raised.value.hint


def test_a_private_key_is_not_a_certificate(pair: KeyPair) -> None:
    private_pem, _ = pair
    with pytest.raises(InvalidInput, match=r"expected a PEM certificate .* found RSA PRIVATE KEY"):
        load_certificate(private_pem, "cert.pem")
    with pytest.raises(InvalidInput, match="found no PEM block"):
        load_certificate(b"hello", "cert.pem")


def test_a_damaged_certificate(pair: KeyPair) -> None:
    _, certificate_pem = pair
    lines = certificate_pem.splitlines()
    damaged = b"\n".join([lines[0], b"AAAA" + lines[1][4:], *lines[2:]]) + b"\n"
    with pytest.raises(InvalidInput, match="the certificate cannot be read"):
        load_certificate(damaged, "cert.pem")


def test_a_certificate_of_an_ec_key_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    with pytest.raises(
        InvalidInput, match="holds an elliptic-curve key; Sealed Secrets seals only"
    ):
        load_certificate(pem, "cert.pem")


def test_private_keys_from_pem_in_both_encodings(pair: KeyPair) -> None:
    private_pem, _ = pair
    key = load_private_keys(private_pem, "key.pem")[0]
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    keys = load_private_keys(private_pem + pkcs8, "keys.pem")
    assert [k.private_numbers() for k in keys] == [key.private_numbers()] * 2


def test_private_keys_from_a_backup_of_key_secrets(pair: KeyPair) -> None:
    private_pem, certificate_pem = pair
    other_pem, _ = generate_key_pair("other", key_size=2048)

    def key_secret(pem: bytes) -> dict[str, object]:
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": {"name": "sealed-secrets-key", "namespace": "kube-system"},
            "data": {
                "tls.key": base64.b64encode(pem).decode(),
                "tls.crt": base64.b64encode(certificate_pem).decode(),
            },
        }

    one = yaml.safe_dump(key_secret(private_pem)).encode()
    assert len(load_private_keys(one, "backup.yaml")) == 1
    backup = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [key_secret(private_pem), key_secret(other_pem)],
    }
    keys = load_private_keys(yaml.safe_dump(backup).encode(), "backup.yaml")
    assert [k.private_numbers() for k in keys] == [
        load_private_keys(pem, "k")[0].private_numbers() for pem in (private_pem, other_pem)
    ]


def test_an_ec_private_key_is_refused() -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    with pytest.raises(
        InvalidInput, match="expected an RSA private key, found an elliptic-curve key"
    ):
        load_private_keys(pem, "key.pem")


def test_an_encrypted_private_key_needs_decrypting_first(pair: KeyPair) -> None:
    private_pem, _ = pair
    key = load_private_keys(private_pem, "key.pem")[0]
    locked = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    with pytest.raises(InvalidInput, match="protected by a passphrase"):
        load_private_keys(locked, "key.pem")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"certificate", "CERTIFICATE"),
        (b"", "the file is empty"),
        (b"\xff\xfe\x00", "binary data"),
        (b"kind: ConfigMap\nmetadata: {name: x}\n", "expected a PEM private key or the controller"),
        (b"kind: Secret\nmetadata: {name: x}\ndata: {}\n", "the Secret has no data.tls.key"),
        (b"kind: Secret\ndata: {tls.key: '!!'}\n", "data.tls.key is not valid base64"),
        (b"kind: List\nitems: 3\n", "expected a list of Secrets"),
        (b"a: [\n", "invalid YAML"),
    ],
)
def test_what_is_not_a_private_key(
    pair: KeyPair, content: bytes, message: str, tmp_path: Path
) -> None:
    if content == b"certificate":
        content = pair[1]
    path = tmp_path / "key.pem"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message) as raised:
        load_private_key_files([path])
    assert str(path) in str(raised.value)


def test_a_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read the key file"):
        load_private_key_files([tmp_path / "absent.pem"])
