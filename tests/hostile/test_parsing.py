"""Input files that would exhaust a render: aliases, nesting, size, special files, bad bytes."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from hakobu.model.files import MAX_FILE_BYTES
from hakobu.model.yamlbounds import MAX_DEPTH, MAX_NODES
from tests.hostile.conftest import PROJECT, Case

RESOURCE = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
KUSTOMIZATION = "resources:\n- resource.yaml\n"
SPEC = "name: api\nimage: {name: nginx, tag: '1'}\n"


def laughs(key: str = "data") -> str:
    """A kilobyte that stands for 9**9 nodes."""
    text = f"{key}:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    previous = "a"
    for name in "bcdefghi":
        text += f"  {name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    return text


def kustomize_app(
    case: Case, resource: str | bytes, kustomization: str | bytes = KUSTOMIZATION
) -> None:
    case.write("apps/kz/kustomization.yaml", kustomization)
    case.write("apps/kz/resource.yaml", resource)


def kustomize_patch(case: Case, text: str) -> None:
    kustomize_app(
        case, RESOURCE.format(name="ok"), KUSTOMIZATION + "patches:\n- path: patch.yaml\n"
    )
    case.write("apps/kz/patch.yaml", RESOURCE.format(name="ok") + text)


# Where a hostile YAML text can sit: each writes ``text`` (a mapping's body) into one input.
PLACES: dict[str, Callable[[Case, str], object]] = {
    "template file": lambda case, text: case.write(
        "apps/web/bad.yaml", RESOURCE.format(name="bad") + text
    ),
    "template": lambda case, text: case.write(
        "apps/web/bad.yaml.j2", RESOURCE.format(name="bad") + text
    ),
    "values file": lambda case, text: case.write("apps/web/values.yaml", text),
    "environment values file": lambda case, text: case.write(
        "apps/web/values-evaluation.yaml", text
    ),
    "app spec": lambda case, text: case.write("apps/api.yaml", SPEC + text),
    "app spec directory": lambda case, text: case.write("apps/api/app.yaml", SPEC + text),
    "hakobu.yaml": lambda case, text: case.write("hakobu.yaml", PROJECT + text),
    "kustomize resource": lambda case, text: kustomize_app(
        case, RESOURCE.format(name="bad") + text
    ),
    "kustomization": lambda case, text: kustomize_app(
        case, RESOURCE.format(name="ok"), KUSTOMIZATION + text
    ),
    "kustomize patch file": kustomize_patch,
}
COMMANDS = [("render",), ("render", "--check")]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("place", sorted(PLACES))
def test_billion_laughs(case: Case, place: str, command: tuple[str, ...]) -> None:
    PLACES[place](case, laughs())
    run = case.refuses(*command, expect="aliases expand this file past")
    assert "(at *" in run.stderr


@pytest.mark.parametrize(
    "resource",
    [RESOURCE.format(name="bad") + laughs(), b"kind: A\nmetadata: &m {name: x, m: *m}\n"],
    ids=["laughs", "cycle"],
)
def test_billion_laughs_in_a_kustomize_build(case: Case, resource: str | bytes) -> None:
    kustomize_app(case, resource)
    case.refuses("build", "apps/kz", expect="resource.yaml")


def flow(depth: int) -> str:
    return "deep: " + "[" * depth + "]" * depth + "\n"


def block(depth: int) -> str:
    return "deep:\n" + "".join("  " * (level + 1) + f"k{level}:\n" for level in range(depth))


@pytest.mark.parametrize(
    ("shape", "depth"),
    [
        ("flow", MAX_DEPTH + 1),
        ("flow", 999),
        ("flow", 5000),
        ("block", MAX_DEPTH + 1),
        ("block", 990),
    ],
)
@pytest.mark.parametrize(
    "place", ["template file", "values file", "kustomize resource", "app spec"]
)
def test_deep_nesting(case: Case, place: str, shape: str, depth: int) -> None:
    PLACES[place](case, flow(depth) if shape == "flow" else block(depth))
    # libyaml stops at 1000 levels on its own; hakobu long before anything recurses.
    expected = "nesting depth" if depth >= 1000 else f"nested more than {MAX_DEPTH} levels deep"
    case.refuses("render", expect=expected)


@pytest.mark.parametrize("place", ["template file", "kustomize resource", "values file"])
def test_huge_files(case: Case, place: str) -> None:
    PLACES[place](case, "# " + "x" * MAX_FILE_BYTES + "\n")
    case.refuses("render", expect=f"is larger than {MAX_FILE_BYTES >> 20} MiB")


@pytest.mark.parametrize("nodes", [MAX_NODES, (MAX_FILE_BYTES - 100) // 2])
@pytest.mark.parametrize("place", ["template file", "kustomize resource"])
def test_files_of_too_many_nodes(case: Case, place: str, nodes: int) -> None:
    # Small enough to read, too many nodes to build: refused before anything is built.
    PLACES[place](case, "many: [" + ",".join(["1"] * nodes) + "]\n")
    case.refuses("render", expect=f"holds more than {MAX_NODES} YAML nodes")


SPECIAL_PLACES = [
    "apps/web/pipe.yaml",
    "apps/web/values.yaml",
    "apps/web/pipe.yaml.j2",
    "apps/pipe",
    "apps/pipe.yaml",
    "apps/kz/resource.yaml",
    "apps/kz/kustomization.yaml",
]


@pytest.mark.parametrize("where", SPECIAL_PLACES)
def test_fifo(case: Case, where: str) -> None:
    if where.startswith("apps/kz/"):
        kustomize_app(case, RESOURCE.format(name="ok"))
        (case.root / where).unlink()
    os.mkfifo(case.root / where)
    case.refuses("render", expect="is a FIFO")
    if where.startswith("apps/kz/"):
        case.refuses("build", "apps/kz", expect="is a FIFO, not a regular file")


@pytest.mark.parametrize("where", SPECIAL_PLACES)
def test_link_to_dev_zero(case: Case, where: str) -> None:
    if where.startswith("apps/kz/"):
        kustomize_app(case, RESOURCE.format(name="ok"))
        (case.root / where).unlink()
    (case.root / where).symlink_to("/dev/zero")
    run = case.refuses("render")
    # Templates are loaded by their sandbox, which refuses the link in its own words.
    assert "is a symbolic link to /dev/zero" in run.stderr or "outside the app" in run.stderr


BAD_BYTES = b"\xff\xfe not text \x80\n"
BYTE_PLACES = {
    "template file": "apps/web/bad.yaml",
    "template": "apps/web/bad.yaml.j2",
    "values file": "apps/web/values.yaml",
    "app spec": "apps/api.yaml",
    "hakobu.yaml": "hakobu.yaml",
    "kustomize resource": "apps/kz/resource.yaml",
    "kustomization": "apps/kz/kustomization.yaml",
    "kustomize patch file": "apps/kz/patch.yaml",
}


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("place", sorted(BYTE_PLACES))
def test_not_utf8(case: Case, place: str, command: tuple[str, ...]) -> None:
    if place.startswith("kustomiz"):
        PLACES["kustomize patch file"](case, "")
    where = BYTE_PLACES[place]
    original = (case.root / where).read_bytes() if (case.root / where).exists() else b""
    # Valid lines first: the error must point at the line of the bad byte.
    case.write(where, original + b"# fine\n" + BAD_BYTES)
    line = original.count(b"\n") + 2
    case.refuses(*command, expect=f"{where}:{line}: not UTF-8 text")
