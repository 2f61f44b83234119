"""A Secret built from items given one by one, as ``kubectl create secret generic`` builds it.

Items come as ``KEY=VALUE`` literals and ``[KEY=]PATH`` files (the key defaults to the
file's name). Errors name the flag an item was given with, ``--from-literal`` or
``--from-file``, since that is how a person gives them; a literal's value is never shown.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.secrets.keys import read_input

DEFAULT_TYPE = "Opaque"


@dataclass(frozen=True)
class SecretItems:
    """What a Secret is built from: its identity, its type and its items' sources."""

    name: str | None
    namespace: str | None = None
    type: str | None = None
    literals: Sequence[str] = ()  # KEY=VALUE
    files: Sequence[str] = ()  # [KEY=]PATH


def build_secret(spec: SecretItems) -> Object:
    """The Secret ``spec`` describes, every item base64-encoded under ``data``."""
    if not spec.name:
        raise InvalidInput(
            "a Secret needs a name: give --name (or a Secret file with -f)",
            hint="e.g. hakobu secret seal --name db --namespace prod "
            "--from-literal password=… --cert cert.pem",
        )
    items: dict[str, bytes] = {}
    for index, literal in enumerate(spec.literals, 1):
        key, equals, value = literal.partition("=")
        if not equals or not key:
            # The argument is a value given without its key: it must not be repeated.
            raise InvalidInput(
                f"--from-literal (number {index} of them): expected KEY=VALUE",
                hint="name the item, e.g. --from-literal password=…",
            )
        _add_item(items, key, value.encode(), f"--from-literal {key}=…")
    for source in spec.files:
        key, equals, path = source.partition("=")
        if not equals:
            key, path = Path(source).name, source
        if not key or not path:
            raise InvalidInput(f"--from-file {source!r}: expected [KEY=]PATH")
        content = read_input(Path(path), "--from-file: cannot be read")
        _add_item(items, key, content, f"--from-file {source!r}")
    metadata: Object = {"name": spec.name}
    if spec.namespace:
        metadata["namespace"] = spec.namespace
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": spec.type or DEFAULT_TYPE,
        "data": {key: base64.b64encode(value).decode("ascii") for key, value in items.items()},
    }


def _add_item(items: dict[str, bytes], key: str, value: bytes, origin: str) -> None:
    if key in items:
        raise InvalidInput(f"{origin}: the item {key!r} is given twice")
    items[key] = value
