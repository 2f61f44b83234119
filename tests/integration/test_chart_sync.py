"""A chart pinned in an OCI registry, rendered and synced to the local control plane: its
pre-install hook Job runs (and is deleted on success) before the Deployment is applied, and
its test hook never runs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.model.project import load_project
from hakobu.sync import SyncOptions, read_desired, sync
from tests.integration.test_sync import Repo, live
from tests.unit.images.test_registry import start_registry
from tests.unit.render.charts import push_chart, write_chart

pytestmark = pytest.mark.cluster


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "registry").mkdir()
    yield from start_registry(tmp_path / "registry", auth=False)


def hakobu(cwd: Path, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hakobu", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_a_pinned_chart_syncs_with_its_hook_first(
    kube: KubeClient, namespace: str, registry: str, helm_bin: Path, tmp_path: Path
) -> None:
    push_chart(helm_bin, write_chart(tmp_path / "chart"), registry, tmp_path / "pub")
    repo = Repo(tmp_path / "project", namespace)
    app = repo.root / "apps" / "web"
    app.mkdir(parents=True)
    source = {"repository": f"oci://{registry}/charts", "name": "shop", "version": "0.3.0"}
    (app / "helm.yaml").write_text(yaml.safe_dump({"chart": {**source, "plainHTTP": True}}))
    hakobu(repo.root, "chart", "lock")
    hakobu(repo.root, "render")
    rev = repo.commit("web from its chart")

    project = load_project(repo.root)
    env = project.environment("dev")
    said: list[str] = []
    result = sync(
        kube,
        project,
        env,
        read_desired(project, env, rev),
        options=SyncOptions(timeout=90),
        progress=said.append,
    )

    assert result.succeeded, (result, said)
    (web,) = result.apps
    assert web.hooks == 1
    hook_wave = said.index("web: PreSync wave -1: applying 1 object")
    sync_waves = [i for i, line in enumerate(said) if line.startswith("web: Sync wave 0")]
    assert sync_waves and hook_wave < sync_waves[0], said
    deployment = live(kube, namespace, "Deployment", "web")
    assert deployment["spec"]["replicas"] == 1
    # hook-succeeded: the Job is gone once it completed; the test hook never ran.
    with pytest.raises(NotFound):
        live(kube, namespace, "Job", "web-migrate")
    with pytest.raises(NotFound):
        live(kube, namespace, "Pod", "web-test")
    crd = kube.get(
        "apiextensions.k8s.io/v1", "CustomResourceDefinition", "gadgets.charts.example.com", None
    )
    assert crd["spec"]["group"] == "charts.example.com"
