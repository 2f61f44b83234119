"""Secrets and SealedSecrets as YAML documents: read, sealed, opened, edited and written.

Errors about a field of an object point at its file and line (``file:line: field: …``), and
the YAML written is what kubeseal writes: keys sorted, no folding, so a changed value is one
line of a diff.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import yaml
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.model.readobjects import STDIN, read_documents
from hakobu.model.source import Document
from hakobu.secrets.edit import Edit, edit_sealed_secret
from hakobu.secrets.scope import Scope
from hakobu.secrets.sealedsecret import KIND, InvalidObject, seal_secret, shown, unseal

STDIN_NAME = "standard input"


def read_secret_documents(source: str) -> list[Document]:
    """The YAML documents of the file ``source`` (``-``: standard input); at least one."""
    documents = read_documents(source, stdin_name=STDIN_NAME)
    if not documents:
        raise InvalidInput(f"{STDIN_NAME if source == STDIN else source}: no YAML documents")
    return documents


def seal_documents(
    documents: Sequence[Document],
    certificate: bytes,
    scope: Scope | None,
    *,
    name: str | None = None,
    namespace: str | None = None,
    allow_empty_data: bool = False,
) -> list[Object]:
    """A SealedSecret per Secret document; ``name`` and ``namespace`` fill or must match."""
    sealed: list[Object] = []
    for document in documents:
        secret = with_identity(document, name, namespace)
        with located(document):
            sealed.append(
                seal_secret(secret, certificate, scope, allow_empty_data=allow_empty_data)
            )
    return sealed


def unseal_documents(documents: Sequence[Document], keys: Sequence[RSAPrivateKey]) -> list[Object]:
    """The Secret the controller would create from each SealedSecret document."""
    secrets: list[Object] = []
    for document in documents:
        with located(document):
            secrets.append(unseal(as_object(document), keys))
    return secrets


def one_sealed_secret(documents: Sequence[Document], file: object) -> Document:
    """The only document of ``file``, which must be a SealedSecret (to edit it)."""
    if len(documents) != 1 or not isinstance(documents[0].data, dict):
        raise InvalidInput(
            f"{file}: expected exactly one SealedSecret, found {len(documents)} documents",
            hint="keep one SealedSecret per file to edit it",
        )
    document = documents[0]
    if document.data.get("kind") != KIND:
        raise document.error(
            ("kind",), f"expected a {KIND}, found {shown(document.data.get('kind'))}"
        )
    return document


def edit_document(
    document: Document, keys: Sequence[RSAPrivateKey], certificate: Callable[[], bytes]
) -> Edit:
    """``edit_sealed_secret`` on a SealedSecret document, its errors located in its file."""
    with located(document):
        return edit_sealed_secret(document.data, keys, certificate)


def with_identity(document: Document, name: str | None, namespace: str | None) -> Object:
    """The document's Secret, with ``name``/``namespace`` filled in where it has none."""
    secret = dict(as_object(document))
    metadata = secret.get("metadata")
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    for field, wanted in (("name", name), ("namespace", namespace)):
        if not wanted:
            continue
        present = metadata.get(field)
        if present and present != wanted:
            raise document.error(
                ("metadata", field),
                f"the Secret's {field} is {shown(present)} but --{field} says {wanted!r}",
                hint=f"leave out --{field}, or change the file",
            )
        metadata[field] = wanted
    secret["metadata"] = metadata
    return secret


def as_object(document: Document) -> Object:
    if not isinstance(document.data, dict):
        found = type(document.data).__name__
        raise document.error((), f"expected a Kubernetes object (a mapping), found a {found}")
    return document.data


@contextmanager
def located(document: Document) -> Iterator[None]:
    """Point errors about a field of the document at its file and line."""
    try:
        yield
    except InvalidObject as e:
        raise document.error(e.field, e.detail, e.hint) from None


def dump_objects(objects: Sequence[Object]) -> str:
    """Several objects as one YAML stream."""
    return "---\n".join(dump_object(obj) for obj in objects)


def dump_object(obj: Any) -> str:
    # Sorted keys as kubeseal writes them; no folding, so a changed value is one diff line.
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False, width=float("inf"))
