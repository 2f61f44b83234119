"""``autoRollback``: the agent answers a failing revision with a rollback commit it pushes.

The agent's clock is the test's, so a window passes exactly when the test says so.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.agent import Agent, AgentOptions, Checkout
from hakobu.cluster.client import KubeClient
from hakobu.cluster.kubeconfig import load
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.sync.retry import Retrying
from tests.integration.test_agent import INTERVAL, Logs, Remote, image
from tests.integration.test_sync import deployment, job

pytestmark = pytest.mark.cluster

WINDOW = 300


def web(tag: str) -> dict[str, Any]:
    obj = deployment("web", f"nginx:{tag}")
    obj["spec"]["replicas"] = 1
    return obj


def push_failing(remote: Remote, tag: str) -> str:
    """A new image whose smoke test (a PostSync hook) fails once it is rolled out."""
    remote.put("dev", "web", web(tag))
    remote.put("dev", "web", job("smoke-test", "PostSync", fail=True))
    return remote.push(f"web {tag}")


def autoscaler() -> dict[str, Any]:
    """An autoscaler that cannot work: the cluster serves no metrics, so it turns Degraded
    after the sync, which does not wait for autoscalers."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 3,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 50},
                    },
                }
            ],
        },
    }


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class RacingCheckout(Checkout):
    """Someone pushes ``race`` to the remote just before the agent's first push."""

    def __init__(self, remote: Remote, directory: Path, race: Callable[[], str]) -> None:
        super().__init__(str(remote.bare), "main", directory)
        self._race: Callable[[], str] | None = race
        self.raced: str | None = None

    def push(self, commit: str) -> None:
        if self._race is not None:
            self.raced, self._race = self._race(), None
        super().push(commit)


def remote_log(remote: Remote) -> list[tuple[str, str, str]]:
    """(commit, first parent, subject) of the remote's main, newest first."""
    out = subprocess.run(
        ["git", "--git-dir", str(remote.bare), "log", "--first-parent", "--format=%H %P %s"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [
        (commit, parents, subject)
        for commit, parents, subject in (line.split(" ", 2) for line in out.splitlines())
    ]


def message(remote: Remote, commit: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(remote.bare), "log", "-1", "--format=%B", commit],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def with_auto_rollback(remote: Remote, namespace: str, window: int | None) -> None:
    dev: dict[str, Any] = {"namespace": namespace}
    if window is not None:
        dev["autoRollback"] = {"window": window}
    project = {
        "apiVersion": "hakobu.dev/v1alpha1",
        "kind": "Project",
        "name": "shop",
        "environments": {"dev": dev, "prod": {"namespace": f"{namespace}-prod"}},
    }
    (remote.work / "hakobu.yaml").write_text(yaml.safe_dump(project))


class Running:
    def __init__(self, logs: Logs, kube: KubeClient, clock: Clock) -> None:
        self.logs, self.kube, self.clock = logs, kube, clock


@pytest.fixture
def start(
    remote: Remote, tmp_path: Path, local_cluster: ClusterInfo
) -> Iterator[Callable[[Checkout | None], Running]]:
    """Start an agent for ``dev`` (with prune, so a rollback removes what it undoes)."""
    stop = threading.Event()
    threads: list[threading.Thread] = []
    with KubeClient(load(Path(local_cluster.kubeconfig)), retry=Retrying()) as kube:

        def starting(checkout: Checkout | None) -> Running:
            logs, clock = Logs(), Clock()
            agent = Agent(
                checkout or Checkout(str(remote.bare), "main", tmp_path / "agent"),
                kube,
                AgentOptions(env="dev", interval=INTERVAL, timeout=30, prune=True),
                logs,
                clock=clock,
            )
            thread = threading.Thread(target=agent.run, args=(stop,))
            thread.start()
            threads.append(thread)
            return Running(logs, kube, clock)

        try:
            yield starting
        finally:
            stop.set()
            for thread in threads:
                thread.join()


@pytest.fixture
def remote(tmp_path: Path, namespace: str) -> Remote:
    return Remote(tmp_path, namespace)


def known_good(remote: Remote, running: Running, tag: str) -> str:
    """Push a healthy revision and let its window pass."""
    remote.put("dev", "web", web(tag))
    good = remote.push(f"web {tag}")
    running.logs.wait_for(f"revision={good[:12]} result=Succeeded")
    running.clock.now += WINDOW + 1
    running.logs.wait_for(f"revision={good[:12]} stayed healthy for {WINDOW}s")
    return good


def test_a_deployment_that_cannot_become_healthy_is_rolled_back(
    remote: Remote, start: Callable[[Checkout | None], Running], namespace: str
) -> None:
    with_auto_rollback(remote, namespace, WINDOW)
    running = start(None)
    good = known_good(remote, running, "1.27")

    bad = push_failing(remote, "1.28")
    running.logs.wait_for(f"sync dev revision={bad[:12]} result=Failed")
    line = running.logs.wait_for(f"rollback dev revision={bad[:12]} to={good[:12]}")
    assert f"app web: Job/{namespace}/smoke-test failed" in line
    tip, parent, subject = remote_log(remote)[0]
    assert parent == bad
    assert subject.startswith(f"rollback dev to {good[:7]}")
    body = message(remote, tip)
    why = f"`hakobu agent` rolled back {bad}: after it was synced, app web: Job/{namespace}/"
    assert f"Why: {why}smoke-test failed" in body
    line = running.logs.wait_for(f"revision={tip[:12]} result=Succeeded")
    assert f"reason='automatic rollback of {bad[:12]}'" in line
    assert image(running.kube, namespace, "web") == "nginx:1.27"

    # The rollback stays, and is the new good revision; the failed one is not tried again.
    running.clock.now += WINDOW + 1
    running.logs.wait_for(f"revision={tip[:12]} stayed healthy")
    assert remote_log(remote)[0][0] == tip


def test_an_app_turning_degraded_after_its_sync_is_rolled_back(
    remote: Remote, start: Callable[[Checkout | None], Running], namespace: str
) -> None:
    with_auto_rollback(remote, namespace, WINDOW)
    running = start(None)
    good = known_good(remote, running, "1.27")

    remote.put("dev", "web", web("1.28"))
    remote.put("dev", "web", autoscaler())
    bad = remote.push("web 1.28, autoscaled")
    running.logs.wait_for(f"sync dev revision={bad[:12]} result=Succeeded")
    line = running.logs.wait_for(f"rollback dev revision={bad[:12]} to={good[:12]}")
    assert f"app web: HorizontalPodAutoscaler/{namespace}/web Degraded" in line
    tip = remote_log(remote)[0][0]
    running.logs.wait_for(f"revision={tip[:12]} result=Succeeded applied=1 pruned=1")
    assert image(running.kube, namespace, "web") == "nginx:1.27"


def test_without_auto_rollback_a_failing_revision_stays(
    remote: Remote, start: Callable[[Checkout | None], Running], namespace: str
) -> None:
    with_auto_rollback(remote, namespace, None)
    running = start(None)
    remote.put("dev", "web", web("1.27"))
    remote.push("web 1.27")
    running.logs.wait_for("result=Succeeded")

    bad = push_failing(remote, "1.28")
    running.logs.wait_for(f"sync dev revision={bad[:12]} result=Failed")
    # A later commit shows the agent went on iterating after the failure.
    remote.put("prod", "web", web("1.28"))
    later = remote.push("prod: web 1.28")
    running.logs.wait_for(f"dev in sync at {later[:12]}")
    assert not [line for line in running.logs.seen if "rolling back" in line]
    assert not [line for line in running.logs.seen if line.startswith("rollback")]
    assert [commit for commit, _, _ in remote_log(remote)[:2]] == [later, bad]
    assert image(running.kube, namespace, "web") == "nginx:1.28"


def test_on_start_nothing_is_known_good_so_nothing_is_rolled_back(
    remote: Remote, start: Callable[[Checkout | None], Running], namespace: str
) -> None:
    with_auto_rollback(remote, namespace, WINDOW)
    bad = push_failing(remote, "1.28")
    running = start(None)
    line = running.logs.wait_for(f"not rolling back dev revision={bad[:12]}")
    assert "no revision has stayed healthy since the agent started" in line
    assert any(f"sync dev revision={bad[:12]} result=Failed" in seen for seen in running.logs.seen)
    assert remote_log(remote)[0][0] == bad


def test_a_refused_push_is_not_forced_and_is_made_again_after_fetching(
    remote: Remote, start: Callable[[Checkout | None], Running], namespace: str, tmp_path: Path
) -> None:
    with_auto_rollback(remote, namespace, WINDOW)

    def someone_pushes_to_prod() -> str:
        remote.put("prod", "web", web("1.28"))
        return remote.push("prod: web 1.28")

    checkout = RacingCheckout(remote, tmp_path / "agent", someone_pushes_to_prod)
    running = start(checkout)
    good = known_good(remote, running, "1.27")
    bad = push_failing(remote, "1.28")

    line = running.logs.wait_for(f"rollback of dev revision={bad[:12]} not pushed")
    assert "trying again after the next fetch" in line
    running.logs.wait_for(f"rollback dev revision={bad[:12]} to={good[:12]}")
    (tip, parent, subject), (raced, _, _) = remote_log(remote)[:2]
    assert raced == checkout.raced
    assert parent == raced
    assert subject.startswith(f"rollback dev to {good[:7]}")
    running.logs.wait_for(f"revision={tip[:12]} result=Succeeded")
    assert image(running.kube, namespace, "web") == "nginx:1.27"


def test_a_commit_pushed_during_the_rollback_wins(
    remote: Remote, start: Callable[[Checkout | None], Running], namespace: str, tmp_path: Path
) -> None:
    with_auto_rollback(remote, namespace, WINDOW)

    def someone_fixes_dev() -> str:
        remote.put("dev", "web", web("1.29"))
        (remote.work / "generated/dev/web/job-smoke-test.yaml").unlink()
        return remote.push("web 1.29 without the smoke test")

    checkout = RacingCheckout(remote, tmp_path / "agent", someone_fixes_dev)
    running = start(checkout)
    known_good(remote, running, "1.27")
    bad = push_failing(remote, "1.28")

    running.logs.wait_for(f"rollback of dev revision={bad[:12]} not pushed")
    assert checkout.raced is not None
    line = running.logs.wait_for(f"rollback of dev revision={bad[:12]} dropped")
    assert f"{checkout.raced[:12]} changed generated/dev/ meanwhile" in line
    running.logs.wait_for(f"revision={checkout.raced[:12]} result=Succeeded")
    assert remote_log(remote)[0][0] == checkout.raced
    assert image(running.kube, namespace, "web") == "nginx:1.29"
