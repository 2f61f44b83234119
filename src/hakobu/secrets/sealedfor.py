"""What a SealedSecret that does not open was really sealed for, when the keys can tell.

Nothing in a sealed value names its label, so the only way to learn it is to try labels. The
likely mistakes are few: a scope annotation lost or added, or a name or namespace changed
after sealing (a render that moved it, while ``spec.template`` still holds the original).
Those candidates are tried with the keys at hand; anything else stays unknown.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from hakobu.errors import HakobuError
from hakobu.model.objects import Object
from hakobu.secrets.crypto import decode_sealed_value, hybrid_decrypt
from hakobu.secrets.scope import Scope, encryption_label
from hakobu.secrets.sealedsecret import sealing_label


def sealed_for(sealed: Object, private_keys: Sequence[RSAPrivateKey]) -> str | None:
    """``"prod/db" (strict)``-like, when one of the keys opens the values under another
    plausible label than the one the SealedSecret's metadata implies; else None."""
    spec = sealed.get("spec") or {}
    values = [v for v in (spec.get("encryptedData") or {}).values() if isinstance(v, str)]
    if not values or not private_keys:
        return None
    try:
        ciphertext = decode_sealed_value(values[0])
        expected = sealing_label(sealed)
    except HakobuError:
        return None
    for label, description in _candidates(sealed):
        if label == expected:
            continue
        try:
            hybrid_decrypt(private_keys, ciphertext, label)
        except HakobuError:
            continue
        return description
    return None


def _candidates(sealed: Object) -> list[tuple[bytes, str]]:
    top = sealed.get("metadata") or {}
    template = ((sealed.get("spec") or {}).get("template") or {}).get("metadata") or {}
    namespaces = _distinct(top.get("namespace"), template.get("namespace"))
    names = _distinct(top.get("name"), template.get("name"))
    found = [
        (
            encryption_label(namespace, name, Scope.STRICT),
            f'"{namespace}/{name}" ({Scope.STRICT})',
        )
        for namespace in namespaces
        for name in names
    ]
    found += [
        (
            encryption_label(namespace, "", Scope.NAMESPACE_WIDE),
            f'namespace "{namespace}" ({Scope.NAMESPACE_WIDE})',
        )
        for namespace in namespaces
    ]
    found.append(
        (
            encryption_label("", "", Scope.CLUSTER_WIDE),
            f"any namespace and name ({Scope.CLUSTER_WIDE})",
        )
    )
    return found


def _distinct(*values: object) -> list[str]:
    return list(dict.fromkeys(v for v in values if isinstance(v, str) and v))
