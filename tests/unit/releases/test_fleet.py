"""Instance edits: one file per change, comments and layout kept, and every edit checked
as render checks it before anything is written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hakobu.cli.main import main
from hakobu.health import HealthStatus
from hakobu.model.project import load_project
from hakobu.model.source import SourceError
from hakobu.releases.fleet import (
    TierStatus,
    list_instances,
    parse_assignment,
    plan_set,
    tier_statuses,
)
from hakobu.sync.status import AppStatus, SyncState

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  dev:
    namespace: shop-dev
"""

BERLIN = """\
# The first shop; ask the Berlin team before changing it.
tier: canary  # moves last
values:
  host: berlin.example.test  # its own domain
  replicas: 3
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "hakobu.yaml").write_text(PROJECT)
    fleet = tmp_path / "apps" / "shops"
    (fleet / "template").mkdir(parents=True)
    (fleet / "instances").mkdir()
    (fleet / "fleet.yaml").write_text("tiers: [canary, stable]\nvalues: {host: '', replicas: 1}\n")
    (fleet / "instances" / "berlin.yaml").write_text(BERLIN)
    return tmp_path


def hakobu(root: Path, *words: str) -> int:
    return main(["fleet", "-C", str(root), *words])


def instances(root: Path) -> Path:
    return root / "apps" / "shops" / "instances"


def test_set_changes_only_the_value_and_keeps_comments(root: Path) -> None:
    assert hakobu(root, "set", "shops", "berlin", "replicas=5") == 0
    assert (instances(root) / "berlin.yaml").read_text() == BERLIN.replace(
        "replicas: 3", "replicas: 5"
    )


def test_set_adds_a_value_after_the_others(root: Path) -> None:
    (instances(root) / "berlin.yaml").write_text("# note\ntier: canary\n")
    assert hakobu(root, "set", "shops", "berlin", "host=b.example.test", "replicas=2") == 0
    assert (instances(root) / "berlin.yaml").read_text() == (
        "# note\ntier: canary\nvalues:\n  host: b.example.test\n  replicas: 2\n"
    )


def test_move_and_unset_edit_one_line_each(root: Path) -> None:
    assert hakobu(root, "move", "shops", "berlin", "stable") == 0
    assert hakobu(root, "unset", "shops", "berlin", "host") == 0
    assert (instances(root) / "berlin.yaml").read_text() == (
        "# The first shop; ask the Berlin team before changing it.\n"
        "tier: stable  # moves last\n"
        "values:\n"
        "  replicas: 3\n"
    )


def test_add_writes_one_new_file_and_remove_deletes_it(root: Path) -> None:
    assert hakobu(root, "add", "shops", "paris", "stable", "host=paris.example.test") == 0
    assert (instances(root) / "paris.yaml").read_text() == (
        "tier: stable\nvalues:\n  host: paris.example.test\n"
    )
    listed = list_instances(load_project(root), "shops")
    assert [(i.name, i.tier, i.values) for i in listed] == [
        ("berlin", "canary", {"host": "berlin.example.test", "replicas": 3}),
        ("paris", "stable", {"host": "paris.example.test"}),
    ]
    assert hakobu(root, "remove", "shops", "paris") == 0
    assert sorted(p.name for p in instances(root).iterdir()) == ["berlin.yaml"]


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (("add", "shops", "berlin", "stable"), "fleet 'shops' has an instance 'berlin' already"),
        (("add", "shops", "Paris", "stable"), "'Paris' cannot name an instance"),
        (("add", "shops", "paris", "gold"), "tier 'gold' is not a tier of fleet 'shops'"),
        (("add", "shops", "paris", "stable", "colour=red"), "does not accept a value 'colour'"),
        (("set", "shops", "berlin", "colour=red"), "does not accept a value 'colour'"),
        (("move", "shops", "berlin", "gold"), "tier 'gold' is not a tier of fleet 'shops'"),
        (("set", "shops", "rome", "replicas=2"), "fleet 'shops' has no instance 'rome'"),
        (("remove", "shops", "rome"), "fleet 'shops' has no instance 'rome'"),
        (("list", "stores"), "no fleet named 'stores'"),
        (("set", "shops", "berlin", "replicas"), "'replicas' is not key=value"),
    ],
)
def test_a_refused_edit_writes_nothing(
    root: Path, capsys: pytest.CaptureFixture[str], words: tuple[str, ...], message: str
) -> None:
    before = {p.name: p.read_text() for p in instances(root).iterdir()}
    assert hakobu(root, *words) == 2
    assert message in capsys.readouterr().err
    assert {p.name: p.read_text() for p in instances(root).iterdir()} == before


def test_a_refused_value_is_located_in_the_edited_file(root: Path) -> None:
    with pytest.raises(SourceError) as caught:
        plan_set(load_project(root), "shops", "berlin", {"colour": "red"})
    assert caught.value.message == (
        f"{instances(root)}/berlin.yaml:6: values.colour: fleet 'shops' does not accept a "
        "value 'colour'"
    )


def test_values_are_read_as_yaml_scalars() -> None:
    assert parse_assignment("replicas=3") == ("replicas", 3)
    assert parse_assignment("debug=true") == ("debug", True)
    assert parse_assignment("host=a=b") == ("host", "a=b")
    assert parse_assignment("host=") == ("host", "")
    assert parse_assignment("mode=0755") == ("mode", 493)


def test_list_prints_tiers_and_values(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert hakobu(root, "list", "shops") == 0
    assert capsys.readouterr().out == "berlin\tcanary\thost=berlin.example.test replicas=3\n"


def test_the_first_instance_makes_the_instances_directory(root: Path) -> None:
    (instances(root) / "berlin.yaml").unlink()
    instances(root).rmdir()
    assert hakobu(root, "add", "shops", "oslo", "canary") == 0
    assert (instances(root) / "oslo.yaml").read_text() == "tier: canary\n"


def test_tier_statuses_sum_up_each_tier_in_rollout_order(root: Path) -> None:
    assert hakobu(root, "add", "shops", "paris", "stable") == 0
    assert hakobu(root, "add", "shops", "rome", "stable") == 0
    statuses = [
        AppStatus("shops-berlin", SyncState.SYNCED, HealthStatus.HEALTHY, (), ()),
        AppStatus("shops-paris", SyncState.SYNCED, HealthStatus.PROGRESSING, (), ()),
        AppStatus("web", SyncState.OUT_OF_SYNC, HealthStatus.DEGRADED, (), ()),
    ]
    tiers = tier_statuses(load_project(root), "shops", statuses)
    assert tiers == [
        TierStatus("canary", 1, 1, {"Healthy": 1}, {"Synced": 1}, ()),
        TierStatus(
            "stable",
            2,
            0,
            {"Missing": 1, "Progressing": 1},
            {"OutOfSync": 1, "Synced": 1},
            ("paris: Synced, Progressing", "rome: OutOfSync, Missing"),
        ),
    ]


def git(root: Path, *words: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *words], check=True, capture_output=True, text=True
    ).stdout


def test_an_instance_is_committed_with_the_file_it_was_rendered_from(root: Path) -> None:
    (root / "apps" / "shops" / "template" / "config.yaml.j2").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: '{{ app }}'\n"
        "data: {host: '{{ values.host }}'}\n"
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.test", "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-qm", "x")
    assert main(["render", "-C", str(root), "--commit"]) == 0
    assert hakobu(root, "set", "shops", "berlin", "host=b.example.test") == 0
    assert main(["render", "-C", str(root), "--commit", "--app", "shops-berlin"]) == 0
    assert git(root, "status", "--porcelain") == ""
    assert "apps/shops/instances/berlin.yaml" in git(root, "show", "--stat", "HEAD")
    # The fleet's own file shapes every instance: not committed with one instance.
    fleet = root / "apps" / "shops" / "fleet.yaml"
    fleet.write_text(fleet.read_text() + "# edited\n")
    assert main(["render", "-C", str(root), "--commit", "--app", "shops-berlin"]) == 2


def test_suspend_and_resume_add_and_drop_one_line(root: Path) -> None:
    file = instances(root) / "berlin.yaml"
    assert hakobu(root, "suspend", "shops", "berlin") == 0
    assert file.read_text() == BERLIN + "suspend: true\n"
    assert list_instances(load_project(root), "shops")[0].suspend
    assert hakobu(root, "resume", "shops", "berlin") == 0
    assert file.read_text() == BERLIN


def test_list_shows_the_switches(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert hakobu(root, "suspend", "shops", "berlin") == 0
    capsys.readouterr()
    assert hakobu(root, "list", "shops") == 0
    assert capsys.readouterr().out == (
        "berlin\tcanary\thost=berlin.example.test replicas=3\tsuspended\n"
    )


def test_maintenance_is_refused_unless_the_fleet_declares_it(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = instances(root) / "berlin.yaml"
    assert hakobu(root, "maintenance", "shops", "berlin", "on") == 2
    assert capsys.readouterr().err.startswith(
        f"error: {file}:6: maintenance: fleet 'shops' declares no maintenance state"
    )
    assert file.read_text() == BERLIN
    fleet_file = root / "apps" / "shops" / "fleet.yaml"
    fleet_file.write_text(fleet_file.read_text() + "maintenance: {values: {replicas: 0}}\n")
    assert hakobu(root, "maintenance", "shops", "berlin", "on") == 0
    assert file.read_text() == BERLIN + "maintenance: true\n"
    assert hakobu(root, "maintenance", "shops", "berlin", "off") == 0
    assert file.read_text() == BERLIN


def test_a_switch_must_be_true_or_false(root: Path) -> None:
    (instances(root) / "berlin.yaml").write_text(BERLIN + "suspend: yes please\n")
    with pytest.raises(SourceError) as caught:
        list_instances(load_project(root), "shops")
    assert caught.value.message == (
        f"{instances(root)}/berlin.yaml:6: suspend: expected true or false, found 'yes please'"
    )
