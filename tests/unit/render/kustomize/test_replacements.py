"""replacements: unit cases and the real kustomize as oracle."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.render.kustomize.replacements import (
    ReplacementError,
    apply_replacements,
    lookup,
    matches_selector,
    split_path,
)
from hakobu.render.kustomize.resource import store_previous_id

RESOURCES: list[dict[str, Any]] = [
    {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop"},
        "data": {
            "host": "db.internal",
            "replicas": "3",
            "image": "registry.local/web:1.2.3",
            "config.json": '{"db": {"host": "old", "port": 5432}, "flags": [1, 2]}',
            "pretty.json": '{\n  "z": 1,\n  "a": {"b": "x"}\n}',
        },
    },
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web", "tier": "fe"}},
        "spec": {
            "replicas": 1,
            "template": {
                "metadata": {"annotations": {"a": "b"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1.0",
                            "env": [{"name": "HOST", "value": "x"}, {"name": "PORT", "value": "1"}],
                            "args": ["--db=placeholder", "--v=2"],
                        },
                        {"name": "webhook", "image": "hook:1"},
                        {"name": "sidecar", "image": "side:1"},
                    ]
                },
            },
        },
    },
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "worker", "namespace": "shop", "labels": {"app": "worker"}},
        "spec": {
            "replicas": 2,
            "template": {"spec": {"containers": [{"name": "worker", "image": "w:1"}]}},
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop", "annotations": {"expose": "yes"}},
        "spec": {"ports": [{"port": 80, "targetPort": "http"}]},
    },
]

REPLACEMENTS: list[dict[str, Any]] = [
    {
        "source": {"kind": "ConfigMap", "name": "settings", "fieldPath": "data.host"},
        "targets": [
            {
                "select": {"kind": "Deployment", "name": "web"},
                "fieldPaths": [
                    "spec.template.spec.containers.[name=web].env.[name=HOST].value",
                    "spec.template.metadata.annotations.db",
                ],
                "options": {"create": True},
            },
            {
                "select": {"kind": "Deployment"},
                "reject": [{"name": "worker"}],
                "fieldPaths": ["spec.template.spec.containers.[name=web].args.0"],
                "options": {"delimiter": "=", "index": 1},
            },
            {
                "select": {"kind": "ConfigMap"},
                "fieldPaths": ["data.config\\.json.db.host", "data.pretty\\.json.a.b"],
            },
        ],
    },
    {
        "source": {"kind": "ConfigMap", "fieldPath": "data.replicas"},
        "targets": [
            {"select": {"group": "apps", "kind": "Deploy.*"}, "fieldPaths": ["spec.replicas"]}
        ],
    },
    {
        "source": {
            "kind": "ConfigMap",
            "fieldPath": "data.image",
            "options": {"delimiter": ":", "index": 1},
        },
        "targets": [
            {
                "select": {"kind": "Deployment", "labelSelector": "app in (web), tier!=be"},
                "fieldPaths": ["spec.template.spec.containers.*.image"],
                "options": {"delimiter": ":", "index": 1},
            }
        ],
    },
    {
        "source": {"kind": "Deployment", "name": "worker", "fieldPath": "spec.replicas"},
        "targets": [
            {
                "select": {"kind": "Service", "annotationSelector": "expose=yes"},
                "fieldPaths": ["spec.ports.0.targetPort", "metadata.labels.replicas"],
                "options": {"create": True},
            }
        ],
    },
    {
        "source": {"kind": "Service", "name": "web", "fieldPath": "spec.ports.[port=80]"},
        "targets": [
            {
                "select": {"kind": "Deployment", "name": "worker"},
                "fieldPaths": ["spec.template.spec.ports"],
                "options": {"create": True},
            }
        ],
    },
    {
        "sourceValue": "fixed",
        "targets": [
            {
                "select": {"kind": "Deployment", "name": "worker"},
                "fieldPaths": ["spec.template.spec.containers.[name=extra].image"],
                "options": {"create": True},
            }
        ],
    },
]


def _by_id(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def _kustomize(
    binary: Path, tmp_path: Path, replacements: list[dict[str, Any]]
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "resources.yaml").write_text(yaml.safe_dump_all(RESOURCES))
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": ["resources.yaml"], "replacements": replacements})
    )
    return subprocess.run(
        [str(binary), "build", str(tmp_path)], capture_output=True, text=True, check=False
    )


def test_matches_kustomize(kustomize_bin: Path, tmp_path: Path) -> None:
    run = _kustomize(kustomize_bin, tmp_path, REPLACEMENTS)
    assert run.returncode == 0, run.stderr
    expected = _by_id(list(yaml.safe_load_all(run.stdout)))
    ours = _by_id(apply_replacements(RESOURCES, REPLACEMENTS))
    assert ours == expected


def test_input_objects_are_not_changed() -> None:
    before = yaml.safe_dump_all(RESOURCES)
    apply_replacements(RESOURCES, REPLACEMENTS)
    assert yaml.safe_dump_all(RESOURCES) == before


@pytest.mark.parametrize(
    ("replacement", "fragment"),
    [
        (
            {
                "source": {"kind": "ConfigMap", "name": "nope"},
                "targets": [{"select": {"kind": "Service"}}],
            },
            "nothing selected",
        ),
        (
            {"source": {"kind": "Deployment"}, "targets": [{"select": {"kind": "Service"}}]},
            "selects 2 objects",
        ),
        (
            {
                "source": {"kind": "Service", "fieldPath": "spec.missing"},
                "targets": [{"select": {"kind": "Service"}}],
            },
            "fieldPath `spec.missing` is missing",
        ),
        (
            {
                "source": {"kind": "Service"},
                "targets": [{"select": {"kind": "Service"}, "fieldPaths": ["spec.nothere"]}],
            },
            "unable to find field 'spec.nothere'",
        ),
        (
            {"source": {"kind": "Service"}, "targets": [{"fieldPaths": ["a"]}]},
            "must specify resources to select",
        ),
        ({"source": {"kind": "Service"}}, "must specify a source and targets"),
        (
            {"source": {"kind": "Service"}, "sourceValue": "x", "targets": [{"select": {}}]},
            "mutually exclusive",
        ),
        (
            {
                "source": {
                    "kind": "Service",
                    "fieldPath": "metadata.name",
                    "options": {"delimiter": "-", "index": 3},
                },
                "targets": [{"select": {"kind": "Service"}}],
            },
            "out of bounds",
        ),
    ],
)
def test_errors_match_kustomize(
    kustomize_bin: Path, tmp_path: Path, replacement: dict[str, Any], fragment: str
) -> None:
    assert _kustomize(kustomize_bin, tmp_path, [replacement]).returncode != 0
    with pytest.raises(ReplacementError, match=r"replacements\[0\]") as caught:
        apply_replacements(RESOURCES, [replacement])
    assert fragment in str(caught.value)


def test_previous_names_still_select() -> None:
    renamed = [dict(o) for o in RESOURCES]
    service = {**renamed[3], "metadata": dict(renamed[3]["metadata"])}
    store_previous_id(service)
    service["metadata"]["name"] = "p-web"
    renamed[3] = service
    result = apply_replacements(
        renamed,
        [
            {
                "sourceValue": "8080",
                "targets": [
                    {
                        "select": {"kind": "Service", "name": "web"},
                        "fieldPaths": ["spec.ports.0.port"],
                    }
                ],
            }
        ],
    )
    assert result[3]["spec"]["ports"][0]["port"] == 8080


def test_split_path() -> None:
    assert split_path("a.b\\.c.[x.y].[name=a.b].0") == ["a", "b.c", "x.y", "[name=a.b]", "0"]
    assert split_path(".a.b") == ["a", "b"]


def test_lookup_uses_exact_element_matches() -> None:
    doc = {"l": [{"name": "webhook", "v": 1}, {"name": "web", "v": 2}], "s": ["a", "b"]}
    assert lookup(doc, ["l", "[name=web]", "v"]) == (True, 2)
    assert lookup(doc, ["s", "-"]) == (True, "b")
    assert lookup(doc, ["s", "5"]) == (False, None)


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("", {}, True),
        ("app=web", {"app": "web"}, True),
        ("app==web,tier", {"app": "web"}, False),
        ("!tier", {"app": "web"}, True),
        ("app notin (a, b)", {"app": "web"}, True),
        ("app in (a,web)", {"app": "web"}, True),
        ("app!=web", {}, True),
        ("n>3", {"n": "4"}, True),
        ("n<3", {"n": "4"}, False),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert matches_selector(selector, labels) is expected


def test_invalid_label_selector() -> None:
    with pytest.raises(ReplacementError, match="invalid selector"):
        matches_selector("a in b", {})
