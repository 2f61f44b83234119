"""The sync engine's failure paths, against the in-memory API server of tests/fakes (each
test runs in milliseconds). The real control plane runs the same engine in
tests/integration/test_sync*.py."""

from __future__ import annotations

import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import Invalid
from hakobu.errors import InvalidInput
from hakobu.health import HealthRules, compile_rule
from hakobu.health.status import HealthStatus
from hakobu.model.objects import Object
from hakobu.model.project import Environment, Project
from hakobu.sync import observe, sync
from hakobu.sync.manifests import AppManifests, DesiredState, Manifest
from hakobu.sync.ownership import inventory_name
from hakobu.sync.run import Outcome, SyncOptions, SyncResult
from hakobu.sync.status import SyncState, app_status
from hakobu.sync.waiting import wait_settled
from tests.fakes.kube import FakeKube

NS = "shop-dev"
ENV = Environment("dev", NS, {}, allow_plaintext_secrets=False)
PROJECT = Project(
    root=Path("/project"),
    name="shop",
    apps_dir=Path("/project/apps"),
    output_dir=Path("/project/generated"),
    environments=(ENV,),
    secrets_dir=Path("/project/secrets"),
)


def configmap(name: str, *, wave: int = 0, hook: str | None = None, **data: str) -> Object:
    annotations = {"hakobu.dev/sync-wave": str(wave)}
    if hook:
        annotations["hakobu.dev/hook"] = hook
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NS, "annotations": annotations},
        "data": data or {"key": name},
    }


def job(name: str, *, hook: str) -> Object:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": NS, "annotations": {"hakobu.dev/hook": hook}},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": []}}},
    }


def desired(*objects: Object, app: str = "web", revision: str = "r1") -> DesiredState:
    manifests = tuple(Manifest(obj, f"{app}/{obj['metadata']['name']}.yaml") for obj in objects)
    return DesiredState("dev", revision, (AppManifests(app, manifests),))


def run(kube: KubeApi, state: DesiredState, **options: Any) -> SyncResult:
    return sync(kube, PROJECT, ENV, state, options=SyncOptions(timeout=5, workers=2, **options))


def names(kube: FakeKube, kind: str = "ConfigMap") -> set[str]:
    return {n for (_, k, _, n) in kube.objects if k == kind and not n.startswith("hakobu-")}


def rejected(name: str) -> Invalid:
    return Invalid(422, "Invalid", f'ConfigMap "{name}" is invalid: data: too long', {})


def test_a_failing_wave_stops_the_waves_after_it() -> None:
    kube = FakeKube()
    kube.fail("apply", "ConfigMap", "bad", rejected("bad"))

    result = run(
        kube, desired(configmap("first"), configmap("bad", wave=1), configmap("later", wave=2))
    )

    (app,) = result.apps
    assert app.result is Outcome.FAILED and result.result is Outcome.FAILED
    assert names(kube) == {"first"}
    # The apply's error, at once: the sync neither waits for the object nor goes on.
    assert app.messages == (
        'ConfigMap/shop-dev/bad: the server rejected it: ConfigMap "bad" is invalid: data: '
        "too long",
    )


def test_a_degraded_hook_fails_its_phase_and_nothing_after_it_is_applied() -> None:
    kube = FakeKube()

    def job_controller(obj: Object) -> None:
        if obj["kind"] == "Job":
            failed = {"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}
            obj["status"] = {"conditions": [failed]}

    kube.controllers.append(job_controller)

    result = run(kube, desired(job("migrate", hook="PreSync"), configmap("app")))

    (app,) = result.apps
    assert app.result is Outcome.FAILED
    assert names(kube) == set()
    assert any("Job/" in m and "migrate failed: Degraded" in m for m in app.messages)


def test_sync_fail_hooks_run_when_a_phase_fails_and_only_then() -> None:
    kube = FakeKube()
    state = desired(configmap("app"), configmap("bad"), configmap("alert", hook="SyncFail"))
    kube.fail("apply", "ConfigMap", "bad", rejected("bad"))

    assert run(kube, state).result is Outcome.FAILED
    assert "alert" in names(kube)

    fine = FakeKube()
    result = run(fine, desired(configmap("app"), configmap("alert", hook="SyncFail")))
    assert result.result is Outcome.SUCCEEDED
    assert names(fine) == {"app"}


def inventory(kube: FakeKube, app: str = "web") -> set[str]:
    stored = kube.stored("ConfigMap", inventory_name(app), NS)
    assert stored is not None
    return {item["name"] for item in json.loads(stored["data"]["objects"])}


def test_after_a_failure_the_inventory_keeps_what_was_announced_and_the_app_is_out_of_sync() -> (
    None
):
    kube = FakeKube()
    kube.fail("apply", "ConfigMap", "later", rejected("later"))
    state = desired(configmap("first"), configmap("later", wave=1))

    assert run(kube, state).result is Outcome.FAILED

    # Everything this sync might have created stays known, so a later prune finds it.
    assert inventory(kube) == {"first", "later"}
    (status,) = [app_status(s, PROJECT.health) for s in observe(kube, PROJECT, ENV, state)]
    assert status.sync is SyncState.OUT_OF_SYNC


def test_a_second_sync_of_the_same_revision_writes_nothing() -> None:
    kube = FakeKube()
    state = desired(configmap("a"), configmap("b", wave=1))
    assert run(kube, state).result is Outcome.SUCCEEDED
    kube.requests.clear()

    result = run(kube, state)

    assert result.succeeded and result.applied == 0 and result.apps[0].unchanged == 2
    assert kube.requests["PATCH"] == 0
    (status,) = [app_status(s, PROJECT.health) for s in observe(kube, PROJECT, ENV, state)]
    assert status.sync is SyncState.SYNCED


def test_a_change_by_another_manager_is_drift_and_a_conflict_unless_forced() -> None:
    kube = FakeKube()
    state = desired(configmap("a", key="git"))
    run(kube, state)
    kube.apply(configmap("a", key="by hand"), field_manager="kubectl", force=True)
    (status,) = [app_status(s, PROJECT.health) for s in observe(kube, PROJECT, ENV, state)]
    assert status.sync is SyncState.DRIFTED

    kube.apply(configmap("a", key="again"), field_manager="kubectl")
    refused = run(kube, desired(configmap("a", key="git 2"), revision="r2"))
    assert refused.result is Outcome.FAILED
    assert any('managed by "kubectl"' in m for m in refused.apps[0].messages)

    taken = run(kube, desired(configmap("a", key="git 2"), revision="r2"), force_conflicts=True)
    assert taken.succeeded
    assert kube.get("v1", "ConfigMap", "a", NS)["data"] == {"key": "git 2"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {
                "ownerReferences": [
                    {"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "1"}
                ]
            },
            "owned by ConfigMap/o",
        ),
        ({"annotations": {"hakobu.dev/prune": "false"}}, 'annotated hakobu.dev/prune: "false"'),
    ],
)
def test_prune_leaves_alone_what_is_not_hakobus_to_delete(
    change: dict[str, Any], reason: str
) -> None:
    kube = FakeKube()
    run(kube, desired(configmap("keep"), configmap("gone")))
    stored = kube.stored("ConfigMap", "gone", NS)
    assert stored is not None
    # As another controller (or a person) would set them after the sync.
    stored["metadata"].update(change)

    result = run(kube, desired(configmap("keep"), revision="r2"), prune=True)

    assert result.succeeded and result.pruned == 0
    assert names(kube) == {"keep", "gone"}
    assert any("gone" in m and reason in m for m in result.apps[0].messages)


def test_prune_deletes_what_git_dropped() -> None:
    kube = FakeKube()
    run(kube, desired(configmap("keep"), configmap("gone")))

    result = run(kube, desired(configmap("keep"), revision="r2"), prune=True)

    assert result.succeeded and result.pruned == 1
    assert names(kube) == {"keep"}
    assert inventory(kube) == {"keep"}


def test_an_app_git_dropped_leaves_no_inventory_once_pruned() -> None:
    kube = FakeKube()
    web, api = desired(configmap("web"), app="web"), desired(configmap("api"), app="api")
    run(kube, DesiredState("dev", "r1", (*web.apps, *api.apps)))

    kept = run(kube, desired(configmap("api"), app="api", revision="r2"))
    assert kept.succeeded and names(kube) == {"api", "web"}
    assert kube.stored("ConfigMap", inventory_name("web"), NS) is not None

    result = run(kube, desired(configmap("api"), app="api", revision="r2"), prune=True)

    assert result.succeeded and result.pruned == 1
    assert names(kube) == {"api"}
    assert kube.stored("ConfigMap", inventory_name("web"), NS) is None
    assert inventory(kube, "api") == {"api"}


def test_prune_refuses_to_empty_an_environment_unless_allowed() -> None:
    kube = FakeKube()
    run(kube, desired(configmap("a"), configmap("b")))
    empty = DesiredState("dev", "r2", ())

    with pytest.raises(InvalidInput, match="would delete all 2 objects"):
        run(kube, empty, prune=True)
    assert names(kube) == {"a", "b"}

    assert run(kube, empty, prune=True, allow_empty=True).pruned == 2
    assert names(kube) == set()


def test_a_failed_prune_fails_the_app_and_keeps_the_object_in_the_inventory() -> None:
    kube = FakeKube()
    run(kube, desired(configmap("keep"), configmap("gone")))
    kube.fail("delete", "ConfigMap", "gone", Invalid(422, "Invalid", "refused by a webhook", {}))

    result = run(kube, desired(configmap("keep"), revision="r2"), prune=True)

    assert result.result is Outcome.FAILED
    assert inventory(kube) == {"keep", "gone"}


def test_one_apps_failure_spares_the_others() -> None:
    kube = FakeKube()
    kube.fail("apply", "ConfigMap", "bad", rejected("bad"))
    web, api = desired(configmap("bad"), app="web"), desired(configmap("api"), app="api")

    result = run(kube, DesiredState("dev", "r1", (*web.apps, *api.apps)))

    assert {a.app: a.result for a in result.apps} == {
        "api": Outcome.SUCCEEDED,
        "web": Outcome.FAILED,
    }
    assert result.result is Outcome.FAILED
    assert names(kube) == {"api"}


def test_a_hook_deleted_on_failure_is_gone_and_the_phase_still_fails() -> None:
    kube = FakeKube()

    def job_controller(obj: Object) -> None:
        if obj["kind"] == "Job":
            obj["status"] = {"conditions": [{"type": "Failed", "status": "True"}]}

    kube.controllers.append(job_controller)
    hook = job("migrate", hook="PreSync")
    hook["metadata"]["annotations"]["hakobu.dev/hook-delete-policy"] = "HookFailed"

    result = run(kube, desired(hook, configmap("app")))

    assert result.result is Outcome.FAILED
    assert names(kube, "Job") == set()


def test_an_object_deleted_while_the_sync_waits_for_it_fails_the_wait_at_once() -> None:
    kube = FakeKube()
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"a": "b"}},
        "spec": {"replicas": 1},
    }
    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        waited = wait_settled(
            kube,
            [deployment],
            [None],
            time.monotonic() + 60,
            pool=pool,
            selector="a=b",
            rules=PROJECT.health,
        )
    assert time.monotonic() - started < 10
    assert waited[0].health.status is HealthStatus.MISSING
    assert "deleted" in waited[0].health.message


def test_the_projects_health_rules_decide_waits_and_status() -> None:
    # A rule may judge any kind: here ConfigMaps whose data says they are broken.
    rule = compile_rule(
        "v1",
        "ConfigMap",
        {"failed": "has(data.broken)", "current": "!has(data.broken)"},
        origin="hakobu.yaml health[0]",
    )
    project = dataclasses.replace(PROJECT, health=HealthRules((rule,)))
    kube = FakeKube()
    state = desired(configmap("good"), configmap("bad", broken="yes", wave=1))

    result = sync(kube, project, ENV, state, options=SyncOptions(timeout=5, workers=2))

    assert result.result is Outcome.FAILED
    assert any("ConfigMap/shop-dev/bad" in m and "Degraded" in m for m in result.apps[0].messages)
    (status,) = [app_status(s, project.health) for s in observe(kube, project, ENV, state)]
    assert status.health is HealthStatus.DEGRADED
    assert status.unhealthy == ("ConfigMap/shop-dev/bad Degraded",)
    (plain,) = [app_status(s, PROJECT.health) for s in observe(kube, PROJECT, ENV, state)]
    assert plain.health is HealthStatus.HEALTHY


def test_a_no_op_sync_reports_each_app_as_a_full_run_would() -> None:
    kube = FakeKube()
    state = desired(configmap("a"), configmap("b", wave=1))
    first = run(kube, state, prune=True)
    assert first.apps[0].created == 2
    kube.requests.clear()
    again = run(kube, state, prune=True)
    (app,) = again.apps
    assert (app.result, app.unchanged, app.created, app.updated, app.pruned) == (
        Outcome.SUCCEEDED,
        2,
        0,
        0,
        0,
    )
    assert set(app.durations) == {"PreSync", "Sync", "PostSync", "Prune"}
    assert kube.requests["PATCH"] == 0 and kube.requests["DELETE"] == 0
