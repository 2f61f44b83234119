"""An agent given no cluster of its own choosing does not sync an environment that names
its clusters into the one it runs in."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest
import yaml

from hakobu.agent.checkout import Checkout
from hakobu.agent.loop import Agent, AgentOptions, NamesClusters
from hakobu.cluster.api import KubeApi
from tests.unit.agent.test_checkout import Remote


class Untouched:
    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the cluster was used: {name}")


def test_an_environment_with_clusters_is_refused_before_the_cluster_is_touched(
    tmp_path: Path,
) -> None:
    remote = Remote(tmp_path)
    project = {
        "apiVersion": "hakobu.dev/v1alpha1",
        "kind": "Project",
        "name": "shop",
        "environments": {"dev": {"namespace": "dev", "clusters": [{"name": "eu"}, {"name": "us"}]}},
    }
    remote.push({"hakobu.yaml": yaml.safe_dump(project)}, "two clusters")
    agent = Agent(
        Checkout(str(remote.bare), "main", tmp_path / "clone"),
        cast(KubeApi, Untouched()),
        AgentOptions(env="dev", interval=1.0, refuse_clusters=True),
        lambda _: None,
    )
    with pytest.raises(
        NamesClusters, match=r"environment dev names its clusters .*\(eu, us\)"
    ) as e:
        agent.iterate()
    assert [c.name for c in e.value.clusters] == ["eu", "us"]
