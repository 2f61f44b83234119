"""``hakobu rollback`` and ``hakobu history`` (git part) on real git repositories."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path

import pytest

from hakobu.cli import releases, sync
from hakobu.errors import HakobuError
from hakobu.model.project import load_project
from hakobu.releases.rollback import rollback_subject
from hakobu.render.environment import render_environment, write_environment

WEB = """\
# the storefront
name: web
image: nginx:1.27   # pinned on purpose
ports: [{name: http, port: 80}]
environments:
  prod:
    replicas: 2  # two in production
"""


class Shop:
    """A project with environments dev and prod in a git repository of its own."""

    def __init__(self, root: Path, dev: str = "shop-dev", prod: str = "shop-prod") -> None:
        self.root = root
        root.mkdir(parents=True)
        self.write(
            "hakobu.yaml",
            "apiVersion: hakobu.dev/v1alpha1\nkind: Project\nname: shop\nenvironments:\n"
            f"  dev: {{namespace: {dev}}}\n  prod: {{namespace: {prod}}}\n",
        )
        self.write("apps/web.yaml", WEB)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "ci@example.com")
        self.git("config", "user.name", "CI")

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.root), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    def write(self, path: str, text: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def read(self, path: str) -> str:
        return (self.root / path).read_text()

    def set_image(self, image: str) -> None:
        text = re.sub(r"nginx:[0-9.]+", image, self.read("apps/web.yaml"), count=1)
        self.write("apps/web.yaml", text)

    def render_and_commit(self, message: str) -> str:
        project = load_project(self.root)
        for env in project.environments:
            desired, result = render_environment(project, env)
            if result.has_changes:
                write_environment(project, env, desired, result)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    def changed(self, old: str, new: str, path: str) -> list[str]:
        return self.git("diff", "--name-only", old, new, "--", path).splitlines()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def at(self, rev: str, path: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.root), "show", f"{rev}:{path}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def stale(self, env: str) -> bool:
        project = load_project(self.root)
        return render_environment(project, project.environment(env))[1].has_changes


def hakobu(*argv: str) -> int:
    """The commands as the command line runs them: exit code, errors printed to stdout."""
    parser = argparse.ArgumentParser(prog="hakobu")
    subparsers = parser.add_subparsers(required=True)
    releases.register(subparsers)
    sync.register(subparsers)
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except HakobuError as e:
        print(f"error: {e}")
        return e.exit_code
    return code


DEPLOYMENT = "generated/dev/web/deployment-web.yaml"


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    shop = Shop(tmp_path / "shop")
    shop.render_and_commit("web 1.27")
    shop.set_image("nginx:1.28")
    shop.render_and_commit("web 1.28")
    return shop


def test_rollback_is_a_new_commit_restoring_the_previous_output(shop: Shop) -> None:
    before = shop.head()
    first = shop.git("rev-parse", "HEAD~1")

    assert hakobu("rollback", "dev", "-C", str(shop.root), "-m", "1.28 fails to start") == 0

    assert shop.git("rev-parse", "HEAD~1") == before
    assert shop.read(DEPLOYMENT) == shop.at(first, DEPLOYMENT)
    assert "nginx:1.27" in shop.read(DEPLOYMENT)
    changed = shop.git("show", "--name-only", "--format=", "HEAD").splitlines()
    assert changed == shop.changed(first, before, "generated/dev")
    assert DEPLOYMENT in changed
    message = shop.git("log", "-1", "--format=%B")
    assert message.startswith(f"rollback dev to {first[:7]}")
    assert first in message and before in message
    assert "Why: 1.28 fails to start" in message
    assert "re-creates the rolled-back state" in message
    assert shop.git("status", "--porcelain") == ""
    # The inputs still say 1.28: a render would undo the rollback, as the message warns.
    assert "nginx:1.28" in shop.read("apps/web.yaml")
    assert shop.stale("dev")


def test_rollback_with_inputs_makes_the_next_render_agree(shop: Shop) -> None:
    first = shop.git("rev-parse", "HEAD~1")

    assert hakobu("rollback", "dev", "-C", str(shop.root), "--app", "web", "--inputs") == 0

    assert shop.read("apps/web.yaml") == WEB
    assert not shop.stale("dev")
    changed = shop.git("show", "--name-only", "--format=", "HEAD").splitlines()
    assert changed == ["apps/web.yaml", *shop.changed(first, "HEAD~1", "generated/dev")]
    assert shop.read(DEPLOYMENT) == shop.at(first, DEPLOYMENT)
    assert shop.git("status", "--porcelain") == ""


def test_rollback_of_one_app_to_a_named_revision(shop: Shop) -> None:
    first = shop.git("rev-parse", "HEAD~1")
    shop.write("apps/api.yaml", "name: api\nimage: api:1\nports: [{name: http, port: 8080}]\n")
    shop.set_image("nginx:1.29")
    shop.render_and_commit("api, web 1.29")
    api_before = shop.read("generated/dev/api/deployment-api.yaml")

    assert hakobu("rollback", "dev", "-C", str(shop.root), "--app", "web", "--to", first) == 0

    assert "nginx:1.27" in shop.read(DEPLOYMENT)
    assert shop.read("generated/dev/api/deployment-api.yaml") == api_before
    changed = shop.git("show", "--name-only", "--format=", "HEAD").splitlines()
    assert changed == shop.changed(first, "HEAD~1", "generated/dev/web")
    message = shop.git("log", "-1", "--format=%B")
    assert "api, web 1.29" in message and "web 1.28" in message


def test_rollback_errors_commit_nothing(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    before = shop.head()
    root = str(shop.root)

    assert hakobu("rollback", "dev", "-C", root, "--to", "no-such-rev") == 2
    assert "unknown revision 'no-such-rev'" in capsys.readouterr().out

    assert hakobu("rollback", "dev", "-C", root, "--to", "HEAD") == 2
    assert "nothing to roll back" in capsys.readouterr().out

    assert hakobu("rollback", "staging", "-C", root) == 2
    assert "no environment named 'staging'" in capsys.readouterr().out

    (shop.root / DEPLOYMENT).write_text("edited by hand\n")
    assert hakobu("rollback", "dev", "-C", root) == 2
    out = capsys.readouterr().out
    assert "local changes" in out and DEPLOYMENT in out and "git checkout --" in out
    assert shop.read(DEPLOYMENT) == "edited by hand\n"
    shop.git("checkout", "--", DEPLOYMENT)

    assert shop.head() == before


def test_rollback_to_a_revision_without_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = Shop(tmp_path / "shop")
    shop.write("README", "shop\n")
    shop.git("add", "README")
    shop.git("commit", "-q", "-m", "start")
    start = shop.head()
    shop.render_and_commit("first render")

    assert hakobu("rollback", "dev", "-C", str(shop.root), "--to", start) == 2
    assert "environment 'dev' did not exist at" in capsys.readouterr().out
    # The default target is the state before the only change: there is none.
    assert hakobu("rollback", "dev", "-C", str(shop.root)) == 2
    assert "did not exist" in capsys.readouterr().out
    assert shop.git("rev-list", "--count", "HEAD") == "2"


def test_history_lists_the_environments_commits_with_apps(
    shop: Shop, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shop.write("apps/web.yaml", shop.read("apps/web.yaml").replace("replicas: 2", "replicas: 3"))
    shop.render_and_commit("prod: three replicas")
    missing = str(tmp_path / "no-kubeconfig")

    assert (
        hakobu("history", "dev", "-C", str(shop.root), "--kubeconfig", missing, "-o", "json") == 0
    )
    report = json.loads(capsys.readouterr().out)

    assert [c["subject"] for c in report["commits"]] == ["web 1.28", "web 1.27"]
    assert all(c["apps"] == ["web"] for c in report["commits"])
    assert report["commits"][0]["author"] == "CI"
    assert report["commits"][0]["syncs"] == [] and report["commits"][0]["health"] is None
    assert "git history only" in report["cluster"]

    assert hakobu("history", "prod", "-C", str(shop.root), "--kubeconfig", missing, "-n", "1") == 0
    out = capsys.readouterr().out
    assert "prod: three replicas" in out and "web 1.28" not in out
    assert "git history only" in out


def test_rolling_back_to_a_rollback_names_the_content_once(shop: Shop) -> None:
    first = shop.git("rev-parse", "HEAD~1")
    root = str(shop.root)
    assert hakobu("rollback", "dev", "-C", root) == 0
    restored = shop.head()
    for image in ("nginx:1.29", "nginx:1.30"):
        shop.set_image(image)
        shop.render_and_commit(f"web {image}")
        assert hakobu("rollback", "dev", "-C", root, "--to", restored) == 0
        assert shop.git("log", "-1", "--format=%s") == f"rollback dev to {restored[:7]}: web 1.27"
        restored = shop.head()
    assert shop.git("log", "-1", "--format=%s", first) == "web 1.27"


def test_a_long_subject_is_cut_to_one_line_of_72() -> None:
    long = "web 1.28: " + "a much longer description of the change " * 3
    line = rollback_subject("dev", "0123abc", f"rollback dev to 89abcde: {long}\n\nbody\n")
    assert line.startswith("rollback dev to 0123abc: web 1.28: a much longer")
    assert len(line) == 72 and line.endswith("…")
    assert rollback_subject("dev", "0123abc", "web 1.27\n") == "rollback dev to 0123abc: web 1.27"


def test_a_tier_is_rolled_back_only_on_its_branch(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    project = shop.read("hakobu.yaml").replace(
        "{namespace: shop-prod}", "{namespace: shop-prod, branch: tier-1}"
    )
    shop.write("hakobu.yaml", project)
    shop.git("commit", "-qam", "prod follows tier-1")
    shop.git("branch", "tier-1")
    before = shop.head()
    root = str(shop.root)

    assert hakobu("rollback", "prod", "-C", root) == 2
    assert "tracks branch 'tier-1', which is not checked out" in capsys.readouterr().out
    shop.git("checkout", "-q", "--detach", "tier-1")
    assert hakobu("rollback", "prod", "-C", root) == 2
    assert "which is not checked out" in capsys.readouterr().out
    assert shop.head() == before
