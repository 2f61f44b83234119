"""What a sync reads from generated/: only the files render writes, from disk or from git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hakobu.errors import InvalidInput
from hakobu.model.project import load_project
from hakobu.sync.manifests import read_desired

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  evaluation: {namespace: shop-eval}
"""
CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: shop-eval\n"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "apps").mkdir(parents=True)
    (root / "hakobu.yaml").write_text(PROJECT)
    (root / "generated/evaluation/web").mkdir(parents=True)
    (root / "generated/evaluation/web/configmap-a.yaml").write_text(CONFIG)
    _git(root, "init", "-q")
    return root


def test_a_link_in_the_work_tree_is_refused_not_read(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(CONFIG.replace("name: a", "name: planted"))
    (root / "generated/evaluation/web/configmap-b.yaml").symlink_to(outside)
    project = load_project(root)
    with pytest.raises(InvalidInput, match=r"left alone: generated/evaluation/web/configmap-b"):
        read_desired(project, project.environments[0])


def test_a_committed_link_is_refused_at_a_revision(root: Path) -> None:
    (root / "generated/evaluation/web/configmap-b.yaml").symlink_to("/etc/hostname")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "x")
    project = load_project(root)
    with pytest.raises(InvalidInput, match=r"configmap-b\.yaml is a symbolic link in git"):
        read_desired(project, project.environments[0], "HEAD")


def test_undecodable_bytes_at_a_revision_are_named(root: Path) -> None:
    (root / "generated/evaluation/web/configmap-a.yaml").write_bytes(b"kind: \xff\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "x")
    project = load_project(root)
    with pytest.raises(InvalidInput, match=r"configmap-a.yaml:1: not UTF-8 text"):
        read_desired(project, project.environments[0], "HEAD")


def test_render_output_reads_the_same_from_disk_and_git(root: Path) -> None:
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "x")
    project = load_project(root)
    env = project.environments[0]
    on_disk = read_desired(project, env)
    at_head = read_desired(project, env, "HEAD")
    assert on_disk.apps == at_head.apps
    assert [m.id.name for m in on_disk.app("web").manifests] == ["a"]


def test_an_environment_with_a_branch_is_read_from_it(root: Path) -> None:
    (root / "hakobu.yaml").write_text(
        PROJECT.replace("namespace: shop-eval}", "namespace: shop-eval, branch: tier-1}")
    )
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "promoted")
    _git(root, "branch", "tier-1")
    # main moves on; tier-1 advances only by promotion.
    (root / "generated/evaluation/web/configmap-a.yaml").write_text(
        CONFIG.replace("name: a", "name: b")
    )
    _git(root, "commit", "-qam", "unpromoted")
    project = load_project(root)
    env = project.environments[0]
    desired = read_desired(project, env)
    assert desired.revision == _git(root, "rev-parse", "tier-1")
    assert [m.id.name for m in desired.app("web").manifests] == ["a"]
    # With the branch checked out, its work tree is what the user works on.
    _git(root, "checkout", "-q", "tier-1")
    (root / "generated/evaluation/web/configmap-a.yaml").write_text(
        CONFIG.replace("name: a", "name: c")
    )
    assert [m.id.name for m in read_desired(project, env).app("web").manifests] == ["c"]


def test_a_missing_environment_branch_is_named(root: Path) -> None:
    (root / "hakobu.yaml").write_text(
        PROJECT.replace("namespace: shop-eval}", "namespace: shop-eval, branch: tier-9}")
    )
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "x")
    project = load_project(root)
    with pytest.raises(InvalidInput, match="there is no branch 'tier-9'"):
        read_desired(project, project.environments[0])


def test_a_clean_work_tree_is_read_from_its_commit_parsed_once(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HAKOBU_CACHE_DIR", str(tmp_path / "cache"))
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "x")
    project = load_project(root)
    env = project.environments[0]
    first = read_desired(project, env)
    assert first.revision == _git(root, "rev-parse", "HEAD")
    assert list((tmp_path / "cache").rglob("evaluation.jsonl"))
    assert read_desired(project, env).apps == first.apps
    # A change on disk is read from disk.
    (root / "generated/evaluation/web/configmap-a.yaml").write_text(
        CONFIG.replace("name: a", "name: b")
    )
    changed = read_desired(project, env)
    assert changed.revision == "worktree"
    assert [m.id.name for m in changed.app("web").manifests] == ["b"]


def test_a_work_tree_that_puts_right_what_head_holds_is_read_without_head_s_error(
    root: Path,
) -> None:
    # HEAD's copy is read while git tells whether the work tree's is the same: its error
    # counts only when it is.
    path = root / "generated/evaluation/web/configmap-a.yaml"
    path.write_text("kind: [unclosed\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "broken")
    project = load_project(root)
    env = project.environments[0]
    with pytest.raises(InvalidInput, match=r"configmap-a\.yaml"):
        read_desired(project, env)
    path.write_text(CONFIG)
    fixed = read_desired(project, env)
    assert fixed.revision == "worktree"
    assert [m.id.name for m in fixed.app("web").manifests] == ["a"]


def test_a_committed_stray_is_refused_as_on_disk(root: Path) -> None:
    (root / "generated/evaluation/web/notes.txt").write_text("not rendered\n")
    (root / "generated/evaluation/.draft").mkdir()
    (root / "generated/evaluation/.draft/configmap-c.yaml").write_text(CONFIG)
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "x")
    project = load_project(root)
    env = project.environments[0]
    strays = r"left alone: generated/evaluation/.draft, generated/evaluation/web/notes.txt"
    with pytest.raises(InvalidInput, match=strays):
        read_desired(project, env)
    with pytest.raises(InvalidInput, match=strays):
        read_desired(project, env, "HEAD")
