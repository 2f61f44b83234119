"""Reading a repository through hakobu.repo: revisions, trees at a revision, local state."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hakobu.errors import InvalidInput
from hakobu.repo.branches import branch_exists, checked_out_branch
from hakobu.repo.repository import Repository, blob_id, discover, file_blob_id, work_tree
from hakobu.repo.revisions import LINK_MODE, CleanHead, UnknownRevision, lookup, on_disk
from hakobu.repo.trees import directories, subtrees, tree_blobs


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
    root = tmp_path / "repo"
    (root / "env/web/sub").mkdir(parents=True)
    (root / "env/.hidden").mkdir()
    (root / "env/web/b.yaml").write_text("b\n")
    (root / "env/web/sub/a.yaml").write_text("a\n")
    (root / "env/web/link.yaml").symlink_to("b.yaml")
    (root / "env/.hidden/x").write_text("x\n")
    (root / "env/top.yaml").write_text("top\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "one")
    return root


def test_discover_finds_the_repository_from_inside_and_nothing_outside(
    root: Path, tmp_path: Path
) -> None:
    repo = discover(root / "env/web")
    assert repo is not None
    assert work_tree(repo) == root.resolve()
    (tmp_path / "elsewhere").mkdir()
    assert discover(tmp_path / "elsewhere") is None


def test_blob_ids_are_git_s(root: Path) -> None:
    assert blob_id(b"b\n") == _git(root, "rev-parse", "HEAD:env/web/b.yaml")
    assert file_blob_id(root / "env/web/b.yaml") == blob_id(b"b\n")


def test_lookup_names_the_commit_or_says_why_not(root: Path) -> None:
    repo = discover(root)
    assert repo is not None
    assert str(lookup(repo, "main").id) == _git(root, "rev-parse", "HEAD")
    with pytest.raises(UnknownRevision) as raised:
        lookup(repo, "no-such-branch")
    assert raised.value.revision == "no-such-branch"
    assert raised.value.reason


def test_a_tree_is_walked_in_name_order_with_links_kept_as_links(root: Path) -> None:
    repo = discover(root)
    assert repo is not None
    commit = lookup(repo, "HEAD")
    assert directories(commit, "env") == [".hidden", "web"]
    assert directories(commit, "env/top.yaml") is None
    assert directories(commit, "missing") is None
    listing = subtrees(commit, "env")
    assert listing is not None
    trees, others = listing
    assert sorted(trees) == [".hidden", "web"] and others == ["top.yaml"]
    assert trees["web"] == _git(root, "rev-parse", "HEAD:env/web")
    assert subtrees(commit, "env/top.yaml") is None
    assert subtrees(commit, "missing") is None
    found = list(tree_blobs(repo, trees["web"]))
    assert [(b.path, b.is_link) for b in found] == [
        ("b.yaml", False),
        ("link.yaml", True),
        ("sub/a.yaml", False),
    ]
    link = found[1]
    assert link.mode == LINK_MODE and link.read() == b"b.yaml" and link.size == 6
    assert found[2].read() == b"a\n"
    assert found[0].id == _git(root, "rev-parse", "HEAD:env/web/b.yaml")
    # A blob's id names no directory.
    assert list(tree_blobs(repo, found[0].id)) == []


def clean_head(repo: Repository, path: str) -> str | None:
    with CleanHead(repo, path) as asked:
        return asked.result()


def test_clean_head_only_while_nothing_under_the_path_changed(root: Path) -> None:
    repo = discover(root)
    assert repo is not None
    head = _git(root, "rev-parse", "HEAD")
    assert clean_head(repo, "env/web") == head
    (root / "env/top.yaml").write_text("changed\n")
    assert clean_head(repo, "env/web") == head
    (root / "env/web/new.yaml").write_text("new\n")
    assert clean_head(repo, "env/web") is None


def test_the_checked_out_branch_and_which_branches_exist(root: Path) -> None:
    repo = discover(root)
    assert repo is not None
    assert checked_out_branch(repo) == "main"
    assert branch_exists(repo, "main") and not branch_exists(repo, "tier-1")
    _git(root, "checkout", "-q", "--detach")
    assert checked_out_branch(repo) is None


def test_a_repository_path_on_disk_needs_a_work_tree(root: Path, tmp_path: Path) -> None:
    repo = discover(root)
    assert repo is not None
    assert on_disk(repo, "env/top.yaml") == root / "env/top.yaml"
    _git(tmp_path, "clone", "-q", "--bare", str(root), "bare.git")
    bare = discover(tmp_path / "bare.git")
    assert bare is not None
    with pytest.raises(InvalidInput, match="is a bare repository"):
        on_disk(bare, "env/top.yaml")
