"""Remote bases and components in local git repositories (``file://``): built by kustomize
and by hakobu, the output must be identical; and what hakobu refuses, with the reason."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from hakobu.cli.main import main
from hakobu.errors import HakobuError
from hakobu.model.remotetarget import RemotePolicy, RemoteTarget
from hakobu.render.kustomize.build import build
from hakobu.render.kustomize.remote import Remotes
from hakobu.render.yamlout import dump_documents
from hakobu.repo.remotetree import fetch_tree

_CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  release: "{release}"
"""


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)
    return done.stdout.decode().strip()


def _repository(where: Path, files: dict[str, str], tag: str | None = None) -> tuple[str, str]:
    """A bare repository holding ``files`` in one commit: its file:// URL and the commit."""
    work = where.with_name(where.name + "-work")
    work.mkdir(parents=True)
    _git(work, "init", "-q", "-b", "main")
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        if text.startswith("symlink:"):
            (work / name).symlink_to(text.removeprefix("symlink:"))
        else:
            (work / name).write_text(text)
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "content")
    if tag:
        _git(work, "tag", "-a", tag, "-m", tag)
    _git(where.parent, "clone", "-q", "--bare", str(work), str(where))
    return f"file://{where}", _git(work, "rev-parse", "HEAD")


def _overlay(where: Path, text: str) -> Path:
    where.mkdir(parents=True)
    (where / "kustomization.yaml").write_text(text)
    return where


def _remotes(tmp_path: Path, *allow: str) -> Remotes:
    def fetch(target: RemoteTarget) -> Path:
        return fetch_tree(
            target.clone_url, target.ref, timeout=target.timeout, cache=tmp_path / "cache"
        ).path

    return Remotes(RemotePolicy(allow), fetch)


def _kustomize(kustomize_bin: Path, overlay: Path) -> str:
    return subprocess.run(
        [str(kustomize_bin), "build", str(overlay)], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def base_repo(tmp_path: Path) -> tuple[str, str]:
    return _repository(
        tmp_path / "repos" / "base.git",
        {
            "deploy/base/kustomization.yaml": "resources: [config.yaml]\nnamePrefix: base-\n",
            "deploy/base/config.yaml": _CONFIGMAP.format(name="app", release="1"),
            "deploy/extra/kustomization.yaml": (
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                "commonLabels: {tier: web}\n"
            ),
        },
        tag="v1.2.3",
    )


def test_remote_base_and_component_at_a_tag(
    tmp_path: Path, base_repo: tuple[str, str], kustomize_bin: Path
) -> None:
    url, _ = base_repo
    overlay = _overlay(
        tmp_path / "overlay",
        f"resources:\n- {url}//deploy/base?ref=v1.2.3\n"
        f"components:\n- {url}//deploy/extra?ref=v1.2.3\nnamespace: shop\n",
    )
    remotes = _remotes(tmp_path, f"file://{tmp_path}/repos/*")
    ours = dump_documents(build(overlay, remotes=remotes))
    assert ours == _kustomize(kustomize_bin, overlay)
    assert "base-app" in ours and "tier: web" in ours


def test_commit_ref_and_nested_remote(
    tmp_path: Path, base_repo: tuple[str, str], kustomize_bin: Path
) -> None:
    url, commit = base_repo
    outer_url, _ = _repository(
        tmp_path / "repos" / "outer.git",
        {
            "kustomization.yaml": f"resources:\n- {url}//deploy/base?ref={commit}\n"
            "nameSuffix: -outer\n",
        },
        tag="v2",
    )
    overlay = _overlay(tmp_path / "overlay", f"resources:\n- {outer_url}?ref=v2\n")
    remotes = _remotes(tmp_path, f"file://{tmp_path}/repos/*")
    ours = dump_documents(build(overlay, remotes=remotes))
    assert ours == _kustomize(kustomize_bin, overlay)
    assert "base-app-outer" in ours


def test_fetched_tree_is_reused_until_the_tag_moves(
    tmp_path: Path, base_repo: tuple[str, str]
) -> None:
    url, commit = base_repo
    first = fetch_tree(url, "v1.2.3", timeout=10, cache=tmp_path / "cache")
    assert first.commit == commit
    marker = first.path / "deploy" / "base" / "config.yaml"
    assert fetch_tree(url, "v1.2.3", timeout=10, cache=tmp_path / "cache").path == first.path
    work = tmp_path / "repos" / "base.git-work"
    (work / "deploy" / "base" / "config.yaml").write_text(
        _CONFIGMAP.format(name="app", release="2")
    )
    _git(work, "commit", "-q", "-am", "release 2")
    _git(work, "tag", "-f", "-a", "v1.2.3", "-m", "moved")
    _git(work, "push", "-q", "-f", str(tmp_path / "repos" / "base.git"), "main", "v1.2.3")
    moved = fetch_tree(url, "v1.2.3", timeout=10, cache=tmp_path / "cache")
    assert moved.commit != commit and moved.path != first.path
    assert 'release: "2"' in (moved.path / "deploy" / "base" / "config.yaml").read_text()
    assert 'release: "1"' in marker.read_text()


@pytest.mark.parametrize(
    ("entry", "allow", "expected"),
    [
        ("{url}//deploy/base", "file://{repos}/*", "names no ref"),
        ("{url}//deploy/base?ref=v1.2.3", "github.com/org/*", "matches no pattern"),
        ("{url}//deploy/base?ref=v1.2.3", "", "allows no remote resources"),
        ("{url}//deploy/base?ref=v9", "file://{repos}/*", "has no tag or branch 'v9'"),
        ("file://{repos}/absent.git//x?ref=v1", "file://{repos}/*", "cannot reach"),
        ("{url}//deploy/../..?ref=v1.2.3", "file://{repos}/*", "url path exits repo"),
    ],
)
def test_refused_with_file_field_and_reason(
    tmp_path: Path, base_repo: tuple[str, str], entry: str, allow: str, expected: str
) -> None:
    url, _ = base_repo
    repos = tmp_path / "repos"
    written = entry.format(url=url, repos=repos)
    overlay = _overlay(tmp_path / "overlay", f"resources:\n- {written}\n")
    patterns = (allow.format(repos=repos),) if allow else ()
    with pytest.raises(HakobuError) as raised:
        build(overlay, remotes=_remotes(tmp_path, *patterns))
    text = str(raised.value) + (raised.value.hint or "")
    assert expected in text
    assert str(repos) in text
    assert "kustomization.yaml:2: resources[0]" in text and "resources[0]" in text


def test_a_link_out_of_the_fetched_tree_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text(_CONFIGMAP.format(name="stolen", release="0"))
    url, _ = _repository(
        tmp_path / "repos" / "links.git",
        {
            "kustomization.yaml": "resources: [config.yaml]\n",
            "config.yaml": f"symlink:{secret}",
        },
        tag="v1",
    )
    overlay = _overlay(tmp_path / "overlay", f"resources:\n- {url}?ref=v1\n")
    with pytest.raises(HakobuError) as raised:
        build(overlay, remotes=_remotes(tmp_path, f"file://{tmp_path}/repos/*"))
    assert "config.yaml" in str(raised.value)
    assert "stolen" not in str(raised.value)


def test_without_remotes_a_remote_base_is_refused(
    tmp_path: Path, base_repo: tuple[str, str]
) -> None:
    url, _ = base_repo
    overlay = _overlay(tmp_path / "overlay", f"resources:\n- {url}//deploy/base?ref=v1.2.3\n")
    with pytest.raises(HakobuError, match="is not supported"):
        build(overlay)


def test_hakobu_build_allows_remotes_by_flag_or_project(
    tmp_path: Path,
    base_repo: tuple[str, str],
    kustomize_bin: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HAKOBU_CACHE_DIR", str(tmp_path / "cache"))
    url, _ = base_repo
    overlay = _overlay(tmp_path / "overlay", f"resources:\n- {url}//deploy/base?ref=v1.2.3\n")
    assert main(["build", str(overlay)]) == 2
    assert "--allow-remote" in capsys.readouterr().err
    pattern = f"file://{tmp_path}/repos/*"
    assert main(["build", str(overlay), "--allow-remote", pattern]) == 0
    assert capsys.readouterr().out == _kustomize(kustomize_bin, overlay)
    project = tmp_path / "project"
    project.mkdir()
    (project / "hakobu.yaml").write_text(
        "apiVersion: hakobu.dev/v1alpha1\nkind: Project\nname: shop\n"
        "environments: {production: {namespace: shop}}\n"
        f"kustomize: {{remoteResources: {{allow: ['{pattern}']}}}}\n"
    )
    inside = _overlay(project / "apps" / "web", overlay.joinpath("kustomization.yaml").read_text())
    assert main(["build", str(inside)]) == 0
    assert capsys.readouterr().out == _kustomize(kustomize_bin, inside)
