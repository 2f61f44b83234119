"""The render cache: one file per environment, inputs vouched for by their stamps.

Whatever the cache file holds — nothing, a torn write, another shape, the view of another
render — a render's output is the output of an uncached render.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from hakobu.model import files
from hakobu.model.project import load_project
from hakobu.render import stamps
from hakobu.render.cache import RenderCache
from hakobu.render.environment import EnvironmentResult, render_environment
from tests.unit.render.test_envsecrets import sealed as sealed_secret

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  dev:
    namespace: shop-dev
"""

TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ app }}
data:
  host: "{{ values.host }}"
"""


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HAKOBU_CACHE_DIR", str(tmp_path / "cache"))
    project = tmp_path / "project"
    fleet = project / "apps" / "shops"
    (fleet / "template").mkdir(parents=True)
    (fleet / "instances").mkdir()
    (project / "hakobu.yaml").write_text(PROJECT)
    (fleet / "fleet.yaml").write_text("tiers: [stable]\nvalues: {host: ''}\n")
    (fleet / "template" / "config.yaml.j2").write_text(TEMPLATE)
    for name in ("berlin", "paris"):
        instance(project, name, f"tier: stable\nvalues: {{host: {name}}}\n")
    return project


def instance(root: Path, name: str, text: str) -> Path:
    path = root / "apps" / "shops" / "instances" / f"{name}.yaml"
    path.write_text(text)
    return path


def render(
    root: Path, cache: RenderCache | None
) -> tuple[dict[str, dict[str, str]], EnvironmentResult]:
    """A render as one ``hakobu render`` process makes it: a cache object of its own."""
    project = load_project(root)
    return render_environment(project, project.environment("dev"), cache=cache)


def cache_file(root: Path) -> Path:
    (found,) = (Path(os.environ["HAKOBU_CACHE_DIR"]) / "projects").glob("*/render/dev.json")
    return found


def host(tree: dict[str, dict[str, str]], name: str) -> str:
    text = tree[f"shops-{name}"][f"configmap-shops-{name}.yaml"]
    return text.split("host: ")[1].split("\n")[0]


def test_every_app_of_an_environment_is_kept_in_one_file(root: Path) -> None:
    _, first = render(root, RenderCache(root))
    assert first.rendered == ("shops-berlin", "shops-paris")
    data = orjson.loads(cache_file(root).read_bytes())
    assert sorted(data["apps"]) == ["shops-berlin", "shops-paris"]
    # Each input once: what both instances read (the template, fleet.yaml) is shared.
    table = [tuple(item) for item in data["inputs"]]
    assert len(table) == len(set(table))
    berlin, paris = (set(data["apps"][name]["inputs"]) for name in sorted(data["apps"]))
    shared = {table[place][1] for place in berlin & paris}
    assert any(path.endswith("fleet.yaml") for path in shared)
    assert not any(path.endswith(("berlin.yaml", "paris.yaml")) for path in shared)
    _, again = render(root, RenderCache(root))
    assert again.cached == ("shops-berlin", "shops-paris")


def test_a_settled_input_is_taken_by_its_stamp_without_being_read(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stamps, "SETTLED_NS", 0)
    render(root, RenderCache(root))
    # A render that reads the inputs again learns their stamps (none were settled first).
    render(root, RenderCache(root))
    read: list[Path] = []
    real = files.read_bytes

    def counted(path: Path, **kwargs: int) -> bytes:
        read.append(path)
        return real(path, **kwargs)

    monkeypatch.setattr(files, "read_bytes", counted)
    _, result = render(root, RenderCache(root))
    assert result.cached == ("shops-berlin", "shops-paris")
    assert not [path for path in read if "instances" in str(path)]


def test_an_edit_moves_the_stamp_and_is_seen(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stamps, "SETTLED_NS", 0)
    render(root, RenderCache(root))
    render(root, RenderCache(root))
    instance(root, "paris", "tier: stable\nvalues: {host: lutece}\n")
    tree, result = render(root, RenderCache(root))
    assert result.rendered == ("shops-paris",)
    assert host(tree, "paris") == "lutece"


def test_a_racily_clean_input_is_read_again(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file rewritten within the clock tick of its stat keeps its size and times; the
    stat of an input written that recently must not vouch for it."""

    def coarse(path: str) -> stamps.Stamp | None:
        # A clock that has not ticked: the change time stays with the modification time.
        found = real_stamp(path)
        return None if found is None else (*found[:4], found[3])

    real_stamp = stamps.stamp
    monkeypatch.setattr(stamps, "stamp", coarse)
    file = instance(root, "paris", "tier: stable\nvalues: {host: aaaa}\n")
    before, stamped = file.stat(), coarse(str(file))
    render(root, RenderCache(root))
    render(root, RenderCache(root))
    instance(root, "paris", "tier: stable\nvalues: {host: bbbb}\n")
    os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert coarse(str(file)) == stamped
    tree, result = render(root, RenderCache(root))
    assert result.rendered == ("shops-paris",)
    assert host(tree, "paris") == "bbbb"


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],
        lambda text: b"",
        lambda text: b"\xff\xfe not json",
        lambda text: orjson.dumps(
            {"format": 4, "env": "dev", "inputs": [], "apps": [], "stamps": {}}
        ),
        lambda text: text.replace(b'"inputs":[', b'"inputs":[7,', 1),
        lambda text: text.replace(b'"inputs":[', b'"inputs":[["file",7,"x"],', 1),
        # An entry naming a place beyond the table, or before it.
        lambda text: text.replace(b'"inputs":[0', b'"inputs":[99999', 2),
        lambda text: text.replace(b'"inputs":[0', b'"inputs":[-1', 2),
        lambda text: text.replace(b'"files":{', b'"files":{"x":1,'),
    ],
    ids=[
        "torn",
        "empty",
        "not-json",
        "wrong-shape",
        "bad-input",
        "bad-input-path",
        "place-beyond",
        "place-before",
        "bad-file",
    ],
)
def test_a_damaged_cache_file_is_ignored_and_rebuilt(root: Path, damage: object) -> None:
    render(root, RenderCache(root))
    path = cache_file(root)
    assert callable(damage)
    original = path.read_bytes()
    damaged = damage(original)
    assert damaged != original
    path.write_bytes(damaged)
    instance(root, "berlin", "tier: stable\nvalues: {host: spree}\n")
    tree, result = render(root, RenderCache(root))
    assert tree == render(root, None)[0]
    assert host(tree, "berlin") == "spree"
    assert "shops-berlin" in result.rendered
    _, again = render(root, RenderCache(root))
    assert again.cached == ("shops-berlin", "shops-paris")


def test_damaged_stamps_are_read_again(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stamps, "SETTLED_NS", 0)
    render(root, RenderCache(root))
    render(root, RenderCache(root))
    path = cache_file(root)
    data = orjson.loads(path.read_bytes())
    assert data["stamps"]
    # Every stamp claims another digest: none may vouch, so every input is read.
    data["stamps"] = {key: [*value[:5], "0" * 64] for key, value in data["stamps"].items()}
    path.write_bytes(orjson.dumps(data))
    instance(root, "paris", "tier: stable\nvalues: {host: lutece}\n")
    tree, result = render(root, RenderCache(root))
    assert result.rendered == ("shops-paris",)
    assert host(tree, "paris") == "lutece"


def test_interleaved_renders_never_serve_stale_output(root: Path) -> None:
    """Two renders each read the file, render and write it whole; the last write wins and
    whatever it holds is proven against the inputs, so nothing either saw goes stale."""
    first, second = RenderCache(root), RenderCache(root)
    render(root, first)
    instance(root, "paris", "tier: stable\nvalues: {host: lutece}\n")
    render(root, second)
    instance(root, "berlin", "tier: stable\nvalues: {host: spree}\n")
    # The first render's view predates both edits; it writes last.
    render(root, first)
    instance(root, "paris", "tier: stable\nvalues: {host: paname}\n")
    tree, _ = render(root, RenderCache(root))
    assert tree == render(root, None)[0]
    assert host(tree, "paris") == "paname" and host(tree, "berlin") == "spree"


def test_apps_that_left_the_project_leave_the_file(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stamps, "SETTLED_NS", 0)
    render(root, RenderCache(root))
    paris = root / "apps" / "shops" / "instances" / "paris.yaml"
    assert any(str(paris) in key for key in orjson.loads(cache_file(root).read_bytes())["stamps"])
    paris.unlink()
    render(root, RenderCache(root))
    data = orjson.loads(cache_file(root).read_bytes())
    assert sorted(data["apps"]) == ["shops-berlin"]
    assert not any(str(paris) in key for key in data["stamps"])
    assert not any(item[1] == str(paris) for item in data["inputs"])
    # The places left are renumbered: the table holds exactly what berlin names.
    assert sorted(data["apps"]["shops-berlin"]["inputs"]) == list(range(len(data["inputs"])))
    _, again = render(root, RenderCache(root))
    assert again.cached == ("shops-berlin",)


def test_one_absence_stands_for_every_instance_until_a_secret_is_sealed(root: Path) -> None:
    render(root, RenderCache(root))
    data = orjson.loads(cache_file(root).read_bytes())
    absent = [item[1] for item in data["inputs"] if item[0] == "absent"]
    assert str(root / "secrets" / "dev") in absent
    assert not [path for path in absent if path.startswith(str(root / "secrets" / "dev") + "/")]

    sealed = root / "secrets" / "dev" / "shops-paris" / "db.yaml"
    sealed.parent.mkdir(parents=True)
    sealed.write_text(sealed_secret("shop-dev"))
    tree, result = render(root, RenderCache(root))
    assert tree == render(root, None)[0]
    assert "sealedsecret-db.yaml" in tree["shops-paris"]
    assert "shops-paris" in result.rendered
