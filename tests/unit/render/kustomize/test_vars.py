"""vars: resolution and $(VAR) substitution, with the real kustomize as oracle."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.render.kustomize.resource import store_previous_id
from hakobu.render.kustomize.vars import (
    VarError,
    builtin_var_references,
    expand,
    resolve_vars,
    substitute_vars,
)

RESOURCES: list[dict[str, Any]] = [
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "db", "namespace": "data", "annotations": {"owner": "$(TEAM)"}},
        "spec": {"ports": [{"port": 5432, "targetPort": "$(PORT)"}]},
    },
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"team": "$(TEAM)", "n": "x"}},
        "spec": {
            "replicas": 2,
            "template": {
                "metadata": {"annotations": {"db": "$(DB_HOST).svc", "raw": "$$(DB_HOST)"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "$(DB_HOST)",
                            "args": [
                                "--db=$(DB_HOST):$(PORT)",
                                "$(REPLICAS)",
                                "$(UNKNOWN)",
                                "$(",
                                "a$b",
                            ],
                            "command": ["$(PORTS)"],
                            "env": [{"name": "N", "value": "$(REPLICAS)"}],
                        }
                    ]
                },
            },
        },
    },
    {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "team", "namespace": "data"},
        "data": {"team": "payments", "flag": "true"},
    },
]

VARS: list[dict[str, Any]] = [
    {"name": "DB_HOST", "objref": {"apiVersion": "v1", "kind": "Service", "name": "db"}},
    {
        "name": "PORT",
        "objref": {"apiVersion": "v1", "kind": "Service", "name": "db", "namespace": "data"},
        "fieldref": {"fieldPath": "spec.ports[0].port"},
    },
    {
        "name": "REPLICAS",
        "objref": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "fieldref": {"fieldPath": "spec.replicas"},
    },
    {
        "name": "TEAM",
        "objref": {"apiVersion": "v1", "kind": "ConfigMap", "name": "team"},
        "fieldref": {"fieldPath": "data.team"},
    },
    {
        "name": "PORTS",
        "objref": {"apiVersion": "v1", "kind": "Service", "name": "db"},
        "fieldref": {"fieldPath": "spec.ports"},
    },
]


def _run(
    binary: Path, tmp_path: Path, var_specs: list[dict[str, Any]]
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "resources.yaml").write_text(yaml.safe_dump_all(RESOURCES))
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": ["resources.yaml"], "vars": var_specs})
    )
    return subprocess.run(
        [str(binary), "build", str(tmp_path)], capture_output=True, text=True, check=False
    )


def _by_id(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def test_matches_kustomize(kustomize_bin: Path, tmp_path: Path) -> None:
    run = _run(kustomize_bin, tmp_path, VARS)
    assert run.returncode == 0, run.stderr
    values = resolve_vars(RESOURCES, VARS)
    assert values["PORT"] == 5432
    assert values["REPLICAS"] == 2
    ours = substitute_vars(RESOURCES, values)
    assert _by_id(ours) == _by_id(list(yaml.safe_load_all(run.stdout)))


@pytest.mark.parametrize(
    ("var_specs", "fragment"),
    [
        (
            [{"name": "X", "objref": {"kind": "Service", "name": "db"}}],
            "not among the built objects",
        ),
        (
            [{"name": "X", "objref": {"apiVersion": "v1", "kind": "Service", "name": "nope"}}],
            "not among",
        ),
        (
            [
                {
                    "name": "X",
                    "objref": {"apiVersion": "v1", "kind": "Service", "name": "db"},
                    "fieldref": {"fieldPath": "spec.nope"},
                }
            ],
            "field 'spec.nope' not found",
        ),
        ([VARS[0], VARS[0]], "already encountered"),
    ],
)
def test_errors_match_kustomize(
    kustomize_bin: Path, tmp_path: Path, var_specs: list[dict[str, Any]], fragment: str
) -> None:
    assert _run(kustomize_bin, tmp_path, var_specs).returncode != 0
    with pytest.raises(VarError, match=r"vars\[\d\]") as caught:
        resolve_vars(RESOURCES, var_specs)
    assert fragment in str(caught.value)


def test_two_matches_without_namespace_is_ambiguous() -> None:
    twin = {**RESOURCES[0], "metadata": {"name": "db", "namespace": "other"}}
    with pytest.raises(VarError, match="found 2 objects"):
        resolve_vars([*RESOURCES, twin], VARS[:1])
    assert resolve_vars([*RESOURCES, twin], VARS[1:2]) == {"PORT": 5432}


def test_previous_names_still_match() -> None:
    renamed = {**RESOURCES[0], "metadata": dict(RESOURCES[0]["metadata"])}
    store_previous_id(renamed)
    renamed["metadata"]["name"] = "p-db"
    assert resolve_vars([renamed], VARS[:1]) == {"DB_HOST": "p-db"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(A)", 1),
        ("x$(A)y", "x1y"),
        ("$(F)", 1.5),
        ("$(B)-$(F)-$(G)", "true-1.5-2"),
        ("$$(A)", "$(A)"),
        ("$(MISSING)", "$(MISSING)"),
        ("$(M)", "$(M)"),
        ("tail $", "tail $"),
        ("$(A", "$(A"),
        ("$x", "$x"),
    ],
)
def test_expand(text: str, expected: Any) -> None:
    assert expand(text, {"A": 1, "B": True, "F": 1.5, "G": 2.0, "M": {"k": "v"}}) == expected


def test_lists_must_hold_strings() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"args": [1]}]},
    }
    with pytest.raises(VarError, match="expected a string"):
        substitute_vars([pod], {"A": "x"})


def test_builtin_table() -> None:
    specs = builtin_var_references()
    assert len(specs) == 72
    paths = {(s.gvk.kind, s.path) for s in specs}
    assert ("CronJob", "spec/jobTemplate/spec/template/volumes/nfs/server") in paths
    assert ("StatefulSet", "spec/volumeClaimTemplates/spec/nfs/server") in paths
    assert ("Deployment", "spec/template/metadata/annotations") in paths
    assert ("", "metadata/labels") in paths
