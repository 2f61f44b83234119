"""An app found in sync is not compared again while its manifests and its live objects'
versions stay as they were; any write to one of its objects, any change of its manifests or
of the environment's ignoreDifferences, and it is compared again."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import orjson
import pytest

from hakobu.model.ignoredifferences import IgnoreRule
from hakobu.model.project import Project
from hakobu.sync import compare, observe, sync
from hakobu.sync.insync import InSync
from hakobu.sync.manifests import DesiredState
from hakobu.sync.plan import Action
from hakobu.sync.run import SyncOptions, SyncResult
from hakobu.sync.status import SyncState, app_status
from tests.fakes.kube import FakeKube
from tests.unit.sync.test_engine import ENV, configmap, desired


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("HAKOBU_CACHE_DIR", str(tmp_path / "cache"))
    return Project(
        root=tmp_path,
        name="shop",
        apps_dir=tmp_path / "apps",
        output_dir=tmp_path / "generated",
        environments=(ENV,),
        secrets_dir=tmp_path / "secrets",
    )


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the objects compared field by field, as they are compared."""
    seen: list[str] = []
    real = compare.in_sync

    def counted(desired: dict[str, object], live: dict[str, object], manager: str) -> bool:
        seen.append(str(live["metadata"]["name"]))  # type: ignore[index]
        return real(desired, live, manager)

    monkeypatch.setattr("hakobu.sync.plan.in_sync", counted)
    return seen


def test_an_app_found_in_sync_is_not_compared_again(project: Project, compared: list[str]) -> None:
    kube = FakeKube()
    state = desired(configmap("a"), configmap("b"))
    assert run_in(kube, project, state).succeeded
    compared.clear()
    observe(kube, project, ENV, state)
    assert sorted(compared) == ["a", "b"]
    compared.clear()
    (again,) = observe(kube, project, ENV, state)
    assert compared == []
    assert {s.action for s in again.plan.steps} == {Action.UNCHANGED}


def test_a_write_to_one_object_compares_the_app_again(
    project: Project, compared: list[str]
) -> None:
    kube = FakeKube()
    state = desired(configmap("a", key="git"), configmap("b"))
    run_in(kube, project, state)
    observe(kube, project, ENV, state)
    kube.apply(configmap("a", key="by hand"), field_manager="kubectl", force=True)
    compared.clear()
    (found,) = observe(kube, project, ENV, state)
    assert sorted(compared) == ["a", "b"]
    assert app_status(found, project.health).sync is SyncState.DRIFTED


def test_changed_manifests_or_ignore_rules_compare_the_app_again(
    project: Project, compared: list[str]
) -> None:
    kube = FakeKube()
    state = desired(configmap("a"))
    run_in(kube, project, state)
    observe(kube, project, ENV, state)
    compared.clear()
    observe(kube, project, ENV, desired(configmap("a", key="new")))
    assert compared == ["a"]
    compared.clear()
    rule = IgnoreRule("", "ConfigMap", None, None, (("data", "key"),), ())
    observe(kube, project, dataclasses.replace(ENV, ignore_differences=(rule,)), state)
    assert compared == ["a"]


def test_the_record_keeps_only_the_environment_s_apps_and_survives_damage(
    project: Project, compared: list[str]
) -> None:
    kube = FakeKube()
    both = desired(configmap("a"), app="web")
    run_in(kube, project, both)
    observe(kube, project, ENV, both)
    (path,) = (project.root / "cache").rglob("insync/dev.json")
    assert list(orjson.loads(path.read_bytes())["apps"]) == ["web"]
    path.write_bytes(b"{not json")
    compared.clear()
    observe(kube, project, ENV, both)
    assert compared == ["a"]
    assert list(orjson.loads(path.read_bytes())["apps"]) == ["web"]


def test_a_key_needs_every_object_with_a_uid_and_a_version(tmp_path: Path) -> None:
    memo = InSync(tmp_path / "x.json", "salt", {})
    live = {"metadata": {"uid": "u", "resourceVersion": "7"}}
    assert memo.key("d", [live, live]) is not None
    assert memo.key("d", [live, None]) is None
    assert memo.key("d", [{"metadata": {"uid": "u"}}]) is None
    assert memo.key("d", [{"metadata": {"uid": "u", "resourceVersion": "8"}}]) != memo.key(
        "d", [live]
    )


def run_in(kube: FakeKube, project: Project, state: DesiredState) -> SyncResult:
    return sync(kube, project, ENV, state, options=SyncOptions(timeout=5, workers=2))
