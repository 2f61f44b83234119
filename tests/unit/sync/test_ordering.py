"""Apply order: phase → wave → kind → name; deletion is its reverse."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hakobu.model.objects import ObjectId
from hakobu.sync.ordering import KIND_ORDER, Phase, deletion_order, kind_rank, sync_key


def oid(kind: str, name: str = "x", namespace: str = "ns", group: str = "") -> ObjectId:
    return ObjectId(group, kind, namespace, name)


def test_phase_comes_before_wave_and_wave_before_kind() -> None:
    keys = [
        sync_key(Phase.POST_SYNC, -5, oid("Namespace")),
        sync_key(Phase.SYNC, 2, oid("Namespace")),
        sync_key(Phase.SYNC, 1, oid("Deployment")),
        sync_key(Phase.PRE_SYNC, 9, oid("Job")),
        sync_key(Phase.SYNC_FAIL, -9, oid("Namespace")),
    ]
    assert sorted(keys) == [keys[3], keys[2], keys[1], keys[0], keys[4]]


def test_namespaces_and_definitions_first_custom_kinds_last() -> None:
    ids = [
        oid("Widget", group="example.com"),
        oid("Deployment"),
        oid("CustomResourceDefinition", namespace="", group="apiextensions.k8s.io"),
        oid("ConfigMap"),
        oid("Namespace", namespace=""),
        oid("Service"),
    ]
    ordered = sorted(ids, key=lambda i: sync_key(Phase.SYNC, 0, i))
    assert [i.kind for i in ordered] == [
        "Namespace",
        "CustomResourceDefinition",
        "ConfigMap",
        "Service",
        "Deployment",
        "Widget",
    ]


def test_same_kind_orders_by_namespace_then_name() -> None:
    ids = [oid("ConfigMap", "b", "a"), oid("ConfigMap", "a", "b"), oid("ConfigMap", "a", "a")]
    ordered = sorted(ids, key=lambda i: sync_key(Phase.SYNC, 0, i))
    assert [(i.namespace, i.name) for i in ordered] == [("a", "a"), ("a", "b"), ("b", "a")]


def test_unknown_kinds_rank_after_every_known_kind() -> None:
    assert kind_rank("Widget") > max(kind_rank(k) for k in KIND_ORDER)
    assert kind_rank("Widget") == kind_rank("Gadget")


def test_deletion_removes_dependents_before_what_they_live_in() -> None:
    ids = [oid("Namespace", namespace=""), oid("Deployment"), oid("Service"), oid("Widget")]
    assert [i.kind for i in deletion_order(ids)] == ["Widget", "Deployment", "Service", "Namespace"]


kinds = st.sampled_from([*KIND_ORDER[:8], "Deployment", "Widget", "Gadget"])
ids_strategy = st.lists(
    st.builds(oid, kinds, st.text("abc", min_size=1, max_size=3), st.sampled_from(["a", "b"])),
    unique=True,
)


@given(ids_strategy)
def test_deletion_is_exactly_the_reverse_of_apply(ids: list[ObjectId]) -> None:
    applied = sorted(ids, key=lambda i: sync_key(Phase.SYNC, 0, i))
    assert deletion_order(ids) == applied[::-1]


@given(ids_strategy)
def test_order_does_not_depend_on_input_order(ids: list[ObjectId]) -> None:
    key = lambda i: sync_key(Phase.SYNC, 0, i)  # noqa: E731
    assert sorted(ids, key=key) == sorted(reversed(ids), key=key)
