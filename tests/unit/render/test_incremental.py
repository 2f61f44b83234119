"""A render after a change writes and commits only what changed, and what it leaves is byte
for byte what a full render into an empty directory writes; the record that spares reading
the output back never hides an edit, a stray or a removed file."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hakobu.errors import InvalidInput
from hakobu.model.project import load_project
from hakobu.releases.rendercommit import RenderRequest, render_project
from hakobu.render import environment
from tests.unit.render.test_fleet import PROJECT, TEMPLATE, instance


def _fleet(root: Path, count: int) -> None:
    (root / "hakobu.yaml").write_text(PROJECT)
    fleet = root / "apps" / "shops"
    (fleet / "template").mkdir(parents=True)
    (fleet / "instances").mkdir()
    (fleet / "fleet.yaml").write_text(
        "tiers: [canary, stable]\nvalues:\n  host: ''\n  replicas: 1\n"
    )
    (fleet / "template" / "config.yaml.j2").write_text(TEMPLATE)
    (fleet / "template" / "service.yaml.j2").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: '{{ app }}'}\n"
        "spec: {ports: [{port: 80}]}\n"
    )
    for i in range(count):
        instance(root, f"shop-{i}", f"tier: stable\nvalues: {{replicas: {i}}}\n")


def _git(root: Path, *words: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *words],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _bytes(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _render(root: Path, *, commit: bool = False) -> str | None:
    return render_project(load_project(root), RenderRequest(commit=commit)).commit


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    _fleet(root, 6)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "fleet")
    _render(root, commit=True)
    return root


def test_after_each_change_the_output_equals_a_full_render_byte_for_byte(
    root: Path, tmp_path: Path
) -> None:
    changes: list[Callable[[], object]] = [
        lambda: instance(root, "shop-2", "tier: canary\nvalues: {replicas: 9}\n"),
        lambda: instance(root, "shop-9", "tier: stable\nvalues: {host: nine}\n"),
        (root / "apps/shops/instances/shop-0.yaml").unlink,
        lambda: (root / "apps/shops/fleet.yaml").write_text(
            "tiers: [canary, stable]\nvalues:\n  host: ''\n  replicas: 2\n"
        ),
        (root / "apps/shops/template/service.yaml.j2").unlink,
    ]
    for number, change in enumerate(changes):
        change()
        _render(root, commit=True)
        fresh = tmp_path / f"fresh-{number}"
        shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("generated", ".git"))
        render_project(load_project(fresh), RenderRequest(use_cache=False))
        assert _bytes(root / "generated") == _bytes(fresh / "generated"), f"after change {number}"
        assert _git(root, "status", "--porcelain") == ""
    assert [p.name for p in (root / "generated").iterdir()] == ["dev"]


def test_untouched_apps_are_not_rewritten_and_the_commit_holds_only_the_change(
    root: Path,
) -> None:
    env = root / "generated/dev"
    before = {p.name: p.stat().st_ino for p in env.iterdir()}
    instance(root, "shop-3", "tier: stable\nvalues: {replicas: 30}\n")
    _render(root, commit=True)
    after = {p.name: p.stat().st_ino for p in env.iterdir()}
    assert [p for p in before if before[p] != after[p]] == ["shops-shop-3"]
    assert _git(root, "show", "--name-only", "--format=", "HEAD").split() == [
        "apps/shops/instances/shop-3.yaml",
        "generated/dev/shops-shop-3/configmap-shops-shop-3.yaml",
    ]


def test_an_edit_that_keeps_size_and_times_is_still_noticed_and_undone(root: Path) -> None:
    path = root / "generated/dev/shops-shop-1/configmap-shops-shop-1.yaml"
    text = path.read_text()
    times = path.stat()
    path.write_text(text.replace('replicas: "1"', 'replicas: "7"'))
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))
    rendered = render_project(load_project(root), RenderRequest(check=True))
    assert rendered.results[0].changed == ("shops-shop-1/configmap-shops-shop-1.yaml",)
    _render(root)
    assert path.read_text() == text


def test_a_stray_or_a_removed_file_in_a_recorded_app_is_noticed(root: Path) -> None:
    app = root / "generated/dev/shops-shop-4"
    (app / "notes.txt").write_text("mine\n")
    with pytest.raises(InvalidInput, match=r"generated/dev/shops-shop-4/notes\.txt"):
        _render(root)
    (app / "notes.txt").unlink()
    (app / "service-shops-shop-4.yaml").unlink()
    rendered = render_project(load_project(root), RenderRequest(check=True))
    assert rendered.results[0].added == ("shops-shop-4/service-shops-shop-4.yaml",)


class _Node:
    next: object = None


def test_cycles_an_app_render_leaves_are_freed_while_the_collector_is_paused(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Render pauses the cyclic collector for its cached apps, yet frees what each fresh
    render leaves in cycles as it goes, and resumes the collector when done."""
    left: list[weakref.ref[object]] = []
    render = environment.render_app_output

    def leaving_a_cycle(*args: Any, **kwargs: Any) -> Any:
        cycle = _Node()
        cycle.next = cycle
        left.append(weakref.ref(cycle))
        return render(*args, **kwargs)

    def checking(*args: Any, **kwargs: Any) -> Any:
        assert not gc.isenabled()
        # The previous app's cycle is gone before this app renders, not at the end.
        assert all(ref() is None for ref in left)
        return leaving_a_cycle(*args, **kwargs)

    monkeypatch.setattr(environment, "render_app_output", checking)
    instance(root, "shop-2", "tier: stable\nvalues: {replicas: 20}\n")
    instance(root, "shop-5", "tier: stable\nvalues: {replicas: 50}\n")
    assert gc.isenabled()
    _render(root)
    assert gc.isenabled()
    assert len(left) == 2
    assert all(ref() is None for ref in left)
