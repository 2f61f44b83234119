"""API versions against the real API server: a manifest in a version the server no longer
serves is refused before anything of its app is written, naming the replacement; one in a
version the server has deprecated is applied, with the server's own warning shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.localcluster.controlplane import ClusterInfo
from tests.integration.conftest import widget_crd
from tests.integration.test_sync import Repo, cli, configmap

pytestmark = pytest.mark.cluster


def test_a_removed_version_blocks_its_app_and_a_deprecated_one_warns(
    kube: KubeClient,
    tmp_path: Path,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = Repo(tmp_path / "project", namespace)
    group = f"{namespace}.example.com"
    crd = widget_crd(group, {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    spec: dict[str, Any] = crd["spec"]  # type: ignore[assignment]
    v1 = spec["versions"][0]
    spec["versions"] = [
        {**v1, "storage": False, "name": "v1beta1", "deprecated": True,
         "deprecationWarning": f"{group}/v1beta1 Widget is deprecated; use {group}/v1 Widget"},
        v1,
    ]  # fmt: skip
    kube.apply(crd, field_manager="test")
    try:
        repo.put("web", configmap("web-config"))
        repo.put(
            "web",
            {"apiVersion": "extensions/v1beta1", "kind": "Ingress", "metadata": {"name": "web"},
             "spec": {"backend": {"serviceName": "web", "servicePort": 80}}},
        )  # fmt: skip
        repo.put(
            "widgets",
            {"apiVersion": f"{group}/v1beta1", "kind": "Widget", "metadata": {"name": "w"}},
        )
        repo.commit("an old Ingress and a deprecated Widget")
        capsys.readouterr()
        assert cli(local_cluster, repo, "sync") == 1
        out = capsys.readouterr().out
    finally:
        kube.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"widgets.{group}")
    server = kube.request("GET", "/version")["gitVersion"].removeprefix("v")
    assert (
        f"generated/dev/web/ingress-web.yaml: Ingress/{namespace}/web: Ingress "
        f"extensions/v1beta1 is not served by this cluster (Kubernetes {server}): Kubernetes "
        "1.22 stopped serving extensions/v1beta1; use apiVersion: networking.k8s.io/v1"
    ) in out, out
    # Nothing of the blocked app was written.
    with pytest.raises(NotFound):
        kube.get("v1", "ConfigMap", "web-config", namespace)
    [warning] = [line for line in out.splitlines() if "warning: " in line]
    assert warning.startswith("    warning: ") and warning.endswith(
        f"generated/dev/widgets/widget-w.yaml: Widget {group}/v1beta1: "
        f"{group}/v1beta1 Widget is deprecated; use {group}/v1 Widget"
    ), out
    assert "widgets: Succeeded" in out, out
