"""Where a sealed value may be opened: its scope and the encryption label it implies.

The label is the OAEP label of every value, so a value sealed for ``prod/db`` cannot be
opened as ``dev/db`` or under another name. The scope is recorded as an annotation; the
controller reads it (with name and namespace) from the SealedSecret's own top-level
metadata, while kubeseal also copies it into ``spec.template.metadata`` because the
template starts as a copy of the Secret's metadata.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from hakobu.errors import InvalidInput

ANNOTATION_PREFIX = "sealedsecrets.bitnami.com/"
NAMESPACE_WIDE_ANNOTATION = ANNOTATION_PREFIX + "namespace-wide"
CLUSTER_WIDE_ANNOTATION = ANNOTATION_PREFIX + "cluster-wide"


class Scope(enum.Enum):
    STRICT = "strict"
    NAMESPACE_WIDE = "namespace-wide"
    CLUSTER_WIDE = "cluster-wide"

    def __str__(self) -> str:
        return self.value


def parse_scope(text: str) -> Scope:
    try:
        return Scope(text)
    except ValueError:
        choices = ", ".join(scope.value for scope in Scope)
        raise InvalidInput(f"unknown scope {text!r}: expected one of {choices}") from None


def encryption_label(namespace: str, name: str, scope: Scope) -> bytes:
    if scope is Scope.CLUSTER_WIDE:
        return b""
    if scope is Scope.NAMESPACE_WIDE:
        return namespace.encode()
    return f"{namespace}/{name}".encode()


def scope_of(annotations: Mapping[str, object] | None) -> Scope:
    """The scope the annotations declare; cluster-wide wins when both are set."""
    annotations = annotations or {}
    if annotations.get(CLUSTER_WIDE_ANNOTATION) == "true":
        return Scope.CLUSTER_WIDE
    if annotations.get(NAMESPACE_WIDE_ANNOTATION) == "true":
        return Scope.NAMESPACE_WIDE
    return Scope.STRICT


def with_scope(annotations: Mapping[str, str] | None, scope: Scope) -> dict[str, str]:
    """A copy of ``annotations`` that declares ``scope`` and nothing else about scope."""
    updated = {
        key: value
        for key, value in (annotations or {}).items()
        if key not in (NAMESPACE_WIDE_ANNOTATION, CLUSTER_WIDE_ANNOTATION)
    }
    if scope is Scope.NAMESPACE_WIDE:
        updated[NAMESPACE_WIDE_ANNOTATION] = "true"
    elif scope is Scope.CLUSTER_WIDE:
        updated[CLUSTER_WIDE_ANNOTATION] = "true"
    return updated
