"""The build plan and `hakobu images` on the command line."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from hakobu.cli import images as images_cli
from hakobu.errors import OperationFailed
from hakobu.images.build import execute, plan_builds
from hakobu.images.project import current_tags, open_project
from tests.unit.images.test_tags import FILES, PROJECT, commit, git, write


@pytest.fixture
def project(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    write(tmp_path, {"hakobu.yaml": PROJECT, **FILES})
    commit(tmp_path, "initial")
    return tmp_path


def test_plan_builds_missing_images_bases_first_with_pinned_bases(project: Path) -> None:
    images = open_project(project)
    tags = current_tags(images)
    steps = plan_builds(tags, images.specs, {"api": True, "base": False}, push=True)
    assert [step.image for step in steps] == ["base", "web"]
    assert [step.reason for step in steps] == ["not in the registry", "registry status unknown"]
    base, web = (tags.tags[name].reference for name in ("base", "web"))
    # `FROM ${BASE}` with BASE defaulting to …/base:latest: BuildKit expands, then drops
    # ":latest"; buildah matches `${BASE}` itself.
    assert steps[1].commands == (
        (
            "docker",
            "build",
            "-t",
            web,
            "-f",
            "services/web/Dockerfile",
            "--build-arg",
            "PY=3.10",
            "--build-context",
            f"registry.example.com/shop/base=docker-image://{base}",
            "services/web",
        ),
        ("docker", "push", web),
    )
    [_, buildah] = plan_builds(tags, images.specs, {"api": True}, builder="buildah")
    assert f"${{BASE}}=docker-image://{base}" in buildah.commands[0]


BASE = "registry.example.com/shop/base"
DIGEST = "sha256:" + "0" * 64
PINNED_PROJECT = {
    "hakobu.yaml": (
        "images:\n"
        "- {name: base, context: base, registry: registry.example.com/shop}\n"
        "- {name: web, context: web, registry: registry.example.com/shop}\n"
    ),
    "base/Dockerfile": "FROM scratch\n",
    "web/Dockerfile": (
        f"FROM {BASE}:latest AS runtime\n"
        f"COPY --from={BASE} /a /a\n"
        f"COPY --from={BASE}@{DIGEST} /b /b\n"
        "FROM runtime\n"
    ),
}


@pytest.mark.parametrize(
    ("builder", "names"),
    [
        # BuildKit looks contexts up by familiar name: the three spellings are two names.
        ("docker", [BASE, f"{BASE}@{DIGEST}"]),
        # buildah matches the text as written: each spelling needs its own context.
        ("buildah", [BASE, f"{BASE}:latest", f"{BASE}@{DIGEST}"]),
    ],
)
def test_each_spelling_of_a_base_is_pinned_as_the_builder_looks_it_up(
    tmp_path: Path, builder: str, names: list[str]
) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path, PINNED_PROJECT)
    commit(tmp_path, "initial")
    images = open_project(tmp_path)
    tags = current_tags(images)
    web, pinned = tags.tags["web"].reference, tags.tags["base"].reference
    contexts: list[str] = []
    for name in names:
        contexts += ["--build-context", f"{name}=docker-image://{pinned}"]
    [_, step] = plan_builds(tags, images.specs, {}, builder=builder, push=True)
    assert step.commands == (
        (builder, "build", "-t", web, "-f", "web/Dockerfile", *contexts, "web"),
        (builder, "push", web),
    )


def test_execute_stops_at_the_first_failure(project: Path) -> None:
    images = open_project(project)
    steps = plan_builds(current_tags(images), images.specs, {})
    ran: list[Sequence[str]] = []

    def runner(command: Sequence[str], cwd: Path) -> int:
        ran.append(command)
        assert cwd == project
        return 3 if len(ran) == 2 else 0

    with pytest.raises(OperationFailed, match="exited with 3"):
        execute(steps, project, lambda _: None, runner)
    assert len(ran) == 2 < len(steps)


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    images_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_images_json_and_build_dry_run(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, {"services/api/main.py": "print('v2')\n"})
    commit(project)
    assert run_cli("images", "-C", str(project), "--offline", "-o", "json") == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["api"]["changed"] is True
    assert rows["web"]["changed"] is False
    assert rows["web"]["registry"] == "unknown"
    assert run_cli("images", "-C", str(project), "build", "--offline", "--dry-run") == 0
    out = capsys.readouterr().out
    assert f"# in {project.resolve()}" in out
    assert f"docker build -t {rows['base']['reference']} -f images/base/Dockerfile" in out
    write(project, {"services/api/new.py": "x\n"})
    with pytest.raises(OperationFailed, match=r"services/api/new\.py"):
        run_cli("images", "-C", str(project), "build", "--require-clean", "--dry-run")
