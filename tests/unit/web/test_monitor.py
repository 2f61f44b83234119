from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from hakobu.model.project import Project, load_project
from hakobu.sync.manifests import AppManifests, Manifest
from hakobu.web.events import Broadcast
from hakobu.web.monitor import Monitor
from hakobu.web.snapshot import AppCell, EnvSnapshot, images_of
from tests.fakes.kube import FakeKube


class Recorded(Broadcast):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, Any]] = []

    def publish(self, event: str, data: Any) -> None:
        self.seen.append((event, data))


def test_a_reread_publishes_each_changed_cell_and_nothing_else(tmp_path: Path) -> None:
    doc = {"apiVersion": "hakobu.dev/v1alpha1", "kind": "Project", "name": "shop"}
    doc["environments"] = {"dev": {"namespace": "shop-dev"}}  # type: ignore[assignment]
    (tmp_path / "hakobu.yaml").write_text(yaml.safe_dump(doc))
    health = {"web": "Healthy", "api": "Healthy"}

    def read(_kube: Any, project: Project, env: str) -> EnvSnapshot:
        cells = {app: AppCell("Synced", h, (), (), ()) for app, h in health.items()}
        return EnvSnapshot(env, "shop-dev", "r1", "r1", cells)

    broadcast = Recorded()
    monitor = Monitor(FakeKube(), load_project(tmp_path), broadcast, read=read)
    monitor.refresh("dev")
    monitor.refresh("dev")
    assert broadcast.seen == []
    health["api"] = "Degraded"
    monitor.refresh("dev")
    assert broadcast.seen == [
        (
            "status",
            {
                "env": "dev",
                "app": "api",
                "cell": {
                    "sync": "Synced",
                    "health": "Degraded",
                    "images": [],
                    "differing": [],
                    "unhealthy": [],
                    "waiting_for": [],
                },
            },
        )
    ]
    assert monitor.snapshot("dev").apps["api"].health == "Degraded"


def test_images_are_read_from_every_pod_template_once() -> None:
    def workload(kind: str, spec: dict[str, Any]) -> Manifest:
        return Manifest({"apiVersion": "apps/v1", "kind": kind, "metadata": {}, "spec": spec}, "")

    pod = {"initContainers": [{"image": "init:1"}], "containers": [{"image": "web:2"}]}
    app = AppManifests(
        "web",
        (
            workload("Deployment", {"template": {"spec": pod}}),
            workload("CronJob", {"jobTemplate": {"spec": {"template": {"spec": pod}}}}),
            workload("Service", {"ports": []}),
        ),
    )
    assert images_of(app) == ("init:1", "web:2")
