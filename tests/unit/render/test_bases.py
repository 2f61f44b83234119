"""Platform bases under app specs: rendered by `hakobu render` on the example project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.render.test_project import git, hakobu, project, snapshot

__all__ = ["project"]  # the fixture: a project `hakobu init` wrote, committed to git


def test_a_base_adds_objects_labels_and_defaults(project: Path) -> None:
    result = hakobu(project, "render")
    assert result.returncode == 0, result.stderr
    files = snapshot(project / "generated")
    # web@2 adds a ServiceMonitor and a NetworkPolicy, with the app's values.
    monitor = files["evaluation/api/servicemonitor-api.yaml"].decode()
    assert "path: /internal/metrics" in monitor and "port: http" in monitor
    policy = files["production/api/networkpolicy-api.yaml"].decode()
    assert "namespace: shop\n" in policy and "kubernetes.io/metadata.name: monitoring" in policy
    assert not any(name.startswith("evaluation/web/servicemonitor") for name in files)
    # Labels and annotations merge with the app's; a default never replaces what it sets.
    web = files["evaluation/web/deployment-web.yaml"].decode()
    assert "example.com/cost-centre: shop" in web
    assert "example.com/log-format: json" in web
    assert "cpu: 100m" in web and "cpu: 50m" not in web
    assert "topologyKey: kubernetes.io/hostname" in web
    assert "cpu: 50m" in files["evaluation/api/deployment-api.yaml"].decode()


def _line_count(path: Path) -> int:
    return len(path.read_text().splitlines())


@pytest.mark.parametrize(
    ("app", "old", "new", "expected"),
    [
        ("web", "base: web@1", "base: nope@1", "apps/web.yaml:7: base: unknown base 'nope'"),
        ("web", "base: web@1", "base: web@9", "apps/web.yaml:7: base: base web has no version 9"),
        ("web", "base: web@1", "base: web-1", "apps/web.yaml:7: base: "),
        (
            "api",
            "metricsPath: /internal/metrics",
            "metricsPath: internal",
            "apps/api.yaml:6: baseValues.metricsPath: ",
        ),
        (
            "api",
            "allowFrom: [monitoring]",
            "allowFrom: [monitoring]\n  port: 9090",
            "apps/api.yaml:8: baseValues.port: unknown field",
        ),
        (
            "web",
            "base: web@1",
            "base: web@1\nbaseValues: {metricsPath: /m}",
            "apps/web.yaml:8: baseValues: base web@1 takes no values",
        ),
    ],
)
def test_bad_base_input_names_file_line_and_field_and_writes_nothing(
    project: Path, app: str, old: str, new: str, expected: str
) -> None:
    assert hakobu(project, "render").returncode == 0
    before = snapshot(project / "generated")
    spec = project / "apps" / f"{app}.yaml"
    assert old in spec.read_text()
    spec.write_text(spec.read_text().replace(old, new))
    result = hakobu(project, "render")
    assert result.returncode == 2
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(project / "generated") == before


def test_a_field_the_base_forbids_is_refused_in_any_environment(project: Path) -> None:
    assert hakobu(project, "render").returncode == 0
    before = snapshot(project / "generated")
    web = project / "apps" / "web.yaml"
    text = web.read_text()
    web.write_text(
        text.replace(
            "    replicas: 4\n",
            "    replicas: 4\n    extraObjects: [{apiVersion: v1, kind: ConfigMap, "
            "metadata: {name: x}}]\n",
        )
    )
    line = (
        web.read_text()
        .splitlines()
        .index("    extraObjects: [{apiVersion: v1, kind: ConfigMap, metadata: {name: x}}]")
        + 1
    )
    result = hakobu(project, "render")
    assert result.returncode == 2
    assert (
        f"apps/web.yaml:{line}: environments.production.extraObjects: base web@1 forbids "
        "extraObjects" in result.stderr
    ), result.stderr
    assert "platform/bases/web/1/base.yaml" in result.stderr
    assert snapshot(project / "generated") == before


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("  - extraObjects", "  - image", "forbid[0]: 'image' is not an app spec field"),
        ("defaults:\n", "defaults:\n  dependsOn: [redis]\n", "defaults.dependsOn: a base cannot"),
        ("    - maxSkew: 1", "    - maxSkew: one", "defaults.topologySpreadConstraints[0].maxSkew"),
        ("description:", "colour: blue\ndescription:", "colour: unknown field"),
    ],
)
def test_a_bad_base_is_the_bases_error(project: Path, old: str, new: str, expected: str) -> None:
    base = project / "platform" / "bases" / "web" / "2" / "base.yaml"
    assert old in base.read_text()
    base.write_text(base.read_text().replace(old, new))
    result = hakobu(project, "render")
    assert result.returncode == 2
    assert "platform/bases/web/2/base.yaml:" in result.stderr
    assert expected in result.stderr, result.stderr


def test_a_base_change_renders_again_exactly_the_apps_on_that_version(project: Path) -> None:
    assert hakobu(project, "render").returncode == 0
    template = project / "platform" / "bases" / "web" / "2" / "templates" / "networkpolicy.yaml.j2"
    template.write_text(template.read_text().replace("ingress-nginx", "ingress-system"))
    result = hakobu(project, "render")
    assert result.returncode == 0, result.stderr
    for env in ("evaluation", "production"):
        assert (
            f"{env}: rendered: 0 added, 1 changed, 0 removed (1 apps rendered, 3 from cache)"
            in result.stdout
        ), result.stdout
    assert "~ api/networkpolicy-api.yaml" in result.stdout
    # Version 1 is another directory: its apps stay cached.
    base1 = project / "platform" / "bases" / "web" / "1" / "base.yaml"
    base1.write_text(base1.read_text().replace("cost-centre: shop", "cost-centre: retail"))
    result = hakobu(project, "render")
    assert "(1 apps rendered, 3 from cache)" in result.stdout
    assert "~ web/deployment-web.yaml" in result.stdout
    assert "api/" not in result.stdout


def test_an_environment_names_the_default_base(project: Path) -> None:
    web = project / "apps" / "web.yaml"
    web.write_text(web.read_text().replace("base: web@1\n", ""))
    settings = project / "hakobu.yaml"
    settings.write_text(
        settings.read_text().replace(
            "    namespace: shop\n", "    namespace: shop\n    base: web@2\n"
        )
    )
    result = hakobu(project, "render")
    assert result.returncode == 0, result.stderr
    files = snapshot(project / "generated")
    assert "production/web/servicemonitor-web.yaml" in files
    assert "evaluation/web/servicemonitor-web.yaml" not in files
    assert b"cost-centre" not in files["evaluation/web/deployment-web.yaml"]


def test_bases_lists_the_apps_on_each_version(project: Path) -> None:
    result = hakobu(project, "bases")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "BASE  VERSION  APPS",
        "web   1        web",
        "web   2        api",
    ]
    settings = project / "hakobu.yaml"
    settings.write_text(
        settings.read_text().replace(
            "    namespace: shop\n", "    namespace: shop\n    base: web@2\n"
        )
    )
    (project / "apps" / "solo.yaml").write_text("name: solo\nimage: solo:1\n")
    listed = json.loads(hakobu(project, "bases", "-o", "json").stdout)
    assert listed == {
        "bases": [
            {"base": "web", "version": 1, "apps": ["web"]},
            {"base": "web", "version": 2, "apps": ["api", "solo (production)"]},
        ]
    }


def test_upgrade_edits_one_line_and_renders_only_that_app(project: Path) -> None:
    assert hakobu(project, "render", "--commit").returncode == 0
    web = project / "apps" / "web.yaml"
    before = web.read_text()
    result = hakobu(project, "bases", "upgrade", "web", "--to", "2")
    assert result.returncode == 0, result.stderr
    # One line changes: comments and layout stay.
    assert web.read_text() == before.replace("base: web@1", "base: web@2")
    assert "base: web@1 → web@2" in result.stdout
    assert (
        "evaluation: rendered: 2 added, 0 changed, 0 removed (1 apps rendered, 3 from cache)"
        in (result.stdout)
    )
    assert "+++ b/production/web/servicemonitor-web.yaml" in result.stdout
    assert "+kind: NetworkPolicy" in result.stdout
    assert hakobu(project, "render", "--check").returncode == 0
    assert hakobu(project, "bases").stdout.splitlines()[1:] == [
        "web   1        -",
        "web   2        api, web",
    ]
    committed = hakobu(project, "render", "--commit")
    assert committed.returncode == 0, committed.stderr
    assert git(project, "status", "--porcelain") == ""


def test_upgrade_reports_json(project: Path) -> None:
    assert hakobu(project, "render").returncode == 0
    result = hakobu(project, "bases", "upgrade", "web", "--to", "2", "-o", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["app"], report["before"], report["after"]) == ("web", "web@1", "web@2")
    assert report["file"].endswith("apps/web.yaml")
    [evaluation, _] = report["environments"]
    assert evaluation["added"] == ["web/networkpolicy-web.yaml", "web/servicemonitor-web.yaml"]
    assert evaluation["rendered"] == ["web"]
    assert "+kind: ServiceMonitor" in report["diff"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("web", "--to", "7"), "apps/web.yaml:7: base: base web has no version 7"),
        (("redis", "--to", "2"), "app 'redis' is a kustomize app: only app specs have a base"),
        (("nope", "--to", "2"), "'nope' is not an app spec of the project"),
        (("web", "--to", "1"), "app 'web' is on web@1 already"),
    ],
)
def test_a_refused_upgrade_changes_nothing(
    project: Path, args: tuple[str, ...], expected: str
) -> None:
    assert hakobu(project, "render").returncode == 0
    before = snapshot(project)
    result = hakobu(project, "bases", "upgrade", *args)
    assert result.returncode == 2
    assert expected in result.stderr, result.stderr
    assert snapshot(project) == before


def test_an_upgrade_the_new_version_refuses_changes_nothing(project: Path) -> None:
    assert hakobu(project, "render").returncode == 0
    forbid = project / "platform" / "bases" / "web" / "2" / "base.yaml"
    forbid.write_text(forbid.read_text() + "  - ingress\n")
    before = snapshot(project)
    result = hakobu(project, "bases", "upgrade", "web", "--to", "2")
    assert result.returncode == 2
    assert "apps/web.yaml:" in result.stderr
    assert "ingress: base web@2 forbids ingress" in result.stderr, result.stderr
    assert snapshot(project) == before


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (
            "data: {who: \"{{ range.__globals__['os'].popen('id').read() }}\"}\n",
            "pwned.yaml.j2:1: template code not allowed",
        ),
        ('{% include "../../1/base.yaml" %}\n', "is not a path inside the app directory"),
        ("{% for i in range(10**9) %}{{ i }}{% endfor %}\n", "template went past a bound"),
    ],
)
def test_a_bases_templates_run_in_the_sandbox(project: Path, template: str, expected: str) -> None:
    assert hakobu(project, "render").returncode == 0
    before = snapshot(project / "generated")
    templates = project / "platform" / "bases" / "web" / "2" / "templates"
    (templates / "pwned.yaml.j2").write_text(template)
    result = hakobu(project, "render")
    assert result.returncode == 2
    assert "platform/bases/web/2/templates/pwned.yaml.j2" in result.stderr, result.stderr
    assert expected in result.stderr, result.stderr
    assert snapshot(project / "generated") == before
