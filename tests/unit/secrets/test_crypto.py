"""The Sealed Secrets hybrid encryption: layout, labels, every key tried, clear failures."""

from __future__ import annotations

import struct

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from hakobu.secrets.crypto import (
    CannotUnseal,
    CorruptSealedValue,
    decode_sealed_value,
    encode_sealed_value,
    hybrid_decrypt,
    hybrid_encrypt,
)


@pytest.fixture(scope="module")
def key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_layout_is_length_then_wrapped_key_then_gcm(key: RSAPrivateKey) -> None:
    plaintext = b"hunter2"
    sealed = hybrid_encrypt(key.public_key(), plaintext, b"prod/db")
    (length,) = struct.unpack(">H", sealed[:2])
    assert length == 256
    assert len(sealed) == 2 + 256 + len(plaintext) + 16
    # Open it by hand, following the format rather than our own decrypt.
    oaep = padding.OAEP(
        mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=b"prod/db"
    )
    session_key = key.decrypt(sealed[2 : 2 + length], oaep)
    assert len(session_key) == 32
    assert AESGCM(session_key).decrypt(bytes(12), sealed[2 + length :], None) == plaintext


def test_every_seal_uses_a_fresh_session_key(key: RSAPrivateKey) -> None:
    first = hybrid_encrypt(key.public_key(), b"same", b"l")
    second = hybrid_encrypt(key.public_key(), b"same", b"l")
    assert first != second
    assert first[2 + 256 :] != second[2 + 256 :]


@settings(max_examples=25, deadline=None)
@given(plaintext=st.binary(max_size=4096), label=st.binary(max_size=300))
def test_round_trip(key: RSAPrivateKey, plaintext: bytes, label: bytes) -> None:
    assert hybrid_decrypt([key], hybrid_encrypt(key.public_key(), plaintext, label), label) == (
        plaintext
    )


def test_every_key_is_tried(key: RSAPrivateKey, other_key: RSAPrivateKey) -> None:
    sealed = hybrid_encrypt(key.public_key(), b"v", b"ns/name")
    assert hybrid_decrypt([other_key, key], sealed, b"ns/name") == b"v"


def test_keys_of_another_size_are_skipped(key: RSAPrivateKey) -> None:
    larger = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    sealed = hybrid_encrypt(key.public_key(), b"v", b"")
    assert hybrid_decrypt([larger, key], sealed, b"") == b"v"
    with pytest.raises(CannotUnseal):
        hybrid_decrypt([larger], sealed, b"")


@pytest.mark.parametrize("label", [b"ns/other", b"ns", b"", b"other/name"])
def test_another_label_does_not_open(key: RSAPrivateKey, label: bytes) -> None:
    sealed = hybrid_encrypt(key.public_key(), b"v", b"ns/name")
    with pytest.raises(CannotUnseal, match="another namespace/name or scope, or with another"):
        hybrid_decrypt([key], sealed, label)


def test_another_key_does_not_open(key: RSAPrivateKey, other_key: RSAPrivateKey) -> None:
    sealed = hybrid_encrypt(key.public_key(), b"v", b"ns/name")
    with pytest.raises(CannotUnseal) as raised:
        hybrid_decrypt([other_key], sealed, b"ns/name")
    assert raised.value.exit_code == 1


def test_no_keys_at_all(key: RSAPrivateKey) -> None:
    with pytest.raises(CannotUnseal, match="no private key"):
        hybrid_decrypt([], hybrid_encrypt(key.public_key(), b"v", b""), b"")


@pytest.mark.parametrize("cut", [0, 1, 2, 100, 2 + 256, 2 + 256 + 15])
def test_truncated_values_are_corrupt(key: RSAPrivateKey, cut: int) -> None:
    sealed = hybrid_encrypt(key.public_key(), b"", b"")
    with pytest.raises(CorruptSealedValue) as raised:
        hybrid_decrypt([key], sealed[:cut], b"")
    assert raised.value.exit_code == 2


def test_altered_bulk_data_is_reported_as_tampering(key: RSAPrivateKey) -> None:
    sealed = bytearray(hybrid_encrypt(key.public_key(), b"secret value", b"l"))
    sealed[-1] ^= 1
    with pytest.raises(CorruptSealedValue, match="altered after sealing"):
        hybrid_decrypt([key], bytes(sealed), b"l")


def test_base64_codec() -> None:
    assert decode_sealed_value(encode_sealed_value(b"\x00\xffabc")) == b"\x00\xffabc"
    assert decode_sealed_value("AAEC\nAw==\r\n") == b"\x00\x01\x02\x03"
    for bad in ("not base64!", "AAE", "AA=A"):
        with pytest.raises(CorruptSealedValue, match="not valid base64"):
            decode_sealed_value(bad)
