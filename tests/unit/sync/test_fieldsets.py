"""Projecting objects onto managedFields sets."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hakobu.sync.compare import in_sync, same
from hakobu.sync.fieldsets import FieldSet, owned_by, project, union

POD_SPEC = {
    "containers": [
        {"name": "web", "image": "a", "ports": [{"containerPort": 80, "protocol": "TCP"}]},
        {"name": "sidecar", "image": "b"},
    ],
    "finalizers": ["x", "y"],
}


def test_map_fields_and_leaves() -> None:
    assert project({"a": {"b": 1, "c": 2}, "d": 3}, {"f:a": {"f:b": {}}}) == {"a": {"b": 1}}
    assert project({"a": {"b": 1, "c": 2}}, {"f:a": {}}) == {"a": {"b": 1, "c": 2}}


def test_list_items_by_merge_key_value_and_index() -> None:
    fields = {
        "f:containers": {
            'k:{"name":"web"}': {
                ".": {},
                "f:image": {},
                "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {"f:containerPort": {}}},
            }
        },
        "f:finalizers": {'v:"y"': {}},
    }
    assert project(POD_SPEC, fields) == {
        "containers": [{"image": "a", "ports": [{"containerPort": 80}]}],
        "finalizers": ["y"],
    }
    assert project(["p", "q"], {"i:1": {}}) == ["q"]


def test_owned_by_takes_only_the_managers_apply_entries() -> None:
    obj = {
        "apiVersion": "v1",
        "metadata": {
            "managedFields": [
                {
                    "manager": "hakobu",
                    "operation": "Apply",
                    "apiVersion": "v1",
                    "fieldsV1": {"f:a": {}},
                },
                {
                    "manager": "hakobu",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "fieldsV1": {"f:b": {}},
                },
                {
                    "manager": "hakobu",
                    "operation": "Apply",
                    "apiVersion": "v1",
                    "subresource": "status",
                    "fieldsV1": {"f:status": {}},
                },
                {
                    "manager": "kubectl",
                    "operation": "Apply",
                    "apiVersion": "v1",
                    "fieldsV1": {"f:c": {}},
                },
                {
                    "manager": "hakobu",
                    "operation": "Apply",
                    "apiVersion": "v2",
                    "fieldsV1": {"f:d": {}},
                },
            ]
        },
    }
    assert owned_by(obj, "hakobu", "v1") == {"f:a": {}}
    assert owned_by(obj, "hakobu") == {"f:a": {}, "f:d": {}}


def test_union_merges_nested_sets() -> None:
    assert union({"f:a": {"f:b": {}}}, {"f:a": {"f:c": {}}, "f:d": {}}) == {
        "f:a": {"f:b": {}, "f:c": {}},
        "f:d": {},
    }


def test_same_allows_server_normalisation_but_not_real_changes() -> None:
    assert same({"cpu": 1, "x": None}, {"cpu": "1"})
    assert same({"labels": {}}, {})
    assert not same({"replicas": 2}, {"replicas": 3})
    assert not same({"flag": True}, {"flag": "true"})
    assert not same({"a": [1, 2]}, {"a": [1]})


# Small values with the shapes the comparison distinguishes: empty and null values,
# numbers against their text, booleans, nested mappings and lists of keyed items.
_leaf = st.one_of(st.none(), st.booleans(), st.sampled_from([0, 1, "1", "a", "b", 1.5, "1.5"]))
_values = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["name", "a", "b", "c"]), inner, max_size=3),
    ),
    max_leaves=12,
)
_mappings = st.dictionaries(
    st.sampled_from(["spec", "data", "status", "kind"]), _values, max_size=3
)


def _fields_for(value: object, data: st.DataObject) -> dict[str, object]:
    """A field set over ``value``'s own shape, as the server records one: some fields of
    mappings, list items by merge key, by value or by index, or a leaf."""
    if isinstance(value, dict) and value and data.draw(st.booleans()):
        # A set may name a field the object lacks (a value since removed by another).
        keys = data.draw(st.lists(st.sampled_from([*sorted(value), "a", "spec"]), unique=True))
        return {f"f:{k}": _fields_for(value.get(k), data) for k in keys}
    if isinstance(value, list) and value and data.draw(st.booleans()):
        fields: dict[str, object] = {}
        for index, item in enumerate(value):
            if data.draw(st.booleans()):
                if isinstance(item, dict) and "name" in item:
                    key = f"k:{json.dumps({'name': item['name']})}"
                elif data.draw(st.booleans()):
                    key = f"v:{json.dumps(item)}"
                else:
                    key = f"i:{index}"
                fields[key] = _fields_for(item, data)
        return fields
    return {}


@given(st.data())
@settings(max_examples=400, deadline=None)
def test_in_sync_is_the_comparison_with_the_projection(data: st.DataObject) -> None:
    live: dict[str, Any] = data.draw(_mappings)
    # Manifests are checked to have a mapping for metadata before they are compared.
    metadata = st.dictionaries(st.sampled_from(["name", "labels", "annotations"]), _values)
    live["metadata"] = data.draw(metadata)
    desired: dict[str, Any] = data.draw(st.one_of(st.just(copy.deepcopy(live)), _mappings))
    if data.draw(st.booleans()):
        desired["metadata"] = data.draw(metadata)
    owned = _fields_for(live, data)
    live["metadata"]["managedFields"] = [
        {"manager": "m", "operation": "Apply", "apiVersion": "v1", "fieldsV1": owned}
    ]
    desired["apiVersion"] = "v1"
    assert in_sync(desired, live, "m") == _same_as_projection(desired, live, owned)


def _same_as_projection(desired: dict[str, Any], live: dict[str, Any], owned: FieldSet) -> bool:
    """The comparison spelled out: build the projection, then compare key by key."""
    if not owned:
        return False
    current = project(live, owned)
    for key in desired.keys() | current.keys():
        if key in ("apiVersion", "kind", "status"):
            continue
        if key == "metadata":
            want, have = desired.get(key) or {}, current.get(key) or {}
            ignored = ("name", "namespace", "creationTimestamp", "managedFields")
            if not all(
                same(want.get(k), have.get(k))
                for k in want.keys() | have.keys()
                if k not in ignored
            ):
                return False
        elif not same(desired.get(key), current.get(key)):
            return False
    return True
