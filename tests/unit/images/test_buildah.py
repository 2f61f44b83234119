"""`hakobu images build` with the real buildah, pushing to a real registry.

buildah runs as root without a daemon: vfs storage (no overlay mounts) and chroot
isolation, with its storage and registries configuration under the test's own directory.
The images are FROM scratch with COPY only, since such images have no shell to RUN.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hakobu.cli.main import main
from hakobu.images.project import current_tags, open_project
from hakobu.images.registry import MANIFEST_TYPES, split_repository
from tests.unit.images.test_registry import start_registry
from tests.unit.images.test_tags import commit, git, write


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "registry").mkdir()
    yield from start_registry(tmp_path / "registry", auth=False)


@pytest.fixture(autouse=True)
def buildah(tmp_path: Path, registry: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """buildah's whole state under ``tmp_path``, trusting the loopback registry."""
    if shutil.which("buildah") is None:
        pytest.fail("buildah is not installed: `apt-get install buildah`")
    root = tmp_path / "containers"
    (root / "tmp").mkdir(parents=True)
    storage = root / "storage.conf"
    # JSON strings are TOML basic strings.
    storage.write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = {json.dumps(str(root / "graph"))}\n'
        f"runroot = {json.dumps(str(root / 'run'))}\n"
    )
    registries = root / "registries.conf"
    registries.write_text(f'[[registry]]\nlocation = "{registry}"\ninsecure = true\n')
    monkeypatch.setenv("STORAGE_DRIVER", "vfs")
    monkeypatch.setenv("BUILDAH_ISOLATION", "chroot")
    monkeypatch.setenv("CONTAINERS_STORAGE_CONF", str(storage))
    monkeypatch.setenv("CONTAINERS_REGISTRIES_CONF", str(registries))
    # Where buildah keeps blobs while it pulls and pushes (default /var/tmp).
    monkeypatch.setenv("TMPDIR", str(root / "tmp"))


def make_project(root: Path, registry: str, dockerfiles: dict[str, str]) -> Path:
    """A project with one image of ``registry``/shop per Dockerfile, each in a directory of
    its name holding a file ``<name>.txt``."""
    root.mkdir()
    git(root, "init", "-q")
    listed = "".join(
        f"- {{name: {name}, context: {name}, registry: {registry}/shop}}\n" for name in dockerfiles
    )
    write(root, {"hakobu.yaml": f"images:\n{listed}"})
    for name, dockerfile in dockerfiles.items():
        write(root, {f"{name}/Dockerfile": dockerfile, f"{name}/{name}.txt": f"{name} v1\n"})
    commit(root, "initial")
    return root


def hakobu(capfd: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capfd.readouterr()
    return code, out, err


def build(project: Path, capfd: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return hakobu(capfd, "images", "-C", str(project), "build", "--builder", "buildah", "--push")


def references(project: Path) -> dict[str, str]:
    return {name: tag.reference for name, tag in current_tags(open_project(project)).tags.items()}


def registry_tags(registry: str, name: str) -> list[str]:
    response = httpx.get(f"http://{registry}/v2/shop/{name}/tags/list")
    if response.status_code == 404:
        return []
    response.raise_for_status()
    tags: list[str] = response.json()["tags"]
    return sorted(tags)


def layers(registry: str, reference: str) -> list[str]:
    """The layer digests of the manifest the registry holds for ``reference``."""
    repository, tag = reference.rsplit(":", 1)
    _, name = split_repository(repository)
    response = httpx.get(
        f"http://{registry}/v2/{name}/manifests/{tag}",
        headers={"Accept": ", ".join(MANIFEST_TYPES)},
    )
    response.raise_for_status()
    return [layer["digest"] for layer in response.json()["layers"]]


def test_build_push_pins_bases_and_rebuilds_on_a_base_change(
    tmp_path: Path, registry: str, capfd: pytest.CaptureFixture[str]
) -> None:
    base = f"{registry}/shop/base"
    # The registry never has :latest, so a base left unpinned fails the build rather than
    # passing unseen. buildah looks each of these spellings up by its own name.
    project = make_project(
        tmp_path / "project",
        registry,
        {
            "base": "FROM scratch\nCOPY base.txt /base.txt\n",
            "web": f"FROM {base}:latest AS app\nCOPY web.txt /web.txt\nFROM app\n",
            "tool": f"FROM {base}\nCOPY --from={base}:latest /base.txt /tool.txt\n",
            "job": f"ARG BASE={base}:latest\nFROM ${{BASE}}\nCOPY job.txt /job.txt\n",
        },
    )
    first = references(project)
    code, out, err = build(project, capfd)
    assert code == 0, err
    for reference in first.values():
        assert f"built {reference} and pushed it" in out
    for name, reference in first.items():
        assert registry_tags(registry, name) == [reference.rsplit(":", 1)[1]]
    [base_layer] = layers(registry, first["base"])
    assert layers(registry, first["web"])[0] == base_layer
    assert len(layers(registry, first["web"])) == 2
    # FROM the base, then a layer with the base's file copied from it.
    assert layers(registry, first["tool"])[0] == base_layer
    assert len(layers(registry, first["tool"])) == 2
    assert layers(registry, first["job"])[0] == base_layer

    code, out, _ = hakobu(capfd, "images", "-C", str(project), "-o", "json")
    assert code == 0
    listed = {row["name"]: (row["reference"], row["registry"]) for row in json.loads(out)}
    assert listed == {name: (reference, "present") for name, reference in first.items()}

    code, out, err = build(project, capfd)
    assert code == 0, err
    assert (out, err) == ("every image is in its registry; nothing to build\n", "")

    write(project, {"base/base.txt": "base v2\n"})
    commit(project)
    second = references(project)
    assert all(second[name] != first[name] for name in first)
    code, out, err = build(project, capfd)
    assert code == 0, err
    for reference in second.values():
        assert f"built {reference} and pushed it" in out
    [new_base_layer] = layers(registry, second["base"])
    assert new_base_layer != base_layer
    assert layers(registry, second["web"])[0] == new_base_layer
    assert layers(registry, second["tool"])[0] == new_base_layer
    assert layers(registry, second["job"])[0] == new_base_layer
    for name in first:
        assert registry_tags(registry, name) == sorted(
            reference.rsplit(":", 1)[1] for reference in (first[name], second[name])
        )


def test_a_failing_build_stops_the_rest(
    tmp_path: Path, registry: str, capfd: pytest.CaptureFixture[str]
) -> None:
    project = make_project(
        tmp_path / "project",
        registry,
        {
            "base": "FROM scratch\nCOPY base.txt /base.txt\n",
            "web": f"FROM {registry}/shop/base\nCOPY missing.txt /missing.txt\n",
            "tool": f"FROM {registry}/shop/web\nCOPY tool.txt /tool.txt\n",
        },
    )
    refs = references(project)
    code, out, err = build(project, capfd)
    assert code == 1
    assert f"error: building web failed: `buildah build -t {refs['web']} -f web/Dockerfile" in err
    assert "[2/3]" in err
    assert "[3/3]" not in err
    assert registry_tags(registry, "base") == [refs["base"].rsplit(":", 1)[1]]
    assert registry_tags(registry, "web") == []
    assert registry_tags(registry, "tool") == []
    assert "built" not in out
