"""Sealing key pairs: generate them as the controller does, load them with clear errors.

The controller's key is RSA 4096 with a self-signed certificate (subject and issuer are the
same common name, ten years by default) and is stored as a ``kubernetes.io/tls`` Secret
whose ``tls.key`` is a PKCS#1 PEM. Sealing needs only the certificate; opening needs the
private keys. Private keys load from PEM files or, as ``kubeseal --recovery-private-key``
accepts, from a backup of the controller's key Secrets (one Secret or a ``List``).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import NameOID

from hakobu.errors import InvalidInput
from hakobu.model.files import FileRefused, read_bytes
from hakobu.model.source import load_documents

DEFAULT_KEY_SIZE = 4096
DEFAULT_VALIDITY_DAYS = 3650
TLS_KEY = "tls.key"
TLS_CERT = "tls.crt"

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----\r?\n?", re.DOTALL)
_PRIVATE_KEY_BLOCKS = {
    b"RSA PRIVATE KEY",
    b"PRIVATE KEY",
    b"ENCRYPTED PRIVATE KEY",
    b"EC PRIVATE KEY",
}


def generate_key_pair(
    common_name: str,
    validity_days: int = DEFAULT_VALIDITY_DAYS,
    *,
    key_size: int = DEFAULT_KEY_SIZE,
    now: datetime.datetime | None = None,
) -> tuple[bytes, bytes]:
    """``(private key PEM, certificate PEM)`` for a new sealing key."""
    if validity_days < 1:
        raise InvalidInput(f"a key must be valid for at least one day, not {validity_days}")
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    not_before = now or datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else [])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        # Like the controller: a random serial below 2**128 (kept positive, as X.509 requires).
        .serial_number(int.from_bytes(os.urandom(16), "big") | 1)
        .not_valid_before(not_before)
        .not_valid_after(not_before + datetime.timedelta(days=validity_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        # The controller asks for encipherOnly alone, which X.509 defines only together
        # with keyAgreement; keyEncipherment names what this key does: wrap session keys.
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return private_pem, certificate.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class SealingCertificate:
    """A certificate to seal with, and its RSA public key."""

    certificate: x509.Certificate
    public_key: RSAPublicKey


def load_certificate(
    data: bytes, source: str, *, now: datetime.datetime | None = None
) -> SealingCertificate:
    """The first certificate of a PEM file; refused when expired, as kubeseal refuses."""
    block = next(
        (m.group(0) for m in _PEM_BLOCK.finditer(data) if m.group(1) == b"CERTIFICATE"), None
    )
    if block is None:
        raise InvalidInput(
            f"{source}: expected a PEM certificate (-----BEGIN CERTIFICATE-----), "
            f"found {_describe_pem(data)}",
            hint="use the controller's certificate (kubeseal --fetch-cert prints it)",
        )
    try:
        certificate = x509.load_pem_x509_certificate(block)
    except ValueError as e:
        raise InvalidInput(f"{source}: the certificate cannot be read ({e})") from None
    public_key = certificate.public_key()
    if not isinstance(public_key, RSAPublicKey):
        raise InvalidInput(
            f"{source}: the certificate holds {_kind_of(public_key)} key; Sealed Secrets "
            "seals only with RSA keys"
        )
    moment = now or datetime.datetime.now(datetime.UTC)
    expired = certificate.not_valid_after_utc
    if moment > expired:
        raise InvalidInput(
            f"{source}: the certificate expired on {expired:%B} {expired.day}, {expired.year}; "
            "the controller may no longer hold its private key",
            hint="fetch the controller's current certificate and seal again",
        )
    return SealingCertificate(certificate, public_key)


def load_private_keys(data: bytes, source: str) -> list[RSAPrivateKey]:
    """Every RSA private key of a PEM file or of a backup of key Secrets."""
    blocks = [m for m in _PEM_BLOCK.finditer(data) if m.group(1) in _PRIVATE_KEY_BLOCKS]
    if blocks:
        return [_private_key(m.group(0), source) for m in blocks]
    if b"-----BEGIN" in data:
        raise InvalidInput(
            f"{source}: expected a PEM private key, found {_describe_pem(data)}",
            hint="pass the private key (tls.key of the controller's key Secret), "
            "not its certificate",
        )
    return _keys_from_secrets(data, source)


def load_private_key_files(paths: Sequence[Path]) -> list[RSAPrivateKey]:
    keys: list[RSAPrivateKey] = []
    for path in paths:
        keys += load_private_keys(read_input(path, "cannot read the key file"), str(path))
    return keys


def _private_key(pem: bytes, source: str) -> RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError:
        raise InvalidInput(
            f"{source}: the private key is protected by a passphrase",
            hint="write an unencrypted copy (openssl rsa -in KEY -out PLAIN) and use that",
        ) from None
    except ValueError:
        # The library's reason may quote the key material it choked on.
        raise InvalidInput(
            f"{source}: the private key cannot be read: not a PEM key the TLS library accepts"
        ) from None
    if not isinstance(key, RSAPrivateKey):
        raise InvalidInput(
            f"{source}: expected an RSA private key, found {_kind_of(key.public_key())} key; "
            "Sealed Secrets keys are RSA"
        )
    return key


def _keys_from_secrets(data: bytes, source: str) -> list[RSAPrivateKey]:
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise InvalidInput(
            f"{source}: not a PEM private key nor a YAML/JSON Secret (binary data)"
        ) from None
    secrets: list[tuple[Any, str]] = []
    for document in load_documents(Path(source), text):
        body = document.data
        if isinstance(body, dict) and body.get("kind") == "List":
            items = body.get("items") or []
            if not isinstance(items, list):
                raise document.error(("items",), "expected a list of Secrets")
            secrets += [(item, f"{source} items[{i}]") for i, item in enumerate(items)]
        else:
            secrets.append((body, source))
    if not secrets:
        raise InvalidInput(f"{source}: no private key found (the file is empty)")
    keys: list[RSAPrivateKey] = []
    for secret, where in secrets:
        if not isinstance(secret, dict) or secret.get("kind") != "Secret":
            raise InvalidInput(
                f"{where}: expected a PEM private key or the controller's key Secret "
                "(kind Secret with data.tls.key)"
            )
        items = secret.get("data")
        encoded = items.get(TLS_KEY) if isinstance(items, dict) else None
        if not isinstance(encoded, str):
            raise InvalidInput(f"{where}: the Secret has no data.{TLS_KEY}")
        try:
            pem = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise InvalidInput(f"{where}: data.{TLS_KEY} is not valid base64") from None
        keys += load_private_keys(pem, f"{where} data.{TLS_KEY}")
    return keys


def _kind_of(public_key: PublicKeyTypes) -> str:
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "an elliptic-curve"
    if isinstance(public_key, dsa.DSAPublicKey):
        return "a DSA"
    if isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return "an EdDSA"
    return "a non-RSA"


def _describe_pem(data: bytes) -> str:
    kinds = sorted({m.group(1).decode() for m in _PEM_BLOCK.finditer(data)})
    return ", ".join(kinds) if kinds else "no PEM block"


def read_input(path: Path, failure: str) -> bytes:
    """A file given on the command line, bounded; ``failure`` says what could not be done."""
    try:
        return read_bytes(path)
    except FileRefused:
        raise
    except OSError as e:
        raise InvalidInput(f"{path}: {failure} ({e.strerror})") from None
