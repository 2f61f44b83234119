"""Strategic merge patches: table cases, agreement with kustomize, and properties."""

from __future__ import annotations

import copy
import random
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hakobu.render.patch import PatchError, strategic_merge
from hakobu.render.patch.schema import schema_for_type

Obj = dict[str, Any]


def deployment(name: str, pod_spec: Obj, **meta: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, **meta},
        "spec": {"template": {"spec": pod_spec}},
    }


def custom(name: str, spec: Obj) -> Obj:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": spec,
    }


def service(name: str, ports: list[Obj]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"ports": ports},
    }


# (id, target, patch, expected result). Each case is also built by the real kustomize
# (test_kustomize_agrees_with_table), so the expectations are kustomize's behaviour.
CASES: list[tuple[str, Obj, Obj, Obj | None]] = [
    (
        "scalar-replaced",
        deployment("scalar-replaced", {"containers": [{"name": "a", "image": "a:1"}]}),
        {
            "spec": {
                "replicas": 3,
                "template": {"spec": {"containers": [{"name": "a", "image": "a:2"}]}},
            }
        },
        {
            **deployment("scalar-replaced", {"containers": [{"name": "a", "image": "a:2"}]}),
            "spec": {
                "replicas": 3,
                "template": {"spec": {"containers": [{"name": "a", "image": "a:2"}]}},
            },
        },
    ),
    (
        "null-deletes-field",
        deployment("null-deletes-field", {"hostNetwork": True, "dnsPolicy": "Default"}),
        {"spec": {"template": {"spec": {"hostNetwork": None, "absent": None}}}},
        deployment("null-deletes-field", {"dnsPolicy": "Default"}),
    ),
    (
        "map-delete-directive",
        deployment("map-delete-directive", {"securityContext": {"runAsUser": 1}, "x": 1}),
        {"spec": {"template": {"spec": {"securityContext": {"$patch": "delete"}}}}},
        deployment("map-delete-directive", {"x": 1}),
    ),
    (
        "map-replace-directive",
        deployment("map-replace-directive", {}, labels={"a": "1", "b": "2"}),
        {"metadata": {"labels": {"$patch": "replace", "c": "3"}}},
        deployment("map-replace-directive", {}, labels={"c": "3"}),
    ),
    (
        "map-merge-directive-is-default",
        deployment("map-merge-directive-is-default", {}, labels={"a": "1"}),
        {"metadata": {"labels": {"$patch": "merge", "b": "2"}}},
        deployment("map-merge-directive-is-default", {}, labels={"a": "1", "b": "2"}),
    ),
    (
        "object-deleted",
        deployment("object-deleted", {}),
        {"$patch": "delete"},
        None,
    ),
    (
        "containers-merged-by-name-patch-first",
        deployment(
            "containers-merged-by-name-patch-first",
            {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]},
        ),
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [{"name": "c", "image": "c:1"}, {"name": "b", "image": "b:2"}]
                    }
                }
            }
        },
        deployment(
            "containers-merged-by-name-patch-first",
            {
                "containers": [
                    {"name": "c", "image": "c:1"},
                    {"name": "b", "image": "b:2"},
                    {"name": "a", "image": "a:1"},
                ]
            },
        ),
    ),
    (
        "container-deleted",
        deployment("container-deleted", {"containers": [{"name": "a"}, {"name": "b"}]}),
        {"spec": {"template": {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}}},
        deployment("container-deleted", {"containers": [{"name": "b"}]}),
    ),
    (
        "container-replace-directive-has-no-effect",
        deployment(
            "container-replace-directive-has-no-effect",
            {"containers": [{"name": "a", "image": "a:1", "args": ["x"]}]},
        ),
        {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "a", "image": "a:2", "$patch": "replace"}]}
                }
            }
        },
        deployment(
            "container-replace-directive-has-no-effect",
            {"containers": [{"name": "a", "image": "a:1", "args": ["x"]}]},
        ),
    ),
    (
        "env-and-mounts-merged",
        deployment(
            "env-and-mounts-merged",
            {
                "containers": [
                    {
                        "name": "a",
                        "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}],
                        "volumeMounts": [{"name": "v", "mountPath": "/v"}],
                    }
                ]
            },
        ),
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "a",
                                "env": [
                                    {"name": "Y", "value": "3"},
                                    {"name": "X", "$patch": "delete"},
                                ],
                                "volumeMounts": [
                                    {"name": "w", "mountPath": "/v", "readOnly": True}
                                ],
                            }
                        ]
                    }
                }
            }
        },
        deployment(
            "env-and-mounts-merged",
            {
                "containers": [
                    {
                        "name": "a",
                        "env": [{"name": "Y", "value": "3"}],
                        "volumeMounts": [{"name": "w", "mountPath": "/v", "readOnly": True}],
                    }
                ]
            },
        ),
    ),
    (
        "lists-without-merge-key-replaced",
        deployment(
            "lists-without-merge-key-replaced",
            {
                "containers": [{"name": "a", "args": ["1", "2"]}],
                "tolerations": [{"key": "x", "operator": "Exists"}],
            },
        ),
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [{"name": "a", "args": ["3"]}],
                        "tolerations": [{"key": "y", "operator": "Exists"}],
                    }
                }
            }
        },
        deployment(
            "lists-without-merge-key-replaced",
            {
                "containers": [{"name": "a", "args": ["3"]}],
                "tolerations": [{"key": "y", "operator": "Exists"}],
            },
        ),
    ),
    (
        "finalizers-unioned",
        deployment("finalizers-unioned", {}, finalizers=["a", "b"]),
        {"metadata": {"finalizers": ["c", "a"]}},
        deployment("finalizers-unioned", {}, finalizers=["c", "a", "b"]),
    ),
    (
        "list-replace-directive",
        deployment("list-replace-directive", {"containers": [{"name": "a"}, {"name": "b"}]}),
        {"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "c"}]}}}},
        deployment("list-replace-directive", {"containers": [{"name": "c"}]}),
    ),
    (
        "list-delete-directive",
        deployment("list-delete-directive", {"volumes": [{"name": "v"}], "x": 1}),
        {"spec": {"template": {"spec": {"volumes": [{"$patch": "delete"}]}}}},
        deployment("list-delete-directive", {"x": 1}),
    ),
    (
        "other-directives-are-copied",
        deployment("other-directives-are-copied", {"containers": [{"name": "a"}, {"name": "b"}]}),
        {
            "spec": {
                "template": {
                    "spec": {
                        "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                        "$retainKeys": ["containers"],
                    }
                }
            }
        },
        deployment(
            "other-directives-are-copied",
            {
                "containers": [{"name": "a"}, {"name": "b"}],
                "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                "$retainKeys": ["containers"],
            },
        ),
    ),
    (
        "volumes-merged-by-name",
        deployment(
            "volumes-merged-by-name",
            {"volumes": [{"name": "a", "emptyDir": {}}, {"name": "b", "configMap": {"name": "x"}}]},
        ),
        {"spec": {"template": {"spec": {"volumes": [{"name": "b", "configMap": {"name": "y"}}]}}}},
        deployment(
            "volumes-merged-by-name",
            {"volumes": [{"name": "b", "configMap": {"name": "y"}}, {"name": "a", "emptyDir": {}}]},
        ),
    ),
    (
        "container-port-keys-include-protocol",
        deployment(
            "container-port-keys-include-protocol",
            {
                "containers": [
                    {
                        "name": "a",
                        "ports": [{"containerPort": 80}, {"containerPort": 81, "protocol": "UDP"}],
                    }
                ]
            },
        ),
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "a",
                                "ports": [
                                    {"containerPort": 81, "hostPort": 9},
                                    {"containerPort": 82},
                                ],
                            }
                        ]
                    }
                }
            }
        },
        deployment(
            "container-port-keys-include-protocol",
            {
                "containers": [
                    {
                        "name": "a",
                        "ports": [
                            {"containerPort": 82},
                            {"containerPort": 80},
                            {"containerPort": 81, "protocol": "UDP"},
                        ],
                    }
                ]
            },
        ),
    ),
    (
        "service-ports-by-port-and-protocol",
        service(
            "service-ports-by-port-and-protocol",
            [
                {"name": "http", "port": 80, "protocol": "TCP"},
                {"name": "dns", "port": 53, "protocol": "UDP"},
            ],
        ),
        {
            "spec": {
                "ports": [
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                    {"port": 80, "protocol": "TCP", "targetPort": 8080},
                ]
            }
        },
        service(
            "service-ports-by-port-and-protocol",
            [
                {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                {"name": "dns", "port": 53, "protocol": "UDP"},
            ],
        ),
    ),
    (
        "null-in-target-kept",
        {**deployment("null-in-target-kept", {}), "status": None},
        {"spec": {"replicas": 1}},
        {
            **deployment("null-in-target-kept", {}),
            "status": None,
            "spec": {"replicas": 1, "template": {"spec": {}}},
        },
    ),
    (
        "custom-kind-lists-replaced-maps-merged",
        custom(
            "custom-kind-lists-replaced-maps-merged",
            {"items": [{"name": "a", "v": 1}, {"name": "b", "v": 2}], "m": {"x": 1}},
        ),
        {"spec": {"items": [{"name": "b", "v": 3}], "m": {"y": 2}}},
        custom(
            "custom-kind-lists-replaced-maps-merged",
            {"items": [{"name": "b", "v": 3}], "m": {"x": 1, "y": 2}},
        ),
    ),
    (
        "custom-kind-containers-replaced",
        custom(
            "custom-kind-containers-replaced",
            {
                "template": {
                    "spec": {
                        "containers": [{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]
                    }
                }
            },
        ),
        {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "a2"}]}}}},
        custom(
            "custom-kind-containers-replaced",
            {"template": {"spec": {"containers": [{"name": "a", "image": "a2"}]}}},
        ),
    ),
    (
        "embedded-object-brings-its-schema",
        custom(
            "embedded-object-brings-its-schema",
            {"pod": {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "a"}]}}},
        ),
        {"spec": {"pod": {"spec": {"containers": [{"name": "b"}]}}}},
        custom(
            "embedded-object-brings-its-schema",
            {
                "pod": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "spec": {"containers": [{"name": "b"}, {"name": "a"}]},
                }
            },
        ),
    ),
    (
        "new-subtree-from-patch",
        deployment("new-subtree-from-patch", {}),
        {
            "spec": {
                "template": {
                    "spec": {
                        "initContainers": [{"name": "i", "env": [{"name": "A", "value": "1"}]}],
                        "nodeSelector": {"k": "v"},
                    }
                }
            }
        },
        deployment(
            "new-subtree-from-patch",
            {
                "initContainers": [{"name": "i", "env": [{"name": "A", "value": "1"}]}],
                "nodeSelector": {"k": "v"},
            },
        ),
    ),
    (
        "nested-maps-merged",
        deployment(
            "nested-maps-merged",
            {"containers": [{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]},
        ),
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "a",
                                "resources": {
                                    "limits": {"memory": "2Gi"},
                                    "requests": {"cpu": "100m"},
                                },
                            }
                        ]
                    }
                }
            }
        },
        deployment(
            "nested-maps-merged",
            {
                "containers": [
                    {
                        "name": "a",
                        "resources": {
                            "limits": {"cpu": "1", "memory": "2Gi"},
                            "requests": {"cpu": "100m"},
                        },
                    }
                ]
            },
        ),
    ),
    (
        "image-pull-secrets-by-name",
        deployment("image-pull-secrets-by-name", {"imagePullSecrets": [{"name": "a"}]}),
        {"spec": {"template": {"spec": {"imagePullSecrets": [{"name": "b"}]}}}},
        deployment(
            "image-pull-secrets-by-name", {"imagePullSecrets": [{"name": "b"}, {"name": "a"}]}
        ),
    ),
    (
        "empty-patch",
        deployment("empty-patch", {"containers": [{"name": "a", "ports": [{"containerPort": 1}]}]}),
        {},
        deployment("empty-patch", {"containers": [{"name": "a", "ports": [{"containerPort": 1}]}]}),
    ),
]


@pytest.mark.parametrize(
    ("target", "patch", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_table(target: Obj, patch: Obj, expected: Obj | None) -> None:
    assert strategic_merge(target, with_identity(target, patch)) == expected


def with_identity(target: Obj, patch: Obj) -> Obj:
    """A patch as kustomize needs it: naming its target."""
    meta = {"name": target["metadata"]["name"], **patch.get("metadata", {})}
    return {"apiVersion": target["apiVersion"], "kind": target["kind"], **patch, "metadata": meta}


def kustomize_patch_all(
    kustomize: Path, tmp: Path, pairs: Iterable[tuple[Obj, Obj]]
) -> dict[str, Obj]:
    """Build every (target, patch) pair in one kustomize run; the results by name."""
    resources, patches = [], []
    for index, (target, patch) in enumerate(pairs):
        resources.append(target)
        patches.append({"path": f"patch{index}.yaml"})
        (tmp / f"patch{index}.yaml").write_text(yaml.safe_dump(patch))
    (tmp / "resources.yaml").write_text(yaml.safe_dump_all(resources))
    (tmp / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": ["resources.yaml"], "patches": patches})
    )
    built = subprocess.run(
        [str(kustomize), "build", str(tmp)], capture_output=True, text=True, check=True
    )
    return {obj["metadata"]["name"]: obj for obj in yaml.safe_load_all(built.stdout) if obj}


def test_kustomize_agrees_with_table(kustomize_bin: Path, tmp_path: Path) -> None:
    pairs = [(target, with_identity(target, patch)) for _, target, patch, _ in CASES]
    built = kustomize_patch_all(kustomize_bin, tmp_path, pairs)
    for name, _, _, expected in CASES:
        assert built.get(name) == expected, name


# --- generated cases, compared with kustomize -------------------------------------------

NAMES = ["a", "b", "c", "d"]


def random_container(rng: random.Random, name: str | None) -> Obj:
    container: Obj = {} if name is None else {"name": name}
    if rng.random() < 0.6:
        container["image"] = rng.choice(["x:1", "x:2", "y:1"])
    if rng.random() < 0.4:
        container["env"] = [
            {"name": n, "value": str(rng.randint(0, 3))}
            for n in rng.sample(["A", "B", "C"], rng.randint(1, 3))
        ]
    if rng.random() < 0.3:
        container["ports"] = [
            {"containerPort": p, **({"protocol": "UDP"} if rng.random() < 0.3 else {})}
            for p in rng.sample([80, 81, 82], rng.randint(1, 2))
        ]
    if rng.random() < 0.3:
        container["args"] = [rng.choice(["-v", "-q", "--x"])]
    if rng.random() < 0.2:
        container["resources"] = {"limits": {"cpu": rng.choice(["1", "2"])}}
    if rng.random() < 0.1:
        container["$patch"] = "delete"
    return container


def random_pod_spec(rng: random.Random, *, patch: bool) -> Obj:
    spec: Obj = {}
    names = rng.sample(NAMES, rng.randint(0 if patch else 1, 3))
    if names:
        spec["containers"] = [random_container(rng, n) for n in names]
        if not patch:
            for c in spec["containers"]:
                c.pop("$patch", None)
    if rng.random() < 0.3:
        spec["volumes"] = [{"name": n, "emptyDir": {}} for n in rng.sample(NAMES, 2)]
    if rng.random() < 0.3:
        spec["nodeSelector"] = {rng.choice("kl"): rng.choice(["v", None] if patch else ["v"])}
    if patch and rng.random() < 0.1:
        spec["tolerations"] = [{"key": "t", "operator": "Exists"}]
    return spec


def random_pair(rng: random.Random, name: str) -> tuple[Obj, Obj]:
    target = deployment(name, random_pod_spec(rng, patch=False), finalizers=["f1"])
    patch = with_identity(
        target, {"spec": {"template": {"spec": random_pod_spec(rng, patch=True)}}}
    )
    if rng.random() < 0.3:
        patch["metadata"]["finalizers"] = rng.sample(["f1", "f2", "f3"], 2)
    if rng.random() < 0.2:
        patch["metadata"]["labels"] = {"l": "1"}
    return target, patch


def test_generated_patches_match_kustomize(kustomize_bin: Path, tmp_path: Path) -> None:
    rng = random.Random(20240611)  # noqa: S311 - reproducible cases, not secrets
    pairs = [random_pair(rng, f"gen{i}") for i in range(60)]
    built = kustomize_patch_all(kustomize_bin, tmp_path, copy.deepcopy(pairs))
    for target, patch in pairs:
        name = target["metadata"]["name"]
        assert strategic_merge(target, patch) == built.get(name), (target, patch)


# --- errors -----------------------------------------------------------------------------


def test_unknown_directive_is_reported() -> None:
    target = deployment("web", {}, labels={"a": "1"})
    with pytest.raises(PatchError, match=r"Deployment/web: metadata\.labels: unknown \$patch"):
        strategic_merge(target, {"metadata": {"labels": {"$patch": "keep"}}})


def test_shape_mismatch_is_reported() -> None:
    target = deployment("web", {"containers": [{"name": "a"}]})
    patch = {"spec": {"template": {"spec": {"containers": {"name": "a"}}}}}
    with pytest.raises(
        PatchError,
        match=r"containers: the object has a list here but the patch has a mapping",
    ):
        strategic_merge(target, patch)


def test_kustomize_also_rejects_these(kustomize_bin: Path, tmp_path: Path) -> None:
    target = deployment("web", {}, labels={"a": "1"})
    patch = with_identity(target, {"metadata": {"labels": {"$patch": "keep"}}})
    with pytest.raises(subprocess.CalledProcessError):
        kustomize_patch_all(kustomize_bin, tmp_path, [(target, patch)])


def test_patch_error_is_invalid_input() -> None:
    with pytest.raises(PatchError) as info:
        strategic_merge(deployment("web", {}), {"spec": {"$patch": 1}})
    assert info.value.exit_code == 2


# --- schema table -----------------------------------------------------------------------


def test_schema_table_has_kubernetes_merge_keys() -> None:
    pod = schema_for_type("v1", "Pod")
    assert pod is not None
    spec = pod.field("spec")
    assert spec is not None
    containers = spec.field("containers")
    assert containers is not None and containers.merges and containers.merge_keys == ("name",)
    container = containers.elements()
    assert container is not None
    ports = container.field("ports")
    assert ports is not None and ports.merge_keys == ("containerPort", "protocol")
    tolerations = spec.field("tolerations")
    assert tolerations is not None and not tolerations.merges
    assert schema_for_type("example.com/v1", "Widget") is None


# --- properties -------------------------------------------------------------------------

# Fields have a fixed shape by name (s*: scalar, l*: list, m*: map), as in real objects;
# null may appear anywhere.
scalars = st.one_of(st.booleans(), st.integers(-5, 5), st.text("abc", max_size=3))


def maps(depth: int) -> st.SearchStrategy[Obj]:
    fields: dict[str, st.SearchStrategy[Any]] = {
        "s1": scalars,
        "s2": scalars,
        "l1": st.lists(
            st.one_of(scalars, st.dictionaries(st.sampled_from("xy"), scalars)), max_size=3
        ),
    }
    if depth > 0:
        fields["m1"] = maps(depth - 1)
        fields["m2"] = maps(depth - 1)
    return st.fixed_dictionaries(
        {}, optional={name: st.one_of(st.none(), value) for name, value in fields.items()}
    )


specs = maps(3)


def widget(spec: Obj) -> Obj:
    return custom("w", spec)


@given(specs)
def test_empty_patch_is_identity(spec: Obj) -> None:
    target = widget(spec)
    assert strategic_merge(target, {}) == target


@given(specs, specs)
def test_inputs_are_not_modified(spec: Obj, patch_spec: Obj) -> None:
    target, patch = widget(spec), {"spec": patch_spec}
    before = copy.deepcopy((target, patch))
    strategic_merge(target, patch)
    assert (target, patch) == before


@given(specs, specs)
@settings(max_examples=200)
def test_merging_twice_equals_merging_once(spec: Obj, patch_spec: Obj) -> None:
    patch = {"spec": patch_spec}
    once = strategic_merge(widget(spec), patch)
    assert once is not None
    assert strategic_merge(once, patch) == once


def leaves(data: Any, path: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], Any]]:
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from leaves(value, (*path, key))
    else:
        yield path, data


def lookup(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


@given(specs, specs)
def test_patch_values_win(spec: Obj, patch_spec: Obj) -> None:
    merged = strategic_merge(widget(spec), {"spec": patch_spec})
    assert merged is not None
    for path, value in leaves(patch_spec):
        if value is None or value == {}:
            continue
        assert lookup(merged["spec"], path) == value


@given(st.lists(st.sampled_from(NAMES), unique=True, min_size=1), st.sampled_from(NAMES))
def test_container_patch_keeps_every_container(names: list[str], patched: str) -> None:
    target = deployment("web", {"containers": [{"name": n, "image": n} for n in names]})
    patch = {"spec": {"template": {"spec": {"containers": [{"name": patched, "image": "new"}]}}}}
    merged = strategic_merge(target, patch)
    assert merged is not None
    containers = merged["spec"]["template"]["spec"]["containers"]
    assert sorted(c["name"] for c in containers) == sorted({*names, patched})
    assert containers[0] == {"name": patched, "image": "new"}
