"""A canary with maxSurge 1 and maxUnavailable 0 on the real control plane (kwok runs the
Pods): at every pass the two Deployments together ask for at most one replica more than
the app's, plus one while the weight does not divide the replicas, and never fewer
available than the app's."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import yaml

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.releases.canary.analysis import Measurement
from hakobu.releases.canary.engine import advance
from tests.integration.test_bluegreen_rollout import git


def spec(tag: str) -> dict[str, Any]:
    return {
        "name": "web",
        "image": f"example.test/shop/web:{tag}",
        "replicas": 10,
        "probes": {"readiness": False, "liveness": False},
        "rollout": {
            "canary": {
                "maxSurge": 1,
                "maxUnavailable": 0,
                "steps": [{"setWeight": 41}, {"pause": {}}],
            }
        },
    }


def no_analysis(_: object) -> Measurement:
    raise AssertionError("the rollout declares no analysis")


def counts(kube: KubeClient, namespace: str, name: str) -> tuple[int, int]:
    try:
        live: dict[str, Any] = kube.get("apps/v1", "Deployment", name, namespace)
    except NotFound:
        return 0, 0
    return live["spec"]["replicas"], (live.get("status") or {}).get("availableReplicas", 0)


def test_each_pass_stays_within_max_surge_and_max_unavailable(
    kube: KubeClient, namespace: str, local_cluster: ClusterInfo, tmp_path: Path
) -> None:
    root = tmp_path / "shop"
    (root / "apps").mkdir(parents=True)
    (root / "hakobu.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "hakobu.dev/v1alpha1",
                "kind": "Project",
                "name": f"shop-{namespace[-6:]}",
                "apps": "apps",
                "output": "generated",
                "environments": {"production": {"namespace": namespace}},
            }
        )
    )
    git(root, "init", "-q", "-b", "main")

    def release(tag: str) -> None:
        (root / "apps" / "web.yaml").write_text(yaml.safe_dump(spec(tag)))
        assert main(["render", "-C", str(root)]) == 0
        git(root, "add", "-A")
        git(root, "commit", "-qm", tag)
        sync = ["sync", "production", "-C", str(root), "--kubeconfig", local_cluster.kubeconfig]
        assert main(sync) == 0

    release("1.0")
    release("1.1")
    seen: list[tuple[int, int]] = []
    now, deadline = time.time(), time.monotonic() + 120
    while True:
        now += 1
        rollout = advance(kube, namespace, "web", now, no_analysis)
        stable, stable_up = counts(kube, namespace, "web")
        canary, canary_up = counts(kube, namespace, "web-canary")
        # 10 replicas at 41% do not divide: both sides round up, one more allowed.
        assert stable + canary <= 10 + 1 + 1, (stable, canary)
        # The stable side keeps what the canary has not yet made available.
        assert stable + canary_up >= 10, (stable, stable_up, canary, canary_up)
        if not seen or seen[-1] != (stable, canary):
            seen.append((stable, canary))
        if rollout.state is not None and rollout.state.phase == "Paused":
            break
        assert time.monotonic() < deadline, seen
        time.sleep(0.3)
    # Two replicas at a time: the canary grows by the surge, then the stable side gives up
    # what the canary made available, until 5 canary and 6 stable.
    assert seen[0] == (10, 2) and seen[-1] == (6, 5), seen
    assert all(b - a <= 2 for (_, a), (_, b) in itertools.pairwise(seen)), seen
