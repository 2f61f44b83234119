"""Apps synced in dependsOn order, against the in-memory API server of tests/fakes: an app
starts after its dependencies are Healthy, is skipped when one fails, and removed apps are
pruned dependents first. tests/integration/test_sync_dependencies.py runs a real cluster."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from hakobu.errors import InvalidInput
from hakobu.health.status import HealthStatus
from hakobu.model.dependencies import ANNOTATION
from hakobu.model.objects import Object
from hakobu.model.project import Environment, Project
from hakobu.sync import sync
from hakobu.sync.dependencies import desired_graph
from hakobu.sync.manifests import AppManifests, DesiredState, Manifest
from hakobu.sync.observe import observe
from hakobu.sync.run import Outcome, SyncOptions, SyncResult
from hakobu.sync.status import SyncState, app_status, with_dependencies
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


def configmap(name: str, *depends_on: str) -> Object:
    annotations = {ANNOTATION: ",".join(depends_on)} if depends_on else {}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NS, "annotations": annotations},
        "data": {"key": name},
    }


def job(name: str, *depends_on: str) -> Object:
    annotations = {ANNOTATION: ",".join(depends_on)} if depends_on else {}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": NS, "annotations": annotations},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": []}}},
    }


def desired(apps: dict[str, list[Object]], revision: str = "r1") -> DesiredState:
    return DesiredState(
        "dev",
        revision,
        tuple(
            AppManifests(
                app, tuple(Manifest(o, f"{app}/{o['metadata']['name']}.yaml") for o in objects)
            )
            for app, objects in sorted(apps.items())
        ),
    )


def run(kube: FakeKube, state: DesiredState, **options: Any) -> SyncResult:
    options = {"timeout": 5, "workers": 2, **options}
    return sync(kube, PROJECT, ENV, state, options=SyncOptions(**options))


def by_app(result: SyncResult) -> dict[str, Any]:
    return {a.app: a for a in result.apps}


class Jobs:
    """A Job controller: each Job completes (or fails) ``after`` seconds after its
    creation; every step is logged, with the ConfigMaps written, in the order it happened."""

    def __init__(self, kube: FakeKube, *, after: float = 0.0, fail: bool = False) -> None:
        self.kube, self.after, self.fail = kube, after, fail
        self.log: list[str] = []
        kube.controllers.append(self)

    def __call__(self, obj: Object) -> None:
        name = obj["metadata"]["name"]
        if obj["kind"] == "ConfigMap" and not name.startswith("hakobu-"):
            self.log.append(f"applied {name}")
        if obj["kind"] != "Job" or obj.get("status"):
            return
        if self.after:
            timer = threading.Timer(self.after, self._finish, (obj,))
            timer.daemon = True
            timer.start()
        else:
            obj["status"] = self._status()
            self.log.append(f"finished {name}")

    def _status(self) -> dict[str, Any]:
        condition = "Failed" if self.fail else "Complete"
        return {"conditions": [{"type": condition, "status": "True", "message": "done"}]}

    def _finish(self, obj: Object) -> None:
        with self.kube._lock:
            obj["status"] = self._status()
            self.kube.version += 1
            obj["metadata"]["resourceVersion"] = str(self.kube.version)
            self.log.append(f"finished {obj['metadata']['name']}")


def test_an_app_starts_only_once_its_dependency_is_healthy() -> None:
    kube = FakeKube()
    jobs = Jobs(kube, after=0.5)

    result = run(
        kube,
        desired(
            {
                "db": [job("migrate")],
                "web": [configmap("web", "db")],
                "api": [configmap("api", "web")],
                "other": [configmap("other")],
            }
        ),
    )

    assert result.result is Outcome.SUCCEEDED, result
    # What waits for nothing does not wait for db.
    assert jobs.log.index("applied other") < jobs.log.index("finished migrate")
    assert jobs.log.index("finished migrate") < jobs.log.index("applied web")
    assert jobs.log.index("applied web") < jobs.log.index("applied api")


def test_a_failed_dependency_skips_what_waits_for_it_and_nothing_else() -> None:
    kube = FakeKube()
    Jobs(kube, fail=True)

    result = run(
        kube,
        desired(
            {
                "db": [job("migrate")],
                "web": [configmap("web", "db")],
                "api": [configmap("api", "web")],
                "other": [configmap("other")],
            }
        ),
    )

    apps = by_app(result)
    assert result.result is Outcome.FAILED
    assert apps["db"].result is Outcome.FAILED
    assert apps["other"].result is Outcome.SUCCEEDED
    assert apps["web"].result is Outcome.SKIPPED and apps["web"].waiting_for == ("db",)
    assert apps["web"].messages == (
        "waiting for db: Failed (Job/shop-dev/migrate failed: Degraded done)",
    )
    assert apps["api"].result is Outcome.SKIPPED
    assert apps["api"].messages[0].startswith("waiting for web: Skipped (waiting for db")
    # Skipped apps are not touched, not even their inventories.
    assert kube.stored("ConfigMap", "web", NS) is None
    assert kube.stored("ConfigMap", "hakobu-inventory-web", NS) is None
    assert kube.stored("ConfigMap", "other", NS) is not None


@pytest.mark.parametrize(
    ("apps", "message"),
    [
        (
            {"web": [configmap("web", "db")], "db": [configmap("db", "web")]},
            "environment 'dev' at r1: dependency cycle: db → web → db",
        ),
        (
            {"web": [configmap("web", "db")]},
            "app 'web' depends on 'db', which environment 'dev' does not hold at r1",
        ),
        (
            {"web": [configmap("web", "db"), configmap("web2")], "db": [configmap("db")]},
            "web/web2.yaml: its hakobu.dev/depends-on annotation differs from that of "
            "web/web.yaml; every object of app 'web' says the same",
        ),
    ],
)
def test_a_graph_that_cannot_be_synced_is_refused_before_the_cluster_is_read(
    apps: dict[str, list[Object]], message: str
) -> None:
    kube = FakeKube()
    with pytest.raises(InvalidInput) as caught:
        run(kube, desired(apps), dry_run=True)
    assert caught.value.message == message
    assert caught.value.exit_code == 2
    assert not kube.requests


def test_one_app_synced_alone_needs_its_dependency_healthy_in_the_cluster() -> None:
    kube = FakeKube()
    jobs = Jobs(kube)
    state = desired({"db": [job("migrate")], "web": [configmap("web", "db")]})

    alone = by_app(run(kube, state, only_app="web"))["web"]

    assert alone.result is Outcome.SKIPPED and alone.waiting_for == ("db",)
    assert alone.messages[0].startswith("waiting for db: Missing (Job/shop-dev/migrate Missing")
    assert kube.stored("ConfigMap", "web", NS) is None

    assert run(kube, state, only_app="db").result is Outcome.SUCCEEDED
    assert run(kube, state, only_app="web").result is Outcome.SUCCEEDED
    assert jobs.log == ["finished migrate", "applied web"]


def test_removed_apps_are_pruned_dependents_first() -> None:
    kube = FakeKube()
    Jobs(kube)
    deleted: list[str] = []
    delete = kube.delete

    def logged(api_version: str, kind: str, name: str, *args: Any, **kwargs: Any) -> None:
        delete(api_version, kind, name, *args, **kwargs)
        deleted.append(name)

    kube.delete = logged  # type: ignore[method-assign]
    both = {"db": [configmap("db")], "web": [configmap("web", "db")], "other": [configmap("o")]}
    assert run(kube, desired(both)).result is Outcome.SUCCEEDED

    result = run(kube, desired({"other": [configmap("o")]}, "r2"), prune=True)

    assert result.result is Outcome.SUCCEEDED, result
    assert deleted.index("web") < deleted.index("db")


def test_status_says_what_an_app_waits_for() -> None:
    kube = FakeKube()
    state = desired({"db": [job("migrate")], "web": [configmap("web", "db")]})
    # No Job controller: the Job never completes.
    assert run(kube, state, only_app="db", timeout=0.2).result is Outcome.FAILED

    statuses = with_dependencies(
        [app_status(s, PROJECT.health) for s in observe(kube, PROJECT, ENV, state)],
        desired_graph(state),
    )

    db, web = statuses
    assert (db.sync, db.health) == (SyncState.SYNCED, HealthStatus.PROGRESSING)
    assert web.depends_on == ("db",)
    assert web.waiting_for == ("db (Synced, Progressing)",)
    assert db.waiting_for == ()
