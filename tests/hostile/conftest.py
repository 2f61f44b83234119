"""A small valid project in a git repository, beside a directory an attack aims at."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hostile.harness import Run, assert_refused, run_hakobu, snapshot

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
apps: apps
output: generated
environments:
  evaluation:
    namespace: shop-eval
    values: {replicas: 1}
"""

CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: "{{ values.replicas }}"
"""


@dataclass
class Case:
    """A hostile project: ``root`` is the repository, ``outside`` what must stay untouched."""

    root: Path
    outside: Path

    def write(self, relative: str, content: str | bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    def commit(self, message: str = "change") -> None:
        git = ["git", "-C", str(self.root)]
        subprocess.run([*git, "add", "-A"], check=True, capture_output=True)
        subprocess.run([*git, "commit", "-qm", message], check=True, capture_output=True)

    def state(self) -> dict[str, str]:
        """Everything the case must not change: the outside directory and the project."""
        return {
            **{f"outside/{k}": v for k, v in snapshot(self.outside).items()},
            **{
                f"project/{k}": v
                for k, v in snapshot(self.root, skip=(self.root / ".git",)).items()
            },
        }

    def hakobu(self, *args: str, stdin: bytes | None = None) -> Run:
        return run_hakobu(*args, cwd=self.root, stdin=stdin)

    def refuses(
        self, *args: str, expect: str | None = None, stdin: bytes | None = None, code: int = 2
    ) -> Run:
        """Run, hold the run to the bounds, and check that nothing changed anywhere."""
        before = self.state()
        run = self.hakobu(*args, stdin=stdin)
        assert_refused(run, expect=expect, code=code)
        assert self.state() == before, f"the run changed files\n{run.stderr}"
        return run


@pytest.fixture
def case(tmp_path: Path) -> Case:
    """A project with one template app, rendered and committed; ``outside`` holds a victim."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("must survive\n")
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    for key, value in (("user.name", "t"), ("user.email", "t@example.com")):
        subprocess.run(["git", "-C", str(root), "config", key, value], check=True)
    made = Case(root, outside)
    made.write("hakobu.yaml", PROJECT)
    made.write("apps/web/config.yaml.j2", CONFIG)
    # Setting up is not under test: no hostile bound on it.
    rendered = run_hakobu("render", cwd=root, seconds=60)
    assert rendered.returncode == 0, rendered.stderr
    made.commit("initial")
    return made
