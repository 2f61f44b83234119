"""Generated kustomize trees, built by kustomize and by hakobu: the output must be identical.

Hypothesis draws a base of Deployments, Services and ConfigMaps that refer to each other,
and an overlay that combines namespace, prefix/suffix, labels, annotations, images,
replicas, generators (with behaviors) and patches at random. Every drawn tree is written
out and built by both; the examples of one run are batched into one kustomize process per
tree, so the test stays quick.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hakobu.render.kustomize.build import build
from hakobu.render.yamlout import dump_documents

NAMES = st.sampled_from(["web", "api", "worker", "cache"])
WORDS = st.sampled_from(["a", "b", "blue", "on", "yes", "1.0", "0755", "x-y", "team/one"])


@st.composite
def services(draw: st.DrawFn) -> list[str]:
    return sorted(draw(st.sets(NAMES, min_size=1, max_size=4)))


def _base(names: list[str], replicas: dict[str, int]) -> dict[str, str]:
    files = {}
    resources = []
    for name in names:
        deployment = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {
                "replicas": replicas[name],
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "containers": [
                            {
                                "name": "main",
                                "image": f"registry.example.com/{name}:1",
                                "envFrom": [{"configMapRef": {"name": f"{name}-settings"}}],
                                "env": [
                                    {
                                        "name": "LEVEL",
                                        "valueFrom": {
                                            "configMapKeyRef": {
                                                "name": f"{name}-settings",
                                                "key": "level",
                                            }
                                        },
                                    }
                                ],
                            }
                        ],
                        "volumes": [{"name": "cfg", "configMap": {"name": f"{name}-settings"}}],
                    },
                },
            },
        }
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
        }
        files[f"{name}.yaml"] = yaml.safe_dump_all([deployment, service], sort_keys=False)
        resources.append(f"{name}.yaml")
    generators = [
        {"name": f"{name}-settings", "literals": [f"level=info-{name}"]} for name in names
    ]
    files["kustomization.yaml"] = yaml.safe_dump(
        {"resources": resources, "configMapGenerator": generators}, sort_keys=False
    )
    return files


@st.composite
def trees(draw: st.DrawFn) -> dict[str, str]:
    names = draw(services())
    replicas = {name: draw(st.integers(1, 5)) for name in names}
    files = {f"base/{k}": v for k, v in _base(names, replicas).items()}
    overlay: dict[str, Any] = {"resources": ["../base"]}
    if draw(st.booleans()):
        overlay["namespace"] = draw(st.sampled_from(["prod", "staging", "team-a"]))
    if draw(st.booleans()):
        overlay["namePrefix"] = draw(st.sampled_from(["p-", "eu-", "x"]))
    if draw(st.booleans()):
        overlay["nameSuffix"] = draw(st.sampled_from(["-v2", "-b"]))
    if draw(st.booleans()):
        overlay["labels"] = [
            {
                "pairs": {"tier": draw(WORDS)},
                "includeSelectors": draw(st.booleans()),
                "includeTemplates": draw(st.booleans()),
            }
        ]
    if draw(st.booleans()):
        overlay["commonAnnotations"] = {"owner": draw(WORDS)}
    chosen = draw(st.lists(st.sampled_from(names), unique=True))
    if chosen:
        overlay["images"] = [
            {"name": f"registry.example.com/{name}", "newTag": draw(st.sampled_from(["2", "v3"]))}
            for name in chosen
        ]
    scaled = draw(st.lists(st.sampled_from(names), unique=True))
    if scaled:
        overlay["replicas"] = [{"name": name, "count": draw(st.integers(0, 9))} for name in scaled]
    merged = draw(st.lists(st.sampled_from(names), unique=True))
    if merged:
        overlay["configMapGenerator"] = [
            {
                "name": f"{name}-settings",
                "behavior": draw(st.sampled_from(["merge", "replace"])),
                "literals": [f"extra={draw(WORDS)}"],
            }
            for name in merged
        ]
    if draw(st.booleans()):
        overlay["patches"] = [
            {
                "target": {"kind": "Deployment"},
                "patch": yaml.safe_dump(
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "metadata": {"name": "any"},
                        "spec": {
                            "template": {
                                "spec": {
                                    "containers": [
                                        {
                                            "name": "main",
                                            "resources": {"limits": {"memory": "256Mi"}},
                                        }
                                    ]
                                }
                            }
                        },
                    }
                ),
            }
        ]
    if draw(st.booleans()):
        overlay.setdefault("patches", []).append(
            {
                "target": {"kind": "Service"},
                "patch": yaml.safe_dump(
                    [{"op": "replace", "path": "/spec/ports/0/port", "value": 8080}]
                ),
            }
        )
    files["overlay/kustomization.yaml"] = yaml.safe_dump(overlay, sort_keys=False)
    return files


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(tree=trees())
def test_generated_trees_build_like_kustomize(tree: dict[str, str], kustomize_bin: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for relative, content in tree.items():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(content)
        expected = subprocess.run(
            [str(kustomize_bin), "build", str(root / "overlay")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert dump_documents(build(root / "overlay")) == expected
