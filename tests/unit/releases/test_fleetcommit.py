"""Writing FleetInstances' changes into a real git remote: one commit per batch with the
rendered output, a refused change left out, a person's concurrent commit kept."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from hakobu.cli.main import main
from hakobu.errors import OperationFailed
from hakobu.releases.fleetcommit import FleetWriter, Put, Remove, mark

TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ app }}
data:
  host: {{ values.host }}
  tier: {{ tier }}
"""


def git(work: Path, *words: str) -> str:
    return subprocess.run(
        ["git", "-C", str(work), *words], check=True, capture_output=True, text=True
    ).stdout.strip()


class Origin:
    """A bare remote holding a project with a fleet, and a person's clone of it."""

    def __init__(self, root: Path) -> None:
        self.bare, self.work = root / "remote.git", root / "person"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.bare)], check=True)
        subprocess.run(["git", "clone", "-q", str(self.bare), str(self.work)], check=True)
        git(self.work, "config", "user.email", "person@example.com")
        git(self.work, "config", "user.name", "Person")
        project = {
            "apiVersion": "hakobu.dev/v1alpha1",
            "kind": "Project",
            "name": "shop",
            "environments": {"dev": {"namespace": "dev"}},
        }
        (self.work / "hakobu.yaml").write_text(yaml.safe_dump(project))
        fleet = self.work / "apps" / "shops"
        (fleet / "template").mkdir(parents=True)
        (fleet / "fleet.yaml").write_text(
            "tiers: [canary, stable]\nvalues:\n  host: ''\n  replicas: 1\n"
        )
        (fleet / "template" / "shop.yaml.j2").write_text(TEMPLATE)
        self.commit("a fleet of shops")

    def commit(self, message: str) -> None:
        git(self.work, "add", "-A")
        git(self.work, "commit", "-q", "-m", message)
        git(self.work, "push", "-q", "origin", "HEAD:main")

    def pull(self) -> None:
        git(self.work, "pull", "-q", "--rebase", "origin", "main")

    def file(self, path: str) -> str:
        git(self.work, "fetch", "-q")
        return git(self.work, "show", f"origin/main:{path}")

    def commits(self) -> int:
        git(self.work, "fetch", "-q")
        return int(git(self.work, "rev-list", "--count", "origin/main"))


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    return Origin(tmp_path)


@pytest.fixture
def writer(origin: Origin, tmp_path: Path) -> FleetWriter:
    return FleetWriter(str(origin.bare), "main", ".", tmp_path / "clone")


def put(name: str, tier: str = "canary", **values: object) -> Put:
    return Put(f"shops/{name}", "shops", name, tier, dict(values))


def test_a_batch_is_one_commit_with_its_rendered_output(
    origin: Origin, writer: FleetWriter
) -> None:
    before = origin.commits()
    written = writer.write([put("berlin", host="b.example.com"), put("paris", host="p.example")])
    assert written.made and not written.refused
    assert origin.commits() == before + 1
    assert origin.file("apps/shops/instances/berlin.yaml") == (
        mark("shops/berlin", ["host"]) + "\ntier: canary\nvalues:\n  host: b.example.com"
    )
    rendered = yaml.safe_load(origin.file("generated/dev/shops-paris/configmap-shops-paris.yaml"))
    assert rendered["data"] == {"host": "p.example", "tier": "canary"}
    message = git(origin.work, "log", "-1", "--format=%B", "origin/main")
    assert "write  shops/berlin (FleetInstance shops/berlin)" in message

    # The commit holds everything the write changed in its clone,
    assert git(writer.directory, "status", "--porcelain") == ""
    # and exactly what a render of its inputs writes.
    origin.pull()
    assert main(["render", "-C", str(origin.work), "--check"]) == 0
    assert git(origin.work, "status", "--porcelain") == ""

    again = writer.write([put("berlin", host="b.example.com")])
    assert not again.made and again.commit == written.commit


def test_a_refused_change_is_left_out_and_the_others_written(
    origin: Origin, writer: FleetWriter
) -> None:
    written = writer.write(
        [
            put("rome", tier="gold"),
            put("oslo", colour="red"),
            Put("shops/other", "shops", "lisbon", "canary", {}),
            put("lisbon"),
        ]
    )
    assert written.refused["shops/rome"].startswith(
        "apps/shops/instances/rome.yaml:1: tier: tier 'gold' is not a tier of fleet 'shops'"
    )
    assert "does not accept a value 'colour'" in written.refused["shops/oslo"]
    # Two resources declaring one instance: the first one's is written, the other refused.
    assert "written for FleetInstance shops/other" in written.refused["shops/lisbon"]
    assert set(written.refused) == {"shops/rome", "shops/oslo", "shops/lisbon"}
    git(origin.work, "fetch", "-q")
    files = git(origin.work, "ls-tree", "--name-only", "origin/main", "apps/shops/instances/")
    assert files.split() == ["apps/shops/instances/lisbon.yaml"]


def test_an_instance_added_by_hand_is_not_taken_over(origin: Origin, writer: FleetWriter) -> None:
    file = origin.work / "apps" / "shops" / "instances" / "rome.yaml"
    file.parent.mkdir()
    file.write_text("tier: stable\n")
    origin.commit("rome, by hand")
    refused = writer.write([put("rome")]).refused["shops/rome"]
    assert "has an instance 'rome' already" in refused and "written by hand" in refused
    assert writer.write([Remove("shops/rome", "shops", "rome")]).made is False
    assert origin.file("apps/shops/instances/rome.yaml") == "tier: stable"


def test_nothing_is_committed_when_every_change_is_refused(
    origin: Origin, writer: FleetWriter
) -> None:
    before = origin.commits()
    written = writer.write([put("rome", tier="gold")])
    assert not written.made and written.refused
    assert origin.commits() == before


def test_a_commit_pushed_meanwhile_is_kept_with_the_edit(
    origin: Origin, writer: FleetWriter
) -> None:
    writer.write([put("berlin", host="b.example.com")])
    origin.pull()
    pushed: list[bool] = []

    def person_pushes_first() -> None:
        # Between the writer's fetch and its push, a person edits another key by hand.
        if not pushed:
            file = origin.work / "apps" / "shops" / "instances" / "berlin.yaml"
            file.write_text(file.read_text() + "  replicas: 3  # the busy season\n")
            origin.commit("berlin: more replicas")
            pushed.append(True)

    written = writer.write(
        [put("berlin", tier="stable", host="berlin.example.com")],
        guard=person_pushes_first,
        first_pause=0.01,
    )
    assert written.made and written.retries == 1
    assert origin.file("apps/shops/instances/berlin.yaml") == (
        mark("shops/berlin", ["host"])
        + "\ntier: stable\nvalues:\n  host: berlin.example.com\n  replicas: 3  # the busy season"
    )
    assert "berlin: more replicas" in git(origin.work, "log", "--format=%s", "origin/main")


def test_a_value_no_longer_declared_goes_and_a_hand_made_one_stays(
    origin: Origin, writer: FleetWriter
) -> None:
    writer.write([put("berlin", host="b.example.com")])
    origin.pull()
    file = origin.work / "apps" / "shops" / "instances" / "berlin.yaml"
    file.write_text(file.read_text() + "  replicas: 2\n")
    origin.commit("by hand")
    writer.write([put("berlin")])
    assert origin.file("apps/shops/instances/berlin.yaml") == (
        mark("shops/berlin", []) + "\ntier: canary\nvalues:\n  replicas: 2"
    )


def test_remove_deletes_only_a_file_the_resource_wrote(origin: Origin, writer: FleetWriter) -> None:
    writer.write([put("berlin"), put("paris")])
    written = writer.write(
        [Remove("shops/berlin", "shops", "berlin"), Remove("x/y", "shops", "paris")]
    )
    git(origin.work, "fetch", "-q")
    files = git(origin.work, "ls-tree", "-r", "--name-only", "origin/main").split()
    assert "apps/shops/instances/berlin.yaml" not in files
    assert not any(f.startswith("generated/dev/shops-berlin/") for f in files)
    assert "apps/shops/instances/paris.yaml" in files
    assert written.made
    origin.pull()
    assert main(["render", "-C", str(origin.work), "--check"]) == 0


def test_a_branch_that_keeps_moving_fails_the_write(origin: Origin, writer: FleetWriter) -> None:
    def moved() -> None:
        (origin.work / "note.txt").write_text(str(origin.commits()))
        origin.commit("meanwhile")

    with pytest.raises(OperationFailed, match="3 pushes were refused"):
        writer.write([put("berlin")], guard=moved, tries=3, first_pause=0.01)


def test_a_change_that_cannot_be_rendered_is_refused_and_the_others_written(
    origin: Origin, writer: FleetWriter
) -> None:
    # The template writes the value as plain YAML: this one breaks the document.
    written = writer.write([put("berlin", host="b.example"), put("rome", host="x: [y")])
    assert set(written.refused) == {"shops/rome"}
    assert written.refused["shops/rome"].startswith(
        "rendering it: apps/shops/template/shop.yaml.j2:6: invalid YAML"
    )
    git(origin.work, "fetch", "-q")
    files = git(origin.work, "ls-tree", "-r", "--name-only", "origin/main").split()
    assert "apps/shops/instances/berlin.yaml" in files
    assert not any("rome" in f for f in files)
    # Nothing of the refused change is left behind for the next write.
    assert not writer.write([put("berlin", host="b.example")]).made


def test_switches_the_resource_sets_are_its_own_and_a_persons_stay(
    origin: Origin, writer: FleetWriter
) -> None:
    path = "apps/shops/instances/berlin.yaml"
    suspended = Put("shops/berlin", "shops", "berlin", "canary", {}, {"suspend": True})
    writer.write([suspended])
    assert origin.file(path) == (
        mark("shops/berlin", [], ["suspend"]) + "\ntier: canary\nsuspend: true"
    )
    assert "switches: suspend)" in origin.file(path).partition("\n")[0]
    origin.pull()
    assert main(["render", "-C", str(origin.work), "--check"]) == 0

    # Off is the default: the line goes, and the switch stays the resource's.
    writer.write([Put("shops/berlin", "shops", "berlin", "canary", {}, {"suspend": False})])
    assert origin.file(path) == mark("shops/berlin", [], ["suspend"]) + "\ntier: canary"

    # Once the resource no longer sets it, a person's own suspend: is kept.
    writer.write([put("berlin")])
    origin.pull()
    file = origin.work / path
    file.write_text(file.read_text() + "suspend: true  # closed for the holidays\n")
    origin.commit("berlin: suspended by hand")
    writer.write([put("berlin", host="b.example")])
    assert origin.file(path) == (
        mark("shops/berlin", ["host"])
        + "\ntier: canary\nsuspend: true  # closed for the holidays\nvalues:\n  host: b.example"
    )


def test_maintenance_is_refused_when_the_fleet_declares_none(
    origin: Origin, writer: FleetWriter
) -> None:
    change = Put("shops/rome", "shops", "rome", "canary", {}, {"maintenance": True})
    refused = writer.write([change]).refused["shops/rome"]
    assert "fleet 'shops' declares no maintenance state" in refused
