"""`hakobu init` and `hakobu render` on real directories and real git repositories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pygit2
import pytest

ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}


def hakobu(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hakobu", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    root.mkdir()
    assert hakobu(root, "init").returncode == 0
    git(root, "init", "-q")
    git(root, "config", "user.name", "t")
    git(root, "config", "user.email", "t@example.com")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    return root


def test_init_then_render_writes_every_environment(project: Path) -> None:
    result = hakobu(project, "render")
    assert result.returncode == 0, result.stderr
    files = snapshot(project / "generated")
    assert "production/web/deployment-web.yaml" in files
    assert "evaluation/worker/deployment-worker.yaml" in files
    assert "production/redis/service-redis.yaml" in files
    assert b"namespace: shop-eval" in files["evaluation/web/deployment-web.yaml"]
    assert b"replicas: 3" in files["production/worker/deployment-worker.yaml"]
    assert b"memory: 1Gi" in files["production/redis/deployment-redis.yaml"]
    assert b"memory: 1Gi" not in files["evaluation/redis/deployment-redis.yaml"]


def test_render_is_byte_identical_across_runs_and_caches(project: Path, tmp_path: Path) -> None:
    assert hakobu(project, "render").returncode == 0
    first = snapshot(project / "generated")
    again = hakobu(project, "render")
    assert "up to date" in again.stdout
    assert "from cache" in again.stdout
    fresh = tmp_path / "fresh"
    subprocess.run(["cp", "-r", str(project), str(fresh)], check=True)
    subprocess.run(["rm", "-rf", str(fresh / "generated"), str(fresh / ".hakobu")], check=True)
    assert hakobu(fresh, "render", "--no-cache").returncode == 0
    assert snapshot(fresh / "generated") == first


def test_check_reports_stale_output_and_writes_nothing(project: Path) -> None:
    assert hakobu(project, "render").returncode == 0
    assert hakobu(project, "render", "--check").returncode == 0
    web = project / "apps" / "web.yaml"
    web.write_text(web.read_text().replace("1.4.2", "1.5.0"))
    before = snapshot(project / "generated")
    stale = hakobu(project, "render", "--check")
    assert stale.returncode == 1
    assert "~ web/deployment-web.yaml" in stale.stdout
    assert snapshot(project / "generated") == before


def test_changed_values_file_is_rendered_again(project: Path) -> None:
    assert hakobu(project, "render").returncode == 0
    (project / "apps" / "worker" / "values-production.yaml").write_text("logLevel: debug\n")
    result = hakobu(project, "render")
    assert result.returncode == 0
    assert "production: rendered: 0 added, 1 changed" in result.stdout
    assert "evaluation: up to date" in result.stdout
    deployment = project / "generated" / "production" / "worker" / "deployment-worker.yaml"
    assert "value: debug" in deployment.read_text()


def test_a_removed_app_removes_its_files(project: Path) -> None:
    assert hakobu(project, "render").returncode == 0
    subprocess.run(["rm", "-r", str(project / "apps" / "worker")], check=True)
    result = hakobu(project, "render")
    assert "- worker/deployment-worker.yaml" in result.stdout
    assert not (project / "generated" / "production" / "worker").exists()


def test_invalid_input_writes_nothing(project: Path) -> None:
    assert hakobu(project, "render").returncode == 0
    before = snapshot(project / "generated")
    (project / "apps" / "worker" / "broken.yaml").write_text("kind: [unclosed\n")
    web = project / "apps" / "web.yaml"
    web.write_text(web.read_text().replace("1.4.2", "1.5.0"))
    result = hakobu(project, "render")
    assert result.returncode == 2
    assert "broken.yaml:2: invalid YAML" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(project / "generated") == before


@pytest.mark.parametrize(
    ("addition", "expected"),
    [
        ("sidecars: [{name: web, image: proxy:1}]\n", "sidecars[0].name: 'web' is the name"),
        (
            "mounts: [{name: cache, mountPath: /cache}]\n",
            "mounts[0].name: no volume is named 'cache'",
        ),
    ],
)
def test_an_invalid_app_spec_field_writes_nothing(
    project: Path, addition: str, expected: str
) -> None:
    assert hakobu(project, "render").returncode == 0
    before = snapshot(project / "generated")
    web = project / "apps" / "web.yaml"
    lines = len(web.read_text().splitlines())
    web.write_text(web.read_text().replace("1.4.2", "1.5.0") + addition)
    result = hakobu(project, "render")
    assert result.returncode == 2
    assert f"apps/web.yaml:{lines + 1}: {expected}" in result.stderr, result.stderr
    assert snapshot(project / "generated") == before


def test_two_apps_defining_one_object_is_an_error(project: Path) -> None:
    (project / "apps" / "web-copy").mkdir()
    (project / "apps" / "web-copy" / "service.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\n"
    )
    result = hakobu(project, "render")
    assert result.returncode == 2
    assert "Service/shop-eval/web is defined in apps web and web-copy" in result.stderr
    assert not (project / "generated").exists()


def test_plaintext_secrets_are_refused_unless_allowed(project: Path) -> None:
    (project / "apps" / "worker" / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: x\n"
    )
    refused = hakobu(project, "render")
    assert refused.returncode == 2
    assert "plaintext secret data" in refused.stderr
    assert "hakobu secret seal" in refused.stderr
    config = project / "hakobu.yaml"
    config.write_text(
        config.read_text().replace(
            "    namespace: shop-eval\n",
            "    namespace: shop-eval\n    allowPlaintextSecrets: true\n",
        )
    )
    assert hakobu(project, "render", "--env", "evaluation").returncode == 0
    assert (project / "generated" / "evaluation" / "worker" / "secret-db.yaml").exists()
    assert hakobu(project, "render", "--env", "production").returncode == 2


def test_commit_records_only_the_rendered_change(project: Path) -> None:
    (project / "notes.txt").write_text("unrelated work in progress\n")
    git(project, "add", "notes.txt")
    result = hakobu(project, "render", "--commit")
    assert result.returncode == 0, result.stderr
    repo = pygit2.Repository(str(project))
    head = repo.head.peel(pygit2.Commit)
    assert head.message.startswith("render: evaluation +10 ~0 -0, production +10 ~0 -0")
    assert "added    web/deployment-web.yaml" in head.message
    assert "notes.txt" not in {entry.name for entry in head.tree}
    status = git(project, "status", "--porcelain")
    assert status.splitlines() == ["A  notes.txt"]


def test_commit_takes_the_changed_inputs_so_check_passes_at_the_commit(project: Path) -> None:
    assert hakobu(project, "render", "--commit").returncode == 0
    web = project / "apps" / "web.yaml"
    web.write_text(web.read_text().replace("replicas: 2", "replicas: 4"))
    (project / "notes.txt").write_text("unrelated\n")
    result = hakobu(project, "render", "--commit")
    assert result.returncode == 0, result.stderr
    head = pygit2.Repository(str(project)).head.peel(pygit2.Commit)
    assert "with the inputs it was rendered from:\n  apps/web.yaml\n" in head.message
    assert git(project, "status", "--porcelain").splitlines() == ["?? notes.txt"]
    # A fresh clone of that commit passes the check CI runs.
    clone = project.parent / "clone"
    git(project.parent, "clone", "-q", str(project), str(clone))
    check = hakobu(clone, "render", "--check")
    assert check.returncode == 0, check.stdout + check.stderr


def test_commit_after_a_plain_render_commits_what_it_wrote(project: Path) -> None:
    assert hakobu(project, "render").returncode == 0
    result = hakobu(project, "render", "--commit")
    assert result.returncode == 0, result.stderr
    assert "committed" in result.stdout
    assert git(project, "status", "--porcelain") == ""
    again = hakobu(project, "render", "--commit")
    assert "nothing to commit" in again.stdout


@pytest.mark.parametrize(
    ("args", "edit"),
    [
        (("--env", "evaluation"), "apps/web.yaml"),  # shapes production's web too
        (("--app", "web"), "hakobu.yaml"),  # shapes every app
    ],
)
def test_a_partial_render_refuses_to_commit_inputs_it_leaves_stale(
    project: Path, args: tuple[str, ...], edit: str
) -> None:
    assert hakobu(project, "render", "--commit").returncode == 0
    path = project / edit
    path.write_text(path.read_text() + "# edited\n")
    before = snapshot(project / "generated")
    head = git(project, "rev-parse", "HEAD")
    result = hakobu(project, "render", "--commit", *args)
    assert result.returncode == 2
    assert f"cannot commit a partial render: {edit} has uncommitted changes" in result.stderr
    assert snapshot(project / "generated") == before
    assert git(project, "rev-parse", "HEAD") == head


def test_render_one_app_leaves_the_others(project: Path) -> None:
    assert hakobu(project, "render").returncode == 0
    web = project / "apps" / "web.yaml"
    web.write_text(web.read_text().replace("1.4.2", "1.5.0"))
    worker = project / "apps" / "worker" / "values.yaml"
    worker.write_text("logLevel: warn\n")
    result = hakobu(project, "render", "--app", "web")
    assert result.returncode == 0
    assert "1.5.0" in (project / "generated/production/web/deployment-web.yaml").read_text()
    worker_file = project / "generated/production/worker/deployment-worker.yaml"
    assert "value: info" in worker_file.read_text()
    unknown = hakobu(project, "render", "--app", "nope")
    assert unknown.returncode == 2
    assert "no app named 'nope'" in unknown.stderr


def test_unknown_environment_is_exit_two(project: Path) -> None:
    result = hakobu(project, "render", "--env", "staging")
    assert result.returncode == 2
    assert "no environment named 'staging'" in result.stderr


def test_init_never_overwrites(project: Path) -> None:
    again = hakobu(project, "init")
    assert again.returncode == 2
    assert "already exists" in again.stderr


def test_a_changed_kustomize_base_file_is_rendered_again(project: Path) -> None:
    assert hakobu(project, "render").returncode == 0
    base = project / "apps" / "redis" / "base" / "deployment.yaml"
    base.write_text(base.read_text().replace("redis:7.4", "redis:7.6"))
    result = hakobu(project, "render")
    assert result.returncode == 0
    assert "~ redis/deployment-redis.yaml" in result.stdout
    rendered = project / "generated" / "production" / "redis" / "deployment-redis.yaml"
    assert "redis:7.6" in rendered.read_text()


CONSUMER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        {reference}
"""


def test_a_config_change_rolls_exactly_its_consumers(project: Path) -> None:
    settings = project / "apps" / "settings"
    settings.mkdir()
    (settings / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n  level: info\n"
    )
    consumers = project / "apps" / "consumers"
    consumers.mkdir()
    (consumers / "env-from.yaml").write_text(
        CONSUMER.format(name="reader", reference="envFrom: [{configMapRef: {name: shared}}]")
    )
    (consumers / "unrelated.yaml").write_text(
        CONSUMER.format(name="loner", reference="args: [sleep]")
    )
    assert hakobu(project, "render", "--env", "production").returncode == 0
    out = project / "generated" / "production"
    reader = (out / "consumers" / "deployment-reader.yaml").read_text()
    assert "hakobu.dev/config-checksum:" in reader
    assert "config-checksum" not in (out / "consumers" / "deployment-loner.yaml").read_text()

    (settings / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n  level: debug\n"
    )
    result = hakobu(project, "render", "--env", "production")
    assert result.returncode == 0
    changed = {line.strip() for line in result.stdout.splitlines() if line.startswith("  ~")}
    assert changed == {
        "~ settings/configmap-shared.yaml",
        "~ consumers/deployment-reader.yaml",
    }
    assert (out / "consumers" / "deployment-reader.yaml").read_text() != reader


def test_build_prints_what_render_writes_for_one_app(project: Path) -> None:
    assert hakobu(project, "render").returncode == 0
    built = hakobu(project, "build", "apps/worker", "--env", "production")
    assert built.returncode == 0, built.stderr
    written = (project / "generated/production/worker/deployment-worker.yaml").read_text()
    assert built.stdout == written
    spec = hakobu(project, "build", "apps/web.yaml", "--env", "evaluation")
    files = sorted((project / "generated/evaluation/web").iterdir())
    assert spec.stdout == "---\n".join(f.read_text() for f in files)
    ambiguous = hakobu(project, "build", "apps/web.yaml")
    assert ambiguous.returncode == 2
    assert "--env (evaluation, production)" in ambiguous.stderr
    stray = hakobu(project, "build", "generated", "--env", "production")
    assert stray.returncode == 2
    assert "neither a kustomization nor an app" in stray.stderr


def test_declared_images_are_rendered_with_content_addressed_tags(project: Path) -> None:
    out = project / "generated" / "production"

    def worker_image() -> str:
        text = (out / "worker" / "deployment-worker.yaml").read_text()
        return text.split("image: ")[1].split("\n")[0]

    assert hakobu(project, "render").returncode == 0
    first = worker_image()
    assert first.startswith("registry.example.com/shop/worker:")
    web = (out / "web" / "deployment-web.yaml").read_text()

    # A file the image's .dockerignore leaves out changes nothing.
    (project / "services" / "worker" / "NOTES.md").write_text("notes\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "notes")
    assert hakobu(project, "render").returncode == 0
    assert worker_image() == first

    # A change to the in-repo base image re-tags the worker built FROM it, nothing else.
    base = project / "images" / "base" / "Dockerfile"
    base.write_text(base.read_text().replace("3.13-slim", "3.14-slim"))
    git(project, "commit", "-qam", "new base")
    result = hakobu(project, "render")
    assert result.returncode == 0, result.stderr
    assert worker_image() != first
    assert (out / "web" / "deployment-web.yaml").read_text() == web
    assert "~ web/" not in result.stdout

    web_spec = project / "apps" / "web.yaml"
    web_spec.write_text(
        web_spec.read_text().replace(
            "image: registry.example.com/shop/web:1.4.2", "image:\n  name: web"
        )
    )
    undeclared = hakobu(project, "render")
    assert undeclared.returncode == 2
    assert "no image named 'web' is declared in hakobu.yaml (images: base, worker)" in (
        undeclared.stderr
    )
    web_spec.write_text(web_spec.read_text().replace("image:\n  name: web", "image: web:1"))

    template = project / "apps" / "worker" / "deployment.yaml.j2"
    template.write_text(template.read_text().replace('tag("worker")', 'tag("wroker")'))
    unknown = hakobu(project, "render")
    assert unknown.returncode == 2
    assert "tag('wroker'): no image of that name" in unknown.stderr


def test_render_json_reports_every_environment_and_the_commit(project: Path) -> None:
    result = hakobu(project, "render", "--commit", "-o", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert sorted(e["env"] for e in report["environments"]) == ["evaluation", "production"]
    assert "web/deployment-web.yaml" in report["environments"][0]["added"]
    assert report["commit"] == git(project, "rev-parse", "HEAD").strip()
