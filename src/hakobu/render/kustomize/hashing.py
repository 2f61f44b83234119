"""The content-hash name suffix kustomize gives generated ConfigMaps and Secrets.

kustomize hashes a JSON document built from a few fields of the object, encoded exactly as
Go's ``encoding/json`` does (sorted keys, HTML-safe escapes), takes the first ten hex digits
of its SHA-256 and swaps the digits and letters that could spell words (0, 1, 3, a, e) for
consonants. Matching it byte for byte keeps names identical to ``kustomize build``.

One quirk is reproduced on purpose: kustomize looks the name up with the single path
element ``"metadata/name"``, which never matches, so the name always enters the hash as
the empty string. Two generated objects with equal contents therefore get equal suffixes
whatever their names, and a name prefix does not change the suffix.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from hakobu.model.objects import Object

_VOWEL_FREE = str.maketrans("013ae", "ghkmt")

# Characters Go's encoder escapes beyond JSON's required set: HTML-significant ones and the
# two JavaScript line terminators.
_GO_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def name_hash(obj: Object) -> str:
    """The ten-character suffix kustomize appends to a generated ConfigMap or Secret."""
    return encode_digest(hashlib.sha256(hash_input(obj).encode()).hexdigest())


def with_hash_suffix(obj: Object) -> Object:
    """A copy of ``obj`` whose name ends in ``-<name_hash(obj)>``."""
    suffix = name_hash(obj)
    meta = dict(obj.get("metadata") or {})
    meta["name"] = f"{meta.get('name', '')}-{suffix}"
    return {**obj, "metadata": meta}


def encode_digest(hex_digest: str) -> str:
    """The first ten hex digits with 0, 1, 3, a and e swapped for g, h, k, m and t."""
    if len(hex_digest) < 10:
        raise ValueError("a digest needs at least 10 hex digits")
    return hex_digest[:10].translate(_VOWEL_FREE)


def hash_input(obj: Object) -> str:
    """The JSON text kustomize hashes for a ConfigMap or a Secret."""
    kind = obj.get("kind")
    doc: dict[str, Any]
    if kind == "ConfigMap":
        doc = {"kind": "ConfigMap", "name": "", "data": _map_or_blank(obj.get("data"))}
        if isinstance(obj.get("binaryData"), dict):
            doc["binaryData"] = obj["binaryData"]
    elif kind == "Secret":
        doc = {
            "kind": "Secret",
            "type": _scalar_or_blank(obj.get("type")),
            "name": "",
            "data": _map_or_blank(obj.get("data")),
        }
        if isinstance(obj.get("stringData"), dict):
            doc["stringData"] = obj["stringData"]
    else:
        raise ValueError(f"only ConfigMaps and Secrets get a content hash, not {kind!r}")
    return go_json(doc)


def _map_or_blank(value: Any) -> Any:
    # An absent (or null) map enters the hash as an empty string, as in kustomize.
    return value if isinstance(value, dict) else _scalar_or_blank(value)


def _scalar_or_blank(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def go_json(value: Any) -> str:
    """Compact JSON as Go's ``json.Marshal`` writes it (map keys sorted)."""
    if value is None or isinstance(value, bool | int | float):
        return _go_scalar(value)
    if isinstance(value, str):
        return _go_string(value)
    if isinstance(value, dict):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{_go_string(k)}:{go_json(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def _go_scalar(value: bool | float | None) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _go_float(value)


def _go_string(text: str) -> str:
    out = ['"']
    for char in text:
        escaped = _GO_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        elif 0xD800 <= ord(char) <= 0xDFFF:
            # Go replaces invalid UTF-8 (a lone surrogate here) with U+FFFD.
            out.append("\ufffd")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _go_float(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"JSON cannot represent {value}")
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    magnitude = abs(value)
    if magnitude < 1e-6 or magnitude >= 1e21:
        mantissa, _, exponent = repr(value).partition("e")
        exp = int(exponent)
        return f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return repr(value)
