"""Fleets through render: one app per instance, each instance's values over the fleet's
defaults, the cache reusing every instance but the changed one, and bad instances refused
at their file, line and field before anything is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hakobu.errors import InvalidInput
from hakobu.model.project import load_project
from hakobu.model.source import SourceError
from hakobu.render.cache import RenderCache
from hakobu.render.environment import (
    EnvironmentResult,
    app_files,
    render_environment,
    write_environment,
)

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  dev:
    namespace: shop-dev
    values:
      domain: example.test
"""

TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ app }}
data:
  host: "{{ values.host or instance }}.{{ values.domain }}"
  replicas: "{{ values.replicas }}"
  tier: {{ tier }}
  fleet: {{ fleet }}
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "hakobu.yaml").write_text(PROJECT)
    fleet = tmp_path / "apps" / "shops"
    (fleet / "template").mkdir(parents=True)
    (fleet / "instances").mkdir()
    (fleet / "fleet.yaml").write_text(
        "tiers: [canary, stable]\nvalues:\n  host: ''\n  replicas: 1\n"
    )
    (fleet / "template" / "config.yaml.j2").write_text(TEMPLATE)
    instance(tmp_path, "berlin", "# first\ntier: canary\nvalues:\n  replicas: 3\n")
    instance(tmp_path, "paris", "tier: stable\nvalues: {host: fr}\n")
    return tmp_path


def instance(root: Path, name: str, text: str) -> Path:
    path = root / "apps" / "shops" / "instances" / f"{name}.yaml"
    path.write_text(text)
    return path


def render(
    root: Path, cache: RenderCache | None = None
) -> tuple[dict[str, dict[str, str]], EnvironmentResult]:
    project = load_project(root)
    return render_environment(project, project.environment("dev"), cache=cache)


def test_each_instance_is_an_app_with_its_own_values_over_the_defaults(root: Path) -> None:
    tree, _ = render(root)
    assert sorted(tree) == ["shops-berlin", "shops-paris"]
    berlin = tree["shops-berlin"]["configmap-shops-berlin.yaml"]
    assert "host: berlin.example.test\n" in berlin
    assert 'replicas: "3"\n' in berlin
    assert "tier: canary\n" in berlin and "fleet: shops\n" in berlin
    paris = tree["shops-paris"]["configmap-shops-paris.yaml"]
    assert "host: fr.example.test\n" in paris and 'replicas: "1"\n' in paris
    assert "namespace: shop-dev\n" in paris


def test_changing_one_instance_renders_only_that_one(root: Path) -> None:
    cache = RenderCache(root)
    project = load_project(root)
    env = project.environment("dev")
    write_environment(project, env, *render(root, cache))
    instance(root, "paris", "tier: stable\nvalues: {host: lutece}\n")
    tree, result = render(root, cache)
    assert result.rendered == ("shops-paris",)
    assert result.cached == ("shops-berlin",)
    assert result.changed == ("shops-paris/configmap-shops-paris.yaml",)
    assert "host: lutece.example.test\n" in tree["shops-paris"]["configmap-shops-paris.yaml"]


def test_removing_an_instance_removes_exactly_its_directory(root: Path) -> None:
    project = load_project(root)
    env = project.environment("dev")
    tree, result = render_environment(project, env)
    write_environment(project, env, tree, result)
    (root / "apps" / "shops" / "instances" / "paris.yaml").unlink()
    tree, result = render_environment(project, env)
    assert result.removed == ("shops-paris/configmap-shops-paris.yaml",)
    assert not result.added and not result.changed
    write_environment(project, env, tree, result)
    assert sorted(p.name for p in (root / "generated" / "dev").iterdir()) == ["shops-berlin"]


def refused(root: Path) -> str:
    before = sorted(str(p) for p in root.rglob("*"))
    with pytest.raises(SourceError) as caught:
        render(root)
    assert sorted(str(p) for p in root.rglob("*")) == before
    return caught.value.message


def test_a_tier_the_fleet_does_not_declare_is_refused(root: Path) -> None:
    instance(root, "rome", "tier: stable\n")
    instance(root, "oslo", "values: {}\ntier: gold\n")
    assert refused(root) == (
        f"{root}/apps/shops/instances/oslo.yaml:2: tier: tier 'gold' is not a tier of fleet 'shops'"
    )


def test_a_value_the_template_does_not_accept_is_refused(root: Path) -> None:
    instance(root, "rome", "tier: stable\nvalues:\n  host: roma\n  colour: red\n")
    assert refused(root) == (
        f"{root}/apps/shops/instances/rome.yaml:4: values.colour: fleet 'shops' does not "
        "accept a value 'colour'"
    )


def test_two_files_for_one_instance_are_refused(root: Path) -> None:
    (root / "apps" / "shops" / "instances" / "paris.yml").write_text("tier: stable\n")
    assert refused(root) == (
        f"{root}/apps/shops/instances/paris.yml: instance 'paris' of fleet 'shops' is defined "
        "twice (paris.yaml and paris.yml)"
    )


def test_an_instance_that_clashes_with_an_app_is_refused(root: Path) -> None:
    (root / "apps" / "shops-paris").mkdir()
    assert refused(root) == (
        f"{root}/apps/shops-paris: app 'shops-paris' is defined twice "
        "(shops/instances/paris.yaml and shops-paris)"
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Rome", "cannot name an instance: it must be a DNS-1123 label"),
        ("rome_1", "cannot name an instance: it must be a DNS-1123 label"),
        ("-rome", "cannot name an instance: it must be a DNS-1123 label"),
        ("r" * 58, "longer than 63 characters"),
    ],
)
def test_an_instance_name_that_cannot_name_objects_is_refused(
    root: Path, name: str, reason: str
) -> None:
    instance(root, name, "tier: stable\n")
    assert reason in refused(root)


def test_a_values_file_in_the_template_is_refused(root: Path) -> None:
    (root / "apps" / "shops" / "template" / "values.yaml").write_text("host: x\n")
    assert "a fleet's template has no values file" in refused(root)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tiers: []\n", "fleet.yaml:1: tiers: expected a non-empty list of tier names"),
        ("tiers: [a, a]\n", "fleet.yaml:1: tiers[1]: tier 'a' is listed twice"),
        ("tiers: [a]\nvalue: {}\n", "fleet.yaml:2: value: unknown field 'value'"),
        ("tiers: [a]\nrollout: {soak: 10}\n", "fleet.yaml:2: rollout.soak: expected a duration"),
        ("tiers: [a]\nrollout: {soak: 10x}\n", "rollout.soak: '10x' is not a duration"),
        ("tiers: [a]\nrollout: {soak: 800h}\n", "rollout.soak: expected at most 720h"),
        ("tiers: [a]\nrollout: {wait: 1m}\n", "rollout.wait: unknown field 'wait'"),
        (
            "tiers: [a]\nrollout: {soak: 1m, environment: [x]}\n",
            "rollout.environment: expected the name",
        ),
    ],
)
def test_a_bad_fleet_file_is_refused(root: Path, text: str, message: str) -> None:
    (root / "apps" / "shops" / "fleet.yaml").write_text(text)
    assert message in refused(root)


def test_changing_the_template_renders_every_instance_again(root: Path) -> None:
    cache = RenderCache(root)
    render(root, cache)
    template = root / "apps" / "shops" / "template" / "config.yaml.j2"
    template.write_text(TEMPLATE.replace("tier: {{ tier }}", "tier: x{{ tier }}"))
    tree, result = render(root, RenderCache(root))
    assert result.rendered == ("shops-berlin", "shops-paris")
    assert "tier: xcanary\n" in tree["shops-berlin"]["configmap-shops-berlin.yaml"]


def test_an_instance_is_built_from_its_file(root: Path) -> None:
    project = load_project(root)
    env = project.environment("dev")
    files = app_files(project, env, root / "apps" / "shops" / "instances" / "paris.yaml")
    assert list(files) == ["configmap-shops-paris.yaml"]
    with pytest.raises(InvalidInput) as caught:
        app_files(project, env, root / "apps" / "shops")
    assert "build one instance from its file" in str(caught.value.hint)


def test_a_later_tier_renders_the_template_it_was_promoted_to(root: Path) -> None:
    fleet = root / "apps" / "shops"
    cache = RenderCache(root)
    project = load_project(root)
    write_environment(project, project.environment("dev"), *render(root, cache))
    # Giving the later tier its copy re-renders only that tier's instances, to the same.
    shutil.copytree(fleet / "template", fleet / "tiers" / "stable")
    _, result = render(root, cache)
    assert (result.rendered, result.has_changes) == (("shops-paris",), False)
    # A new template reaches the first tier only; the cache sees which tier reads what.
    (fleet / "template" / "config.yaml.j2").write_text(
        TEMPLATE.replace("tier:", "version: 2\n  tier:")
    )
    tree, result = render(root, cache)
    assert result.rendered == ("shops-berlin",)
    assert "version: 2\n" in tree["shops-berlin"]["configmap-shops-berlin.yaml"]
    assert "version" not in tree["shops-paris"]["configmap-shops-paris.yaml"]
    # Promoting the tier is replacing its copy.
    shutil.rmtree(fleet / "tiers" / "stable")
    shutil.copytree(fleet / "template", fleet / "tiers" / "stable")
    tree, result = render(root, cache)
    assert result.rendered == ("shops-paris",)
    assert "version: 2\n" in tree["shops-paris"]["configmap-shops-paris.yaml"]


@pytest.mark.parametrize(
    ("tier", "why"),
    [
        ("canary", "the first tier renders template/"),
        ("gold", "fleet 'shops' has no tier 'gold'"),
    ],
)
def test_a_copy_for_no_later_tier_is_refused(root: Path, tier: str, why: str) -> None:
    (root / "apps" / "shops" / "tiers" / tier).mkdir(parents=True)
    assert refused(root) == (
        f"{root}/apps/shops/tiers/{tier}: tiers/ holds the template each later tier was "
        f"promoted to; {why}"
    )


def test_maintenance_lays_the_fleets_maintenance_values_over_the_instances(root: Path) -> None:
    fleet_file = root / "apps" / "shops" / "fleet.yaml"
    fleet_file.write_text(fleet_file.read_text() + "maintenance:\n  values: {replicas: 0}\n")
    instance(root, "berlin", "tier: canary\nvalues:\n  replicas: 3\nmaintenance: true\n")
    tree, _ = render(root)
    assert 'replicas: "0"\n' in tree["shops-berlin"]["configmap-shops-berlin.yaml"]
    assert 'replicas: "1"\n' in tree["shops-paris"]["configmap-shops-paris.yaml"]


def test_a_suspended_instance_is_rendered_with_its_objects_annotated(root: Path) -> None:
    instance(root, "berlin", "tier: canary\nsuspend: true\n")
    tree, _ = render(root)
    assert 'hakobu.dev/suspend: "true"\n' in tree["shops-berlin"]["configmap-shops-berlin.yaml"]
    assert "hakobu.dev/suspend" not in tree["shops-paris"]["configmap-shops-paris.yaml"]


@pytest.mark.parametrize(
    ("maintenance", "message"),
    [
        ("maintenance: {values: {colour: red}}\n", "'colour' is not one of the fleet's values"),
        ("maintenance: {values: {}}\n", "expected a non-empty mapping"),
        ("maintenance: {replicas: 0}\n", "unknown field 'replicas'"),
    ],
)
def test_a_bad_maintenance_state_is_refused(root: Path, maintenance: str, message: str) -> None:
    fleet_file = root / "apps" / "shops" / "fleet.yaml"
    fleet_file.write_text(fleet_file.read_text() + maintenance)
    with pytest.raises(SourceError) as caught:
        render(root)
    assert message in caught.value.message
    assert str(fleet_file) in caught.value.message
