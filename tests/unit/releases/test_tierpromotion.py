"""Promoting a fleet's template between tiers, in a real git repository: the later tier's
copy becomes the template the earlier one renders, rendered and committed together; the
first step pins the later tiers; bad requests are refused with nothing written; and the
fleets a Delivery steps."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hakobu.cli.main import main
from hakobu.errors import InvalidInput, OperationFailed
from hakobu.health import HealthStatus
from hakobu.model.project import load_project
from hakobu.releases.fleet import fleet_of
from hakobu.releases.tierpromotion import pin_tiers, promote_tier, tier_versions
from hakobu.releases.tierrollout import stepped_by
from hakobu.sync.status import AppStatus, SyncState

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  dev:
    namespace: shop-dev
"""

CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ app }}
data:
  tier: {{ tier }}
"""


def git(root: Path, *words: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *words], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "hakobu.yaml").write_text(PROJECT)
    fleet = tmp_path / "apps" / "shops"
    (fleet / "template").mkdir(parents=True)
    (fleet / "instances").mkdir()
    (fleet / "fleet.yaml").write_text("tiers: [canary, pilot, stable]\n")
    (fleet / "template" / "config.yaml.j2").write_text(CONFIG)
    for shop, tier in (("berlin", "canary"), ("oslo", "pilot"), ("paris", "stable")):
        (fleet / "instances" / f"{shop}.yaml").write_text(f"tier: {tier}\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.name", "t")
    git(tmp_path, "config", "user.email", "t@example.test")
    assert main(["render", "-C", str(tmp_path)]) == 0
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "three shops")
    return tmp_path


def release_2(root: Path) -> None:
    template = root / "apps" / "shops" / "template" / "config.yaml.j2"
    template.write_text(CONFIG + "  release: '2'\n")
    assert main(["render", "-C", str(root), "--commit"]) == 0


def output(root: Path, shop: str) -> str:
    return (
        root / "generated" / "dev" / f"shops-{shop}" / f"configmap-shops-{shop}.yaml"
    ).read_text()


def test_pinning_keeps_the_later_tiers_on_the_template_they_render(root: Path) -> None:
    project = load_project(root)
    commit = pin_tiers(project, fleet_of(project, "shops"))
    assert commit == git(root, "rev-parse", "HEAD")
    assert git(root, "show", "--name-only", "--format=%s", "HEAD").splitlines() == [
        "pin fleet shops: pilot, stable keep the template they render",
        "",
        "apps/shops/tiers/pilot/config.yaml.j2",
        "apps/shops/tiers/stable/config.yaml.j2",
    ]
    assert pin_tiers(project, fleet_of(project, "shops")) is None
    release_2(root)
    assert "release" in output(root, "berlin")
    assert "release" not in output(root, "oslo") and "release" not in output(root, "paris")
    versions = [v.version for v in tier_versions(project, fleet_of(project, "shops"))]
    assert versions[0] == git(root, "rev-parse", "HEAD:apps/shops/template")
    assert versions[1] == versions[2] != versions[0]


def test_a_promotion_is_one_commit_of_the_copy_and_the_output_it_shapes(root: Path) -> None:
    project = load_project(root)
    pin_tiers(project, fleet_of(project, "shops"))
    release_2(root)
    healthy = [
        AppStatus(f"shops-{shop}", SyncState.SYNCED, HealthStatus.HEALTHY, (), ())
        for shop in ("berlin", "oslo", "paris")
    ]
    result = promote_tier(project, "shops", "canary", "pilot", statuses=healthy)
    assert result.commit == git(root, "rev-parse", "HEAD")
    assert sorted(git(root, "show", "--name-only", "--format=", "HEAD").splitlines()) == [
        "apps/shops/tiers/pilot/config.yaml.j2",
        "generated/dev/shops-oslo/configmap-shops-oslo.yaml",
    ]
    assert git(root, "status", "--porcelain") == ""
    assert 'release: "2"' in output(root, "oslo") and "release" not in output(root, "paris")
    again = promote_tier(project, "shops", "canary", "pilot", statuses=None)
    assert again.commit is None


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("canary", "gold", "fleet 'shops' has no tier 'gold'"),
        ("pilot", "canary", "tier 'canary' is fleet 'shops''s first: it renders template/"),
        ("pilot", "pilot", "cannot promote tier 'pilot' to itself"),
    ],
)
def test_a_bad_promotion_is_refused(root: Path, source: str, target: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        promote_tier(load_project(root), "shops", source, target, statuses=None)
    assert caught.value.message == message


def test_a_tier_that_is_not_healthy_is_not_promoted(root: Path) -> None:
    head = git(root, "rev-parse", "HEAD")
    statuses = [AppStatus("shops-berlin", SyncState.SYNCED, HealthStatus.DEGRADED, (), ())]
    with pytest.raises(OperationFailed) as caught:
        promote_tier(load_project(root), "shops", "canary", "pilot", statuses=statuses)
    assert caught.value.message == (
        "tier canary of fleet 'shops' is not Synced and Healthy: berlin: Synced, Degraded"
    )
    assert git(root, "rev-parse", "HEAD") == head
    assert not (root / "apps" / "shops" / "tiers").exists()


def test_uncommitted_inputs_are_not_swept_into_a_promotion(root: Path) -> None:
    (root / "apps" / "shops" / "instances" / "rome.yaml").write_text("tier: stable\n")
    with pytest.raises(InvalidInput) as caught:
        promote_tier(load_project(root), "shops", "canary", "pilot", statuses=None)
    assert "apps/shops/instances/rome.yaml differ from the current commit" in caught.value.message
    assert not (root / "apps" / "shops" / "tiers").exists()


def test_a_promotion_that_does_not_render_leaves_the_copy_as_it_was(root: Path) -> None:
    project = load_project(root)
    pin_tiers(project, fleet_of(project, "shops"))
    template = root / "apps" / "shops" / "template" / "config.yaml.j2"
    template.write_text(CONFIG + "  broken: {{ values.missing.deeper }}\n")
    git(root, "commit", "-qam", "a broken template")
    head = git(root, "rev-parse", "HEAD")
    with pytest.raises(InvalidInput):
        promote_tier(project, "shops", "canary", "pilot", statuses=None)
    assert (root / "apps/shops/tiers/pilot/config.yaml.j2").read_text() == CONFIG
    assert git(root, "rev-parse", "HEAD") == head
    assert git(root, "status", "--porcelain") == ""


def test_promote_with_fleet_on_the_command_line(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = load_project(root)
    pin_tiers(project, fleet_of(project, "shops"))
    release_2(root)
    promote = ["promote", "-C", str(root), "canary", "pilot", "--fleet", "shops"]
    assert main([*promote, "--branch", "x", "--force"]) == 2
    assert main(promote) == 2
    assert "--fleet needs --env ENV" in capsys.readouterr().err
    assert main([*promote, "--force"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("promoted fleet shops canary → pilot (template ")
    assert main([*promote, "--force"]) == 0
    assert capsys.readouterr().out == (
        "tier pilot already renders what canary renders: nothing to promote\n"
    )


def test_outside_git_every_version_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "hakobu.yaml").write_text(PROJECT)
    fleet = tmp_path / "apps" / "shops"
    (fleet / "template").mkdir(parents=True)
    (fleet / "fleet.yaml").write_text("tiers: [canary, stable]\n")
    project = load_project(tmp_path)
    versions = tier_versions(project, fleet_of(project, "shops"))
    assert [(v.tier, v.version, v.path) for v in versions] == [
        ("canary", "", "apps/shops/template"),
        ("stable", "", "apps/shops/template"),
    ]


def test_the_fleets_a_delivery_steps_are_those_of_its_environment(tmp_path: Path) -> None:
    (tmp_path / "hakobu.yaml").write_text(
        PROJECT.replace("  dev:", "  prod:\n    namespace: p\n  dev:")
    )
    for name, rollout in (("shops", "{soak: 1m, environment: dev}"), ("cafes", "{soak: 1m}")):
        (tmp_path / "apps" / name).mkdir(parents=True)
        (tmp_path / "apps" / name / "fleet.yaml").write_text(f"tiers: [a, b]\nrollout: {rollout}\n")
    project = load_project(tmp_path)
    assert stepped_by(project, "dev") == ["shops"]
    assert stepped_by(project, "prod") == []
    (tmp_path / "apps" / "shops" / "fleet.yaml").write_text(
        "tiers: [a, b]\nrollout: {soak: 1m, environment: staging}\n"
    )
    with pytest.raises(InvalidInput) as caught:
        stepped_by(project, "dev")
    assert "rollout.environment: the project has no environment 'staging'" in caught.value.message
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "fleet.yaml").write_text("tiers: [a]\n")
    (tmp_path / "apps" / "shops" / "fleet.yaml").unlink()
    (tmp_path / "apps" / "shops" / "fleet.yaml").symlink_to(outside / "fleet.yaml")
    with pytest.raises(InvalidInput) as caught:
        stepped_by(project, "dev")
    assert caught.value.message.endswith("apps/shops/fleet.yaml leads out of the project")


def test_a_project_without_apps_steps_no_fleet(tmp_path: Path) -> None:
    (tmp_path / "hakobu.yaml").write_text(PROJECT)
    assert stepped_by(load_project(tmp_path), "dev") == []
