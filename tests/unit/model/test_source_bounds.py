"""YAML files are measured before they are built: aliases, nesting and cycles are bounded."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hakobu.model.source import BoundsError, SourceError, load_documents
from hakobu.model.yamlbounds import MAX_DEPTH, MAX_NODES, node_budget
from hakobu.render.kustomize.loader import load_json, load_objects, load_value

FILE = Path("apps/web/config.yaml")


def laughs(levels: int = 9, key: str = "data") -> str:
    """The classic: each line repeats the one before nine times."""
    text = f"{key}:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    previous = "a"
    for name in "bcdefghijklmnop"[: levels - 1]:
        text += f"  {name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    return text


def nested_flow(depth: int) -> str:
    return "a: " + "[" * depth + "]" * depth + "\n"


def nested_block(depth: int) -> str:
    return "".join("  " * level + f"k{level}:\n" for level in range(depth)) + "  " * depth + "x\n"


def test_billion_laughs_is_refused_at_the_alias_that_passes_the_budget() -> None:
    start = time.monotonic()
    with pytest.raises(BoundsError) as refused:
        load_documents(FILE, laughs())
    assert time.monotonic() - start < 1
    error = refused.value
    assert error.line == 6  # e: the first line whose aliases pass the budget
    assert error.field == ("data", "e", 1)
    assert f"past {node_budget(len(laughs()))} YAML nodes (at *d)" in error.message
    assert error.hint is not None and "alias" in error.hint


def test_the_budget_counts_every_document_of_a_file() -> None:
    # Each document alone fits; together they stand for more than the file may.
    one = "a: &a [" + ", ".join(["x"] * 100) + "]\nb: [" + ", ".join(["*a"] * 40) + "]\n"
    assert len(load_documents(FILE, one)) == 1
    several = "---\n".join([one] * 10)
    with pytest.raises(BoundsError, match="aliases expand this file past"):
        load_documents(FILE, several)


def test_aliases_of_honest_size_still_load() -> None:
    text = "defaults: &d {cpu: 1, memory: 2Gi}\n" + "".join(
        f"app{n}: {{<<: *d, name: app{n}}}\nlimits{n}: *d\n" for n in range(200)
    )
    (document,) = load_documents(FILE, text)
    assert document.data["app7"] == {"cpu": 1, "memory": "2Gi", "name": "app7"}
    assert document.data["limits199"] == {"cpu": 1, "memory": "2Gi"}


def test_a_file_of_more_nodes_than_any_render_holds_is_refused() -> None:
    text = "[" + ",".join(["1"] * (MAX_NODES + 1)) + "]\n"
    with pytest.raises(BoundsError, match=f"holds more than {MAX_NODES} YAML nodes") as refused:
        load_documents(FILE, text)
    assert refused.value.hint == "split it into several smaller files"


@pytest.mark.parametrize("text", [nested_flow(MAX_DEPTH), nested_block(MAX_DEPTH)])
def test_nesting_past_the_bound_is_refused_with_its_line(text: str) -> None:
    with pytest.raises(BoundsError, match=f"nested more than {MAX_DEPTH} levels deep") as refused:
        load_documents(FILE, text)
    assert refused.value.line == (1 if text.startswith("a: [") else MAX_DEPTH)


@pytest.mark.parametrize("text", [nested_flow(MAX_DEPTH - 2), nested_block(MAX_DEPTH - 2)])
def test_nesting_up_to_the_bound_loads(text: str) -> None:
    assert load_documents(FILE, text)


def test_nesting_built_from_aliases_is_refused() -> None:
    # Neither anchor alone nests deeply; the alias puts one inside the other.
    inner = "[" * 60 + "]" * 60
    text = f"a: &a {inner}\nb: {'[' * 60}*a{']' * 60}\n"
    with pytest.raises(BoundsError, match="nested more than") as refused:
        load_documents(FILE, text)
    assert refused.value.line == 2


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [("a: &a [1, *a]\n", 1, ("a", 1)), ("x: 1\nm: &m\n  self: *m\n", 3, ("m", "self"))],
)
def test_an_alias_inside_its_own_anchor_is_refused(
    text: str, line: int, field: tuple[str | int, ...]
) -> None:
    with pytest.raises(SourceError, match="refers to a node that contains it") as refused:
        load_documents(FILE, text)
    assert (refused.value.line, refused.value.field) == (line, field)


def test_kustomize_resources_are_measured_too() -> None:
    resource = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n" + laughs()
    with pytest.raises(BoundsError, match=r"x\.yaml:9: data\.e\[1\]: aliases expand"):
        load_objects(Path("x.yaml"), resource.encode())
    with pytest.raises(BoundsError, match="nested more than"):
        load_objects(Path("x.yaml"), nested_flow(MAX_DEPTH + 50).encode())
    with pytest.raises(BoundsError, match="refers to a node that contains it"):
        load_objects(Path("x.yaml"), b"kind: A\nmetadata: &m {name: x, m: *m}\n")


def test_patches_in_yaml_and_json_are_measured() -> None:
    with pytest.raises(BoundsError, match="aliases expand"):
        load_value(Path("p.yaml"), "- " + laughs().replace("\n", "\n  "))
    with pytest.raises(BoundsError, match="nested more than"):
        load_json(Path("p.json"), "[" * 5000 + "]" * 5000)
    with pytest.raises(BoundsError, match="nested more than"):
        load_json(Path("p.json"), "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert load_json(Path("p.json"), '[{"op": "add", "path": "/a", "value": [[1]]}]')


def test_the_budget_grows_with_the_file_up_to_a_cap() -> None:
    assert node_budget(0) < node_budget(10_000) < node_budget(10**6) == MAX_NODES
