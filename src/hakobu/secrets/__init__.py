"""Sealed Secrets: sealing, unsealing, keys — byte-compatible with kubeseal and the controller.

Errors::

    InvalidInput
    ├── CorruptSealedValue      a sealed value that is not in the format (base64, truncated)
    └── InvalidObject           a Secret/SealedSecret field that is wrong (``.field`` says which)
    OperationFailed
    └── CannotUnseal            no given key opens a value under its name/namespace/scope
"""

from hakobu.secrets.crypto import CannotUnseal, CorruptSealedValue, hybrid_decrypt, hybrid_encrypt
from hakobu.secrets.keys import (
    SealingCertificate,
    generate_key_pair,
    load_certificate,
    load_private_key_files,
    load_private_keys,
)
from hakobu.secrets.scope import Scope, encryption_label, parse_scope, scope_of
from hakobu.secrets.sealedsecret import (
    InvalidObject,
    reseal_items,
    seal_secret,
    sealing_label,
    secret_items,
    unseal,
)

__all__ = [
    "CannotUnseal",
    "CorruptSealedValue",
    "InvalidObject",
    "Scope",
    "SealingCertificate",
    "encryption_label",
    "generate_key_pair",
    "hybrid_decrypt",
    "hybrid_encrypt",
    "load_certificate",
    "load_private_key_files",
    "load_private_keys",
    "parse_scope",
    "reseal_items",
    "scope_of",
    "seal_secret",
    "sealing_label",
    "secret_items",
    "unseal",
]
