"""Chart apps, rendered by the real helm: equal to `helm template`, layered per environment,
bounded, and refused with helm's own words when a chart does not render."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.errors import InvalidInput
from hakobu.localcluster.toolchain import KUBERNETES_VERSION
from hakobu.model.project import load_project
from hakobu.model.source import SourceError
from hakobu.render.cache import RenderCache
from hakobu.render.environment import render_environment
from hakobu.render.helm import Helm
from hakobu.render.rollout import CHECKSUM_ANNOTATION
from tests.unit.render.charts import write_chart

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  evaluation: {namespace: shop-eval}
  production: {namespace: shop}
"""


def hakobu(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hakobu", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    root.mkdir()
    (root / "hakobu.yaml").write_text(PROJECT)
    write_chart(root / "apps" / "shop")
    (root / "apps" / "shop" / "values-production.yaml").write_text(
        "replicas: 3\ngreeting: welcome\n"
    )
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "chart"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=root,
            check=True,
        )
    return root


@pytest.fixture
def helm(helm_bin: Path) -> Helm:
    return Helm(lambda: helm_bin, KUBERNETES_VERSION)


def by_identity(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def rendered(project: Path, env: str, app: str = "shop") -> dict[tuple[str, str], Any]:
    directory = project / "generated" / env / app
    return by_identity([yaml.safe_load(p.read_text()) for p in sorted(directory.iterdir())])


def test_render_writes_exactly_what_helm_template_renders(project: Path, helm_bin: Path) -> None:
    result = hakobu(project, "render")
    assert result.returncode == 0, result.stderr
    for env, namespace in (("evaluation", "shop-eval"), ("production", "shop")):
        command = [str(helm_bin), "template", "shop", "apps/shop", "--namespace", namespace]
        command += ["--kube-version", KUBERNETES_VERSION, "--include-crds"]
        if env == "production":
            command += ["--values", "apps/shop/values-production.yaml"]
        direct = subprocess.run(command, cwd=project, capture_output=True, text=True, check=True)
        expected = by_identity([d for d in yaml.safe_load_all(direct.stdout) if d])
        got = rendered(project, env)
        assert set(got) == set(expected)
        for ident, obj in expected.items():
            ours = got[ident]
            # hakobu's documented additions: the namespace where helm leaves it to the
            # client, and the checksum of the configuration a workload reads.
            if "namespace" not in obj["metadata"] and ident[0] != "CustomResourceDefinition":
                assert ours["metadata"].pop("namespace") == namespace
            annotations = ours["metadata"].get("annotations", {})
            template = ours.get("spec", {}).get("template", {}).get("metadata", {})
            template.get("annotations", {}).pop(CHECKSUM_ANNOTATION, None)
            if template.get("annotations") == {}:
                del template["annotations"]
            annotations.pop(CHECKSUM_ANNOTATION, None)
            assert ours == obj, ident


def test_values_are_layered_per_environment(project: Path, helm: Helm) -> None:
    config = load_project(project)
    for env, replicas, greeting in (("evaluation", 1, "hello"), ("production", 3, "welcome")):
        tree, _ = render_environment(config, config.environment(env), helm=helm)
        files = tree["shop"]
        settings = yaml.safe_load(files["configmap-shop-settings.yaml"])
        assert settings["data"]["greeting"] == greeting
        assert settings["data"]["namespace"] == config.environment(env).namespace
        assert settings["data"]["kube"] == KUBERNETES_VERSION
        assert yaml.safe_load(files["deployment-shop.yaml"])["spec"]["replicas"] == replicas
        # Hooks and tests are rendered as helm template renders them; sync decides on them.
        assert "job-shop-migrate.yaml" in files
        assert "pod-shop-test.yaml" in files
        assert "customresourcedefinition-gadgets.charts.example.com.yaml" in files


def test_the_render_cache_sees_every_file_of_the_chart(
    project: Path, helm: Helm, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    config = load_project(project)
    env = config.environment("evaluation")
    cache = RenderCache(project)
    _, first = render_environment(config, env, cache=cache, helm=helm)
    assert first.rendered == ("shop",)
    _, again = render_environment(config, env, cache=cache, helm=helm)
    assert again.cached == ("shop",)
    helpers = project / "apps" / "shop" / "templates" / "_helpers.tpl"
    helpers.write_text(helpers.read_text().replace(".Chart.Name", '"renamed"'))
    tree, changed = render_environment(config, env, cache=cache, helm=helm)
    assert changed.rendered == ("shop",)
    assert "app.kubernetes.io/name: renamed" in tree["shop"]["deployment-shop.yaml"]


def test_a_chart_that_fails_shows_helms_message_with_app_and_environment(
    project: Path,
) -> None:
    (project / "apps" / "shop" / "templates" / "check.yaml").write_text(
        '{{ if eq .Values.greeting "welcome" }}{{ fail "greeting must be set per region" }}'
        "{{ end }}\n"
    )
    result = hakobu(project, "render", "--check")
    assert result.returncode == 2, result.stderr
    assert "app 'shop', environment 'production': helm template failed" in result.stderr
    assert "greeting must be set per region" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("target", ["../../../hakobu.yaml", "/etc/hostname"])
def test_a_link_out_of_the_chart_is_refused(project: Path, helm: Helm, target: str) -> None:
    (project / "apps" / "shop" / "templates" / "leak.yaml").symlink_to(target)
    config = load_project(project)
    with pytest.raises(SourceError, match=r"leak\.yaml"):
        render_environment(config, config.environment("evaluation"), helm=helm)


def test_a_template_that_loops_without_end_is_stopped(
    project: Path, helm: Helm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hakobu.render.helm.TEMPLATE_SECONDS", 1.0)
    (project / "apps" / "shop" / "templates" / "spin.yaml").write_text(
        "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}\n"
    )
    config = load_project(project)
    with pytest.raises(InvalidInput, match="helm took longer than 1 s"):
        render_environment(config, config.environment("evaluation"), helm=helm)


def test_a_template_that_prints_without_end_is_stopped(
    project: Path, helm: Helm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hakobu.render.helm.OUTPUT_BYTES", 1 << 20)
    (project / "apps" / "shop" / "templates" / "flood.yaml").write_text(
        'a: {{ range until 200000 }}{{ "0123456789" }}{{ end }}\n'
    )
    config = load_project(project)
    with pytest.raises(InvalidInput, match=r"output passed 1 MiB"):
        render_environment(config, config.environment("evaluation"), helm=helm)


def test_a_template_that_builds_a_huge_value_runs_out_of_memory(project: Path, helm: Helm) -> None:
    (project / "apps" / "shop" / "templates" / "bomb.yaml").write_text(
        "{{ $x := until 50000000 }}a: {{ len $x }}\n"
    )
    config = load_project(project)
    with pytest.raises(InvalidInput, match=r"helm ran out of memory \(bound: 256 MiB\)"):
        render_environment(config, config.environment("evaluation"), helm=helm)


def test_an_app_that_holds_a_chart_and_pins_one_is_refused(project: Path, helm: Helm) -> None:
    (project / "apps" / "shop" / "helm.yaml").write_text(
        "chart: {repository: oci://registry.example.com/charts, name: shop, version: 1.0.0}\n"
    )
    config = load_project(project)
    with pytest.raises(SourceError, match=r"holds a chart \(Chart\.yaml\) and pins one"):
        render_environment(config, config.environment("evaluation"), helm=helm)


def test_a_kustomize_app_inflates_its_charts_and_the_cache_sees_them(
    tmp_path: Path, helm: Helm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "shop"
    root.mkdir()
    (root / "hakobu.yaml").write_text(PROJECT)
    app = root / "apps" / "storefront"
    write_chart(app / "base" / "charts" / "shop")
    (app / "base" / "kustomization.yaml").write_text(
        "helmCharts:\n- name: shop\n  releaseName: front\n  includeCRDs: true\n"
    )
    overlay = app / "overlays" / "production"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text(
        "namespace: shop-prod\nresources: [../../base]\nreplicas:\n- name: front\n  count: 4\n"
    )
    config = load_project(root)
    env = config.environment("production")
    cache = RenderCache(root)
    tree, first = render_environment(config, env, cache=cache, helm=helm)
    assert first.rendered == ("storefront",)
    settings = yaml.safe_load(tree["storefront"]["configmap-front-settings.yaml"])
    # The overlay's namespace reaches helm (.Release.Namespace) through the base.
    assert settings["data"]["namespace"] == "shop-prod"
    assert yaml.safe_load(tree["storefront"]["deployment-front.yaml"])["spec"]["replicas"] == 4
    assert "customresourcedefinition-gadgets.charts.example.com.yaml" in tree["storefront"]
    values = app / "base" / "charts" / "shop" / "values.yaml"
    values.write_text(values.read_text().replace("greeting: hello", "greeting: bonjour"))
    tree, again = render_environment(config, env, cache=cache, helm=helm)
    assert again.rendered == ("storefront",)
    assert "bonjour" in tree["storefront"]["configmap-front-settings.yaml"]
