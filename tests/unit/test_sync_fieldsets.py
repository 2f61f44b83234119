"""Projecting objects onto managedFields sets."""

from __future__ import annotations

from hakobu.sync.compare import same
from hakobu.sync.fieldsets import owned_by, project, union

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
