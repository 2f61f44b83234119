"""`hakobu render` with kustomize apps whose bases are remote git repositories (local bare
repositories over file://): the output is kustomize's, a cached app is reused while its refs
name the same commits, and a moved tag re-renders exactly the apps that fetch it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hakobu.model.project import load_project
from hakobu.releases.overlays import promote_overlay
from hakobu.releases.rendercommit import RenderRequest, render_project
from hakobu.render.apps import discover_apps
from hakobu.render.inputs import Inputs
from hakobu.repo import remotetree

_CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: app
data:
  release: "{release}"
"""


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)
    return done.stdout.decode().strip()


def _hakobu(cwd: Path, cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hakobu", *args],
        cwd=cwd,
        env={**os.environ, "HAKOBU_CACHE_DIR": str(cache)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def repos(tmp_path: Path) -> Path:
    """A bare repository ``base.git`` whose tag v1 holds a base, pushed from ``base-work``."""
    work = tmp_path / "repos" / "base-work"
    work.mkdir(parents=True)
    _git(work, "init", "-q", "-b", "main")
    (work / "deploy").mkdir()
    (work / "deploy" / "kustomization.yaml").write_text("resources: [config.yaml]\n")
    (work / "deploy" / "config.yaml").write_text(_CONFIGMAP.format(release="1"))
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "release 1")
    _git(work, "tag", "-a", "v1", "-m", "v1")
    _git(work, "branch", "stable")
    _git(work.parent, "clone", "-q", "--bare", str(work), str(work.parent / "base.git"))
    return work.parent


def _move_tag(repos: Path, release: str) -> None:
    work = repos / "base-work"
    (work / "deploy" / "config.yaml").write_text(_CONFIGMAP.format(release=release))
    _git(work, "commit", "-q", "-am", f"release {release}")
    _git(work, "tag", "-f", "-a", "v1", "-m", "moved")
    _git(work, "push", "-q", "-f", str(repos / "base.git"), "main", "v1")


def _project(tmp_path: Path, repos: Path, *, allow: bool = True) -> Path:
    root = tmp_path / "shop"
    root.mkdir()
    (root / "hakobu.yaml").write_text(
        "apiVersion: hakobu.dev/v1alpha1\nkind: Project\nname: shop\napps: apps\n"
        "output: generated\nenvironments:\n  production:\n    namespace: shop\n"
        + (f"kustomize:\n  remoteResources:\n    allow: ['file://{repos}/*']\n" if allow else "")
    )
    url = f"file://{repos}/base.git"
    for name, ref in (("tagged", "v1"), ("branched", "stable")):
        app = root / "apps" / name
        app.mkdir(parents=True)
        (app / "kustomization.yaml").write_text(
            f"namespace: shop\nnamePrefix: {name}-\nresources:\n- {url}//deploy?ref={ref}\n"
        )
    local = root / "apps" / "local"
    local.mkdir()
    (local / "config.yaml").write_text(_CONFIGMAP.format(release="local"))
    return root


def _results(done: subprocess.CompletedProcess[str]) -> dict[str, list[str]]:
    assert done.returncode in (0, 1), done.stderr
    (env,) = json.loads(done.stdout)["environments"]
    return {key: env[key] for key in ("rendered", "cached", "changed")}


def test_render_builds_remote_bases_as_kustomize_does(
    tmp_path: Path, repos: Path, kustomize_bin: Path
) -> None:
    root = _project(tmp_path, repos)
    done = _hakobu(root, tmp_path / "cache", "render")
    assert done.returncode == 0, done.stderr
    for name in ("tagged", "branched"):
        oracle = subprocess.run(
            [str(kustomize_bin), "build", str(root / "apps" / name)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (written,) = (root / "generated" / "production" / name).iterdir()
        assert yaml.safe_load(written.read_text()) == yaml.safe_load(oracle)


def test_a_moved_tag_re_renders_exactly_the_apps_that_fetch_it(tmp_path: Path, repos: Path) -> None:
    root = _project(tmp_path, repos)
    cache = tmp_path / "cache"
    assert _hakobu(root, cache, "render").returncode == 0
    again = _results(_hakobu(root, cache, "render", "--output", "json"))
    assert again["rendered"] == [] and sorted(again["cached"]) == ["branched", "local", "tagged"]

    _move_tag(repos, "2")
    check = _hakobu(root, cache, "render", "--check", "--output", "json")
    assert check.returncode == 1, check.stderr
    stale = _results(check)
    assert stale["changed"] == ["tagged/configmap-tagged-app.yaml"]
    assert stale["rendered"] == ["tagged"]
    assert sorted(stale["cached"]) == ["branched", "local"]
    # The check rendered it already: the render that writes it reuses that.
    moved = _results(_hakobu(root, cache, "render", "--output", "json"))
    assert moved["changed"] == ["tagged/configmap-tagged-app.yaml"]
    assert moved["rendered"] == []
    written = root / "generated" / "production" / "tagged" / "configmap-tagged-app.yaml"
    assert 'release: "2"' in written.read_text()
    branched = root / "generated" / "production" / "branched" / "configmap-branched-app.yaml"
    assert 'release: "1"' in branched.read_text()
    # The commit a tag named before is still in the cache: only the new one was fetched.
    trees = list((cache / "kustomize-remotes").iterdir())
    assert len(trees) == 1 and len(list(trees[0].iterdir())) == 2


def test_each_url_is_listed_once_per_render(
    tmp_path: Path, repos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HAKOBU_CACHE_DIR", str(tmp_path / "cache"))
    listed: list[str] = []
    real = remotetree._list_heads

    def counting(remote: object, url: str, callbacks: object) -> dict[str, str]:
        listed.append(url)
        return real(remote, url, callbacks)  # type: ignore[arg-type]

    monkeypatch.setattr(remotetree, "_list_heads", counting)
    project = load_project(_project(tmp_path, repos))
    render_project(project, RenderRequest())
    assert listed == [f"file://{repos}/base.git"]
    # A cached render asks again, once, whether the refs moved.
    render_project(project, RenderRequest())
    assert len(listed) == 2


def test_a_refused_remote_names_its_file_and_field_and_writes_nothing(
    tmp_path: Path, repos: Path
) -> None:
    root = _project(tmp_path, repos, allow=False)
    before = _snapshot(root)
    done = _hakobu(root, tmp_path / "cache", "render")
    assert done.returncode == 2
    assert "allows no remote resources" in done.stderr
    assert "kustomization.yaml:4: resources[0]" in done.stderr
    assert "kustomize.remoteResources.allow" in done.stderr
    assert _snapshot(root) == before


def test_an_unreachable_repository_fails_a_cached_render_and_writes_nothing(
    tmp_path: Path, repos: Path
) -> None:
    root = _project(tmp_path, repos)
    cache = tmp_path / "cache"
    assert _hakobu(root, cache, "render").returncode == 0
    (repos / "base.git").rename(repos / "gone.git")
    (root / "apps" / "local" / "config.yaml").write_text(_CONFIGMAP.format(release="new"))
    before = _snapshot(root / "generated")
    done = _hakobu(root, cache, "render")
    assert done.returncode == 1
    assert f"cannot reach the repository file://{repos}/base.git" in done.stderr
    assert _snapshot(root / "generated") == before


_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: cache
spec:
  selector: {matchLabels: {app: cache}}
  template:
    metadata:
      labels: {app: cache}
    spec:
      containers:
      - name: redis
        image: redis:7.2
"""


def test_promoting_an_overlay_of_a_remote_base(
    tmp_path: Path, repos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HAKOBU_CACHE_DIR", str(tmp_path / "cache"))
    work = repos / "base-work"
    (work / "cache").mkdir()
    (work / "cache" / "kustomization.yaml").write_text("resources: [deployment.yaml]\n")
    (work / "cache" / "deployment.yaml").write_text(_DEPLOYMENT)
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "cache")
    _git(work, "tag", "-a", "v2", "-m", "v2")
    _git(work, "push", "-q", str(repos / "base.git"), "main", "v2")
    root = tmp_path / "shop"
    (root / "apps").mkdir(parents=True)
    (root / "hakobu.yaml").write_text(
        "apiVersion: hakobu.dev/v1alpha1\nkind: Project\nname: shop\napps: apps\n"
        "output: generated\nenvironments:\n  evaluation:\n    namespace: shop-eval\n"
        "  production:\n    namespace: shop\n"
        f"kustomize:\n  remoteResources:\n    allow: ['file://{repos}/*']\n"
    )
    for env, tag in (("evaluation", "7.4.1"), ("production", "7.2")):
        overlay = root / "apps" / "cache" / "overlays" / env
        overlay.mkdir(parents=True)
        (overlay / "kustomization.yaml").write_text(
            f"resources:\n- file://{repos}/base.git//cache?ref=v2\n"
            f"images:\n- name: redis\n  newTag: '{tag}'\n"
        )
    project = load_project(root)
    (app,) = discover_apps(project, Inputs())
    promoted = promote_overlay(
        project, app, project.environment("evaluation"), project.environment("production")
    )
    assert promoted is not None
    target = root / "apps" / "cache" / "overlays" / "production" / "kustomization.yaml"
    assert "7.4.1" in target.read_text()
