"""JSON 6902 patches: table cases, agreement with kustomize, and properties."""

from __future__ import annotations

import contextlib
import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from hakobu.render.patch import PatchError, apply_json6902

Obj = dict[str, Any]
Ops = list[dict[str, Any]]


def deployment(name: str) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "annotations": {"a/b": "1", "c~d": "2"}},
        "spec": {
            "replicas": 1,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "a", "image": "a:1", "args": ["-a", "-b"]},
                        {"name": "b", "image": "b:1"},
                    ]
                }
            },
        },
    }


def changed(name: str, edit: Any) -> Obj:
    obj = deployment(name)
    edit(obj)
    return obj


def containers(obj: Obj) -> list[Obj]:
    result: list[Obj] = obj["spec"]["template"]["spec"]["containers"]
    return result


# (id, operations, expected result of patching deployment(id)). Each case is also built
# by the real kustomize (test_kustomize_agrees_with_table).
CASES: list[tuple[str, Ops, Any]] = [
    (
        "add-field",
        [{"op": "add", "path": "/spec/paused", "value": True}],
        lambda o: o["spec"].update(paused=True),
    ),
    (
        "add-replaces-existing",
        [{"op": "add", "path": "/spec/replicas", "value": 5}],
        lambda o: o["spec"].update(replicas=5),
    ),
    (
        "add-at-list-index",
        [{"op": "add", "path": "/spec/template/spec/containers/0/args/1", "value": "z"}],
        lambda o: containers(o)[0].update(args=["-a", "z", "-b"]),
    ),
    (
        "add-append-dash",
        [{"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "c"}}],
        lambda o: containers(o).append({"name": "c"}),
    ),
    (
        "add-negative-index",
        [{"op": "add", "path": "/spec/template/spec/containers/0/args/-1", "value": "z"}],
        lambda o: containers(o)[0].update(args=["-a", "-b", "z"]),
    ),
    (
        "add-without-value-writes-null",
        [{"op": "add", "path": "/spec/strategy"}],
        lambda o: o["spec"].update(strategy=None),
    ),
    (
        "escaped-keys",
        [
            {"op": "replace", "path": "/metadata/annotations/a~1b", "value": "3"},
            {"op": "remove", "path": "/metadata/annotations/c~0d"},
        ],
        lambda o: o["metadata"].update(annotations={"a/b": "3"}),
    ),
    (
        "remove-list-item",
        [{"op": "remove", "path": "/spec/template/spec/containers/0"}],
        lambda o: containers(o).pop(0),
    ),
    (
        "replace-missing-key-adds",
        [{"op": "replace", "path": "/spec/minReadySeconds", "value": 3}],
        lambda o: o["spec"].update(minReadySeconds=3),
    ),
    (
        "replace-list-item",
        [{"op": "replace", "path": "/spec/template/spec/containers/1/image", "value": "b:2"}],
        lambda o: containers(o)[1].update(image="b:2"),
    ),
    (
        "move",
        [{"op": "move", "from": "/spec/replicas", "path": "/spec/template/replicas"}],
        lambda o: o["spec"]["template"].update(replicas=o["spec"].pop("replicas")),
    ),
    (
        "copy",
        [{"op": "copy", "from": "/spec/template/spec/containers/1", "path": "/spec/x"}],
        lambda o: o["spec"].update(x={"name": "b", "image": "b:1"}),
    ),
    (
        "copy-missing-key-copies-null",
        [{"op": "copy", "from": "/spec/absent", "path": "/spec/x"}],
        lambda o: o["spec"].update(x=None),
    ),
    (
        "test-passes-then-applies",
        [
            {"op": "test", "path": "/spec/replicas", "value": 1.0},
            {"op": "test", "path": "/spec/absent", "value": None},
            {"op": "test", "path": "/spec/template/spec/containers/0/args", "value": ["-a", "-b"]},
            {"op": "replace", "path": "/spec/replicas", "value": 2},
        ],
        lambda o: o["spec"].update(replicas=2),
    ),
    (
        "path-without-leading-slash-drops-first-segment",
        [{"op": "add", "path": "spec/extra", "value": 1}],
        lambda o: o.update(extra=1),
    ),
]

# Operations kustomize refuses (the build fails); hakobu raises PatchError.
FAILING: list[tuple[str, Ops, str]] = [
    ("test-fails", [{"op": "test", "path": "/spec/replicas", "value": 2}], "test failed"),
    (
        "test-bool-is-not-number",
        [{"op": "test", "path": "/spec/replicas", "value": True}],
        "test failed",
    ),
    (
        "add-under-missing-parent",
        [{"op": "add", "path": "/spec/strategy/type", "value": "Recreate"}],
        "does not exist",
    ),
    ("remove-missing-key", [{"op": "remove", "path": "/spec/absent"}], "no field 'absent'"),
    (
        "index-out-of-range",
        [{"op": "replace", "path": "/spec/template/spec/containers/2", "value": {}}],
        "out of range",
    ),
    (
        "index-not-a-number",
        [{"op": "add", "path": "/spec/template/spec/containers/x", "value": {}}],
        "not a list index",
    ),
    ("unknown-op", [{"op": "merge", "path": "/spec", "value": {}}], "unknown op 'merge'"),
]


@pytest.mark.parametrize(("name", "ops", "edit"), CASES, ids=[c[0] for c in CASES])
def test_table(name: str, ops: Ops, edit: Any) -> None:
    assert apply_json6902(deployment(name), ops) == changed(name, edit)


@pytest.mark.parametrize(("name", "ops", "message"), FAILING, ids=[c[0] for c in FAILING])
def test_failures(name: str, ops: Ops, message: str) -> None:
    with pytest.raises(PatchError, match=message) as info:
        apply_json6902(deployment(name), ops)
    assert f"Deployment/{name}" in str(info.value)
    assert f"operation 0 ({ops[0]['op']}" in str(info.value)


def kustomize_build(kustomize: Path, tmp: Path, cases: list[tuple[str, Ops]]) -> dict[str, Obj]:
    """Patch deployment(name) with ops (written as YAML) for every case in one kustomize run."""
    (tmp / "resources.yaml").write_text(yaml.safe_dump_all([deployment(n) for n, _ in cases]))
    patches = [
        {"target": {"kind": "Deployment", "name": name}, "patch": yaml.safe_dump(ops)}
        for name, ops in cases
    ]
    (tmp / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": ["resources.yaml"], "patches": patches})
    )
    built = subprocess.run(
        [str(kustomize), "build", str(tmp)], capture_output=True, text=True, check=True
    )
    return {obj["metadata"]["name"]: obj for obj in yaml.safe_load_all(built.stdout) if obj}


def test_kustomize_agrees_with_table(kustomize_bin: Path, tmp_path: Path) -> None:
    built = kustomize_build(kustomize_bin, tmp_path, [(name, ops) for name, ops, _ in CASES])
    for name, _, edit in CASES:
        assert built[name] == changed(name, edit), name


@pytest.mark.parametrize("case", FAILING[:4], ids=[c[0] for c in FAILING[:4]])
def test_kustomize_refuses_failures(
    kustomize_bin: Path, tmp_path: Path, case: tuple[str, Ops, str]
) -> None:
    name, ops, _ = case
    with pytest.raises(subprocess.CalledProcessError):
        kustomize_build(kustomize_bin, tmp_path, [(name, ops)])


def test_operations_must_be_mappings() -> None:
    with pytest.raises(PatchError, match=r"operation 0 .* is not a mapping"):
        apply_json6902(deployment("web"), ["add"])  # type: ignore[list-item]


def test_replacing_the_object_by_a_list_is_refused() -> None:
    with pytest.raises(PatchError, match="replaced the object by a list"):
        apply_json6902(deployment("web"), [{"op": "replace", "path": "", "value": [1]}])


def test_replace_whole_document() -> None:
    assert apply_json6902(
        deployment("web"), [{"op": "replace", "path": "", "value": {"a": 1}}]
    ) == {"a": 1}


def test_failed_patch_leaves_target_unchanged() -> None:
    target = deployment("web")
    ops: Ops = [
        {"op": "remove", "path": "/spec/replicas"},
        {"op": "test", "path": "/x", "value": 1},
    ]
    with pytest.raises(PatchError, match="operation 1"):
        apply_json6902(target, ops)
    assert target == deployment("web")


# --- properties -------------------------------------------------------------------------

keys = st.text("ab/~c", min_size=1, max_size=4)
values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=3)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)),
    max_leaves=10,
)
documents = st.dictionaries(keys, values, max_size=5)


def pointer(*tokens: str | int) -> str:
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in tokens)


@given(documents, keys, values)
def test_add_then_remove_restores(document: Obj, key: str, value: Any) -> None:
    if key in document:
        return
    ops = [{"op": "add", "path": pointer(key), "value": value}]
    added = apply_json6902(document, ops)
    assert added[key] == value
    assert apply_json6902(added, [{"op": "remove", "path": pointer(key)}]) == document


@given(st.lists(values, max_size=5), st.data())
def test_list_insert_then_remove_restores(items: list[Any], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(items)))
    document = {"l": items}
    added = apply_json6902(document, [{"op": "add", "path": f"/l/{index}", "value": "new"}])
    assert added["l"][index] == "new"
    assert len(added["l"]) == len(items) + 1
    assert apply_json6902(added, [{"op": "remove", "path": f"/l/{index}"}]) == document


@given(documents)
def test_every_value_tests_equal_to_itself(document: Obj) -> None:
    ops = [
        {"op": "test", "path": pointer(k), "value": copy.deepcopy(v)} for k, v in document.items()
    ]
    assert apply_json6902(document, ops) == document


@given(documents, keys)
def test_copy_then_test(document: Obj, target_key: str) -> None:
    for key, value in document.items():
        ops = [
            {"op": "copy", "from": pointer(key), "path": pointer(target_key)},
            {"op": "test", "path": pointer(target_key), "value": value},
        ]
        assert apply_json6902(document, ops)[target_key] == value


@given(documents, st.lists(st.fixed_dictionaries({"op": st.just("add"), "path": keys})))
def test_input_never_modified(document: Obj, ops: Ops) -> None:
    before = copy.deepcopy(document)
    with contextlib.suppress(PatchError):
        apply_json6902(document, [{**op, "path": "/" + op["path"], "value": [1]} for op in ops])
    assert document == before
