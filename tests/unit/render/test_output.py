"""An environment's output is written app by app: killed at any moment, a render leaves each
app's old files or its new ones, never a mix, and the next render finishes or clears what it
left; apps that do not change are not touched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hakobu.render import output
from hakobu.render.output import recover, update_environment

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
apps: apps
output: generated
environments:
  evaluation:
    namespace: shop-eval
    values: {{release: "{release}"}}
"""

MANY = """\
{% for i in range(1500) %}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: config-{{ i }}
data:
  release: "{{ values.release }}"
{% endfor %}
"""


def _tree(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): p.read_text()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _render(root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "hakobu", "render", "--no-cache"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_render_killed_at_any_moment_leaves_old_or_new_never_a_mix(tmp_path: Path) -> None:
    (tmp_path / "apps/many").mkdir(parents=True)
    (tmp_path / "apps/many/config.yaml.j2").write_text(MANY)
    (tmp_path / "hakobu.yaml").write_text(PROJECT.format(release="one"))
    start = time.monotonic()
    assert _render(tmp_path).wait(timeout=60) == 0
    whole = time.monotonic() - start
    env = tmp_path / "generated/evaluation"
    old = _tree(env)
    (tmp_path / "hakobu.yaml").write_text(PROJECT.format(release="two"))
    seen = set()
    for step in range(40):
        process = _render(tmp_path)
        time.sleep(whole * step / 10)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        now = _tree(env)
        assert now in (old, _tree_of(old, "two")), f"a mixed tree after {whole * step / 10:.2f}s"
        seen.add("old" if now == old else "new")
        if now != old:
            break
    # Both outcomes were reached: some kills came before the switch, one after it.
    assert seen == {"old", "new"}
    assert _render(tmp_path).wait(timeout=60) == 0
    assert _tree(env) == _tree_of(old, "two")
    assert sorted(p.name for p in env.parent.iterdir()) == ["evaluation"]


def _tree_of(tree: dict[str, str], release: str) -> dict[str, str]:
    return {
        path: text.replace("release: one", f"release: {release}") for path, text in tree.items()
    }


def _stage_killed_write(tmp_path: Path) -> Path:
    """A write of ``web`` (new files) and removal of ``old``, killed once its staging was
    made ready: the output still holds the previous apps."""
    env = tmp_path / "generated/evaluation"
    for app, text in (("web", "current\n"), ("api", "kept\n"), ("old", "gone\n")):
        (env / app).mkdir(parents=True)
        (env / app / "configmap-a.yaml").write_text(text)
    ready = tmp_path / "generated/.evaluation.ready-x1"
    (ready / "new/web").mkdir(parents=True)
    (ready / "old").mkdir()
    (ready / "new/web/configmap-a.yaml").write_text("new\n")
    inode = (ready / "new/web").stat().st_ino
    (ready / "journal.json").write_text(json.dumps({"apps": {"web": inode}, "remove": ["old"]}))
    return env


def test_a_write_left_ready_is_finished_by_the_next(tmp_path: Path) -> None:
    env = _stage_killed_write(tmp_path)
    partial = tmp_path / "generated/.evaluation.partial-x2"
    partial.mkdir()
    recover(env)
    assert _tree(env) == {"web/configmap-a.yaml": "new\n", "api/configmap-a.yaml": "kept\n"}
    assert sorted(p.name for p in env.parent.iterdir()) == ["evaluation"]


def test_a_write_killed_between_two_apps_is_finished_once(tmp_path: Path) -> None:
    env = _stage_killed_write(tmp_path)
    ready = tmp_path / "generated/.evaluation.ready-x1"
    # ``web`` was already swapped in: the staging directory now holds its old files.
    output._renameat2(ready / "new/web", env / "web")
    recover(env)
    assert _tree(env) == {"web/configmap-a.yaml": "new\n", "api/configmap-a.yaml": "kept\n"}


def test_leftovers_beside_a_complete_tree_are_removed_and_others_kept(tmp_path: Path) -> None:
    env = tmp_path / "generated/evaluation"
    (env / "web").mkdir(parents=True)
    (env / "web/configmap-a.yaml").write_text("current\n")
    for name in (".evaluation.ready-a", ".evaluation.partial-c"):
        (tmp_path / "generated" / name).mkdir()
    (tmp_path / "generated/.evaluation-notes").mkdir()
    recover(env)
    assert _tree(env) == {"web/configmap-a.yaml": "current\n"}
    assert sorted(p.name for p in env.parent.iterdir()) == [".evaluation-notes", "evaluation"]


def test_only_changed_apps_and_files_are_written(tmp_path: Path) -> None:
    env = tmp_path / "generated/evaluation"
    update_environment(
        env, {"web": {"a.yaml": "a\n", "b.yaml": "b\n"}, "api": {"x.yaml": "x\n"}}, ()
    )
    before = (env / "web/a.yaml").stat().st_ino
    api = ((env / "api").stat().st_ino, (env / "api/x.yaml").stat().st_ino)
    update_environment(env, {"web": {"a.yaml": "a\n", "c.yaml": "c\n"}}, ())
    assert _tree(env) == {"web/a.yaml": "a\n", "web/c.yaml": "c\n", "api/x.yaml": "x\n"}
    assert (env / "web/a.yaml").stat().st_ino == before
    assert ((env / "api").stat().st_ino, (env / "api/x.yaml").stat().st_ino) == api
    assert oct((env / "web/c.yaml").stat().st_mode & 0o777) == "0o644"
    assert oct(env.stat().st_mode & 0o777) == "0o755"


@pytest.mark.parametrize("supported", [True, False])
def test_the_switch_works_with_and_without_an_atomic_exchange(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, supported: bool
) -> None:
    if not supported:
        # A file system without RENAME_EXCHANGE answers EINVAL: the two-rename path runs.
        def refuse(first: Path, second: Path) -> None:
            raise OSError(22, os.strerror(22), str(first))

        monkeypatch.setattr(output, "_renameat2", refuse)
    env = tmp_path / "generated/evaluation"
    update_environment(env, {"web": {"a.yaml": "1\n"}}, ())
    update_environment(env, {"web": {"a.yaml": "3\n"}, "api": {"b.yaml": "2\n"}}, ())
    assert _tree(env) == {"api/b.yaml": "2\n", "web/a.yaml": "3\n"}
    update_environment(env, {}, ["web"])
    assert _tree(env) == {"api/b.yaml": "2\n"}
    assert sorted(p.name for p in env.parent.iterdir()) == ["evaluation"]
