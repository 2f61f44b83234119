"""Scopes: the encryption label each implies, and the annotations that declare them."""

from __future__ import annotations

import pytest

from hakobu.errors import InvalidInput
from hakobu.secrets.scope import (
    CLUSTER_WIDE_ANNOTATION,
    NAMESPACE_WIDE_ANNOTATION,
    Scope,
    encryption_label,
    parse_scope,
    scope_of,
    with_scope,
)


@pytest.mark.parametrize(
    ("scope", "label"),
    [
        (Scope.STRICT, b"prod/db"),
        (Scope.NAMESPACE_WIDE, b"prod"),
        (Scope.CLUSTER_WIDE, b""),
    ],
)
def test_labels(scope: Scope, label: bytes) -> None:
    assert encryption_label("prod", "db", scope) == label


def test_annotations_declare_the_scope_and_cluster_wide_wins() -> None:
    assert scope_of(None) is Scope.STRICT
    assert scope_of({"other": "true"}) is Scope.STRICT
    assert scope_of({NAMESPACE_WIDE_ANNOTATION: "true"}) is Scope.NAMESPACE_WIDE
    assert scope_of({CLUSTER_WIDE_ANNOTATION: "true"}) is Scope.CLUSTER_WIDE
    both = {NAMESPACE_WIDE_ANNOTATION: "true", CLUSTER_WIDE_ANNOTATION: "true"}
    assert scope_of(both) is Scope.CLUSTER_WIDE
    # Only the exact string "true" counts, as in the controller.
    assert scope_of({CLUSTER_WIDE_ANNOTATION: "True"}) is Scope.STRICT


def test_with_scope_replaces_scope_annotations_only() -> None:
    before = {"team": "a", NAMESPACE_WIDE_ANNOTATION: "true"}
    assert with_scope(before, Scope.CLUSTER_WIDE) == {"team": "a", CLUSTER_WIDE_ANNOTATION: "true"}
    assert with_scope(before, Scope.STRICT) == {"team": "a"}
    assert with_scope(None, Scope.NAMESPACE_WIDE) == {NAMESPACE_WIDE_ANNOTATION: "true"}
    assert before == {"team": "a", NAMESPACE_WIDE_ANNOTATION: "true"}


def test_parse_scope() -> None:
    assert parse_scope("namespace-wide") is Scope.NAMESPACE_WIDE
    assert str(Scope.CLUSTER_WIDE) == "cluster-wide"
    with pytest.raises(InvalidInput, match="expected one of strict, namespace-wide, cluster-wide"):
        parse_scope("global")
