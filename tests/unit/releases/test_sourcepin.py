"""A system repository renders its fleets' instances from the application repository it pins:
at that commit only, re-rendering when the pin moves, and refusing a pin it cannot fetch at
hakobu.yaml's line and field, with nothing written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hakobu.cli.main import main
from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.project import load_project
from hakobu.model.source import SourceError
from hakobu.releases.fleetcommit import FleetWriter, Put
from hakobu.releases.rendercommit import RenderRequest, render_project
from hakobu.releases.sourcepin import plan_pin
from hakobu.render.apps import discover_apps
from hakobu.render.inputs import Inputs

TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ app }}
data:
  host: "{{ values.host }}"
  version: "VERSION"
"""
OUTPUT = "generated/dev/shops-berlin/configmap-shops-berlin.yaml"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def commit_template(app_repo: Path, version: str) -> str:
    template = app_repo / "apps" / "shops" / "template"
    template.mkdir(parents=True, exist_ok=True)
    (template / "config.yaml.j2").write_text(TEMPLATE.replace("VERSION", version))
    (app_repo / "apps" / "shops" / "fleet.yaml").write_text(
        "tiers: [canary, stable]\nvalues:\n  host: ''\n"
    )
    git(app_repo, "add", "-A")
    git(app_repo, "commit", "-qm", f"template {version}")
    return git(app_repo, "rev-parse", "HEAD")


def system_project(repository: str, revision: str) -> str:
    return (
        "apiVersion: hakobu.dev/v1alpha1\nkind: Project\nname: shops\n"
        "# the application repository, at the commit the fleet renders\n"
        f"source:\n  repository: {repository}\n  revision: {revision}\n"
        "environments:\n  dev:\n    namespace: shops\n"
    )


@pytest.fixture
def repos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("HAKOBU_CACHE_DIR", str(tmp_path / "cache"))
    app_repo, system = tmp_path / "app", tmp_path / "system"
    for repo in (app_repo, system):
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
    instances = system / "apps" / "shops" / "instances"
    instances.mkdir(parents=True)
    (instances / "berlin.yaml").write_text("tier: canary\nvalues: {host: berlin.example}\n")
    return app_repo, system


def render(system: Path) -> None:
    render_project(load_project(system), RenderRequest())


def test_instances_render_from_the_pinned_commit_and_again_when_the_pin_moves(
    repos: tuple[Path, Path],
) -> None:
    app_repo, system = repos
    first = commit_template(app_repo, "1")
    second = commit_template(app_repo, "2")
    (system / "hakobu.yaml").write_text(system_project("../app", first))
    render(system)
    output = (system / OUTPUT).read_text()
    assert 'version: "1"' in output and "berlin.example" in output
    # A new commit in the application repository changes nothing until the pin moves.
    render(system)
    assert 'version: "1"' in (system / OUTPUT).read_text()
    (system / "hakobu.yaml").write_text(system_project("../app", second))
    render(system)
    assert 'version: "2"' in (system / OUTPUT).read_text()


def test_a_pinned_commit_the_repository_lacks_is_refused_at_its_line(
    repos: tuple[Path, Path],
) -> None:
    app_repo, system = repos
    commit_template(app_repo, "1")
    (system / "hakobu.yaml").write_text(system_project("../app", "ab" * 20))
    with pytest.raises(SourceError) as raised:
        render(system)
    assert raised.value.file == str(system / "hakobu.yaml")
    assert raised.value.line == 7
    assert raised.value.field == ("source", "revision")
    assert not (system / "generated").exists()


def test_an_unreachable_repository_is_refused_at_its_line(repos: tuple[Path, Path]) -> None:
    _, system = repos
    (system / "hakobu.yaml").write_text(system_project("../missing", "ab" * 20))
    with pytest.raises(SourceError) as raised:
        render(system)
    assert raised.value.line == 6
    assert raised.value.field == ("source", "repository")
    assert not (system / "generated").exists()


def test_a_revision_that_is_not_a_full_commit_id_is_refused(repos: tuple[Path, Path]) -> None:
    _, system = repos
    (system / "hakobu.yaml").write_text(system_project("../app", "main"))
    with pytest.raises(SourceError, match="expected a full commit id") as raised:
        load_project(system)
    assert raised.value.line == 7


def test_rendering_without_the_fetched_tree_says_so(repos: tuple[Path, Path]) -> None:
    app_repo, system = repos
    (system / "hakobu.yaml").write_text(system_project("../app", commit_template(app_repo, "1")))
    with pytest.raises(OperationFailed, match="is not fetched"):
        discover_apps(load_project(system), Inputs())


def test_moving_the_pin_rewrites_only_the_commit_id(repos: tuple[Path, Path]) -> None:
    app_repo, system = repos
    first = commit_template(app_repo, "1")
    git(app_repo, "tag", "v1")
    second = commit_template(app_repo, "2")
    text = system_project("../app", first)
    (system / "hakobu.yaml").write_text(text)
    move = plan_pin(load_project(system), "main")
    assert (move.before, move.after) == (first, second)
    assert move.text == text.replace(first, second)
    assert plan_pin(load_project(system), "v1").text is None


def test_a_revision_the_repository_lacks_cannot_be_pinned(repos: tuple[Path, Path]) -> None:
    app_repo, system = repos
    (system / "hakobu.yaml").write_text(system_project("../app", commit_template(app_repo, "1")))
    for missing in ("no-such-branch", "cd" * 20):
        with pytest.raises(InvalidInput, match="has no branch, tag or commit"):
            plan_pin(load_project(system), missing)


def test_the_fleet_writer_writes_instances_into_a_system_repository(
    repos: tuple[Path, Path], tmp_path: Path
) -> None:
    app_repo, system = repos
    pinned = commit_template(app_repo, "1")
    # The writer renders in a clone of its own: the pin names the repository absolutely.
    (system / "hakobu.yaml").write_text(system_project(app_repo.as_uri(), pinned))
    (system / "apps" / "shops" / "instances" / "berlin.yaml").unlink()
    (system / "apps" / "shops" / "instances" / ".keep").write_text("")
    git(system, "add", "-A")
    git(system, "commit", "-qm", "a system repository")
    bare = tmp_path / "system.git"
    git(tmp_path, "clone", "-q", "--bare", str(system), str(bare))
    writer = FleetWriter(str(bare), "main", ".", tmp_path / "writer")
    written = writer.write([Put("shops/oslo", "shops", "oslo", "canary", {"host": "oslo.example"})])
    assert written.made and not written.refused
    rendered = git(bare, "show", "main:generated/dev/shops-oslo/configmap-shops-oslo.yaml")
    assert 'version: "1"' in rendered and "oslo.example" in rendered
    # Only the instance and its output are the system repository's; the template is not.
    files = git(bare, "ls-tree", "-r", "--name-only", "main").splitlines()
    assert "apps/shops/instances/oslo.yaml" in files
    assert not [f for f in files if "template" in f or f.endswith("fleet.yaml")]


def test_source_pin_on_the_command_line(
    repos: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    app_repo, system = repos
    first = commit_template(app_repo, "1")
    second = commit_template(app_repo, "2")
    (system / "hakobu.yaml").write_text(system_project("../app", first))
    assert main(["source", "-C", str(system), "pin", "--to", "missing"]) == 2
    assert "has no branch, tag or commit 'missing'" in capsys.readouterr().err
    assert (system / "hakobu.yaml").read_text() == system_project("../app", first)
    assert main(["source", "-C", str(system), "pin", "--to", "main"]) == 0
    assert (system / "hakobu.yaml").read_text() == system_project("../app", second)


def test_hakobu_build_renders_an_instance_from_the_pin(
    repos: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    app_repo, system = repos
    (system / "hakobu.yaml").write_text(system_project("../app", commit_template(app_repo, "1")))
    commit_template(app_repo, "2")
    instance = system / "apps" / "shops" / "instances" / "berlin.yaml"
    assert main(["build", str(instance)]) == 0
    built = capsys.readouterr().out
    assert 'version: "1"' in built and "berlin.example" in built
