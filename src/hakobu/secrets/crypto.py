"""The hybrid encryption of Sealed Secrets, byte for byte.

One sealed value is::

    uint16 big-endian length of the RSA ciphertext
    ‖ RSA-OAEP(SHA-256, MGF1-SHA-256, label) of a fresh 32-byte session key
    ‖ AES-256-GCM(session key, 12-byte zero nonce, no AAD) of the plaintext, tag appended

The zero nonce is safe because every session key encrypts exactly one value. The label
binds the value to where it may be opened (see ``hakobu.secrets.scope``); nothing in the
ciphertext says which key sealed it, so opening tries every key it is given.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hakobu.errors import InvalidInput, OperationFailed

SESSION_KEY_BYTES = 32
_NONCE = bytes(12)
_LENGTH = struct.Struct(">H")
_GCM_TAG_BYTES = 16


class CorruptSealedValue(InvalidInput):
    """A sealed value that is not in the Sealed Secrets format at all."""


class CannotUnseal(OperationFailed):
    """A well-formed sealed value that none of the given keys opens under its label."""


def _oaep(label: bytes) -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label)


def hybrid_encrypt(public_key: RSAPublicKey, plaintext: bytes, label: bytes) -> bytes:
    session_key = os.urandom(SESSION_KEY_BYTES)
    wrapped = public_key.encrypt(session_key, _oaep(label))
    return (
        _LENGTH.pack(len(wrapped)) + wrapped + AESGCM(session_key).encrypt(_NONCE, plaintext, None)
    )


def hybrid_decrypt(private_keys: Sequence[RSAPrivateKey], ciphertext: bytes, label: bytes) -> bytes:
    if len(ciphertext) < _LENGTH.size:
        raise CorruptSealedValue(
            f"the sealed value is too short ({len(ciphertext)} bytes) to hold anything"
        )
    (wrapped_length,) = _LENGTH.unpack_from(ciphertext)
    if len(ciphertext) < _LENGTH.size + wrapped_length + _GCM_TAG_BYTES:
        raise CorruptSealedValue(
            f"the sealed value is truncated: its header announces a {wrapped_length}-byte key "
            f"block but only {len(ciphertext)} bytes are present",
            hint="copy the whole value again; it may have been cut off",
        )
    if not private_keys:
        raise CannotUnseal("no private key was given to open the sealed value")
    wrapped = ciphertext[_LENGTH.size : _LENGTH.size + wrapped_length]
    sealed = ciphertext[_LENGTH.size + wrapped_length :]
    for key in private_keys:
        if key.key_size // 8 != wrapped_length:
            continue
        try:
            session_key = key.decrypt(wrapped, _oaep(label))
        except ValueError:
            continue
        try:
            return AESGCM(session_key).decrypt(_NONCE, sealed, None)
        except (InvalidTag, ValueError):
            # OAEP accepted the key and the label, so the bulk data itself was altered.
            raise CorruptSealedValue(
                "the sealed value was altered after sealing: its integrity check failed",
                hint="take the value again from the original SealedSecret",
            ) from None
    raise CannotUnseal(
        f"none of the {len(private_keys)} private key(s) opens the sealed value: it was "
        "sealed for another namespace/name or scope, or with another key",
        hint="check that name, namespace and scope annotations are as they were when "
        "sealing, and pass every key the controller has used",
    )


def decode_sealed_value(text: str) -> bytes:
    """A value of ``spec.encryptedData`` as bytes (standard base64, line breaks tolerated)."""
    compact = text.replace("\n", "").replace("\r", "")
    try:
        return base64.b64decode(compact, validate=True)
    except binascii.Error as e:
        raise CorruptSealedValue(f"the sealed value is not valid base64 ({e})") from None


def encode_sealed_value(ciphertext: bytes) -> str:
    return base64.b64encode(ciphertext).decode("ascii")
