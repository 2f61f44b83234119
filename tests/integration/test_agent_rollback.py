"""``autoRollback``: the agent answers a failing revision with a rollback commit it pushes.

The agent's clock is the test's, so a window passes exactly when the test says so.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml

from hakobu.agent import Agent, AgentOptions, Checkout
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.cluster.kubeconfig import load
from hakobu.cluster.retry import Retrying
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.sync import history
from tests.integration.test_agent import INTERVAL, Logs, Remote, image
from tests.integration.test_sync import configmap, deployment, job

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
    """An agent running in a thread until stopped."""

    def __init__(self, agent: Agent, logs: Logs, kube: KubeClient, clock: Clock) -> None:
        self.logs, self.kube, self.clock = logs, kube, clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=agent.run, args=(self._stop,))
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class Start(Protocol):
    def __call__(
        self, checkout: Checkout | None, *, prune: bool = True, retry_limit: int = 5
    ) -> Running: ...


@pytest.fixture
def start(remote: Remote, tmp_path: Path, local_cluster: ClusterInfo) -> Iterator[Start]:
    """Start an agent for ``dev`` (with prune, unless told otherwise)."""
    started: list[Running] = []
    with KubeClient(load(Path(local_cluster.kubeconfig)), retry=Retrying()) as kube:

        def starting(
            checkout: Checkout | None, *, prune: bool = True, retry_limit: int = 5
        ) -> Running:
            logs, clock = Logs(), Clock()
            agent = Agent(
                checkout or Checkout(str(remote.bare), "main", tmp_path / f"agent{len(started)}"),
                kube,
                AgentOptions(
                    env="dev", interval=INTERVAL, timeout=30, prune=prune, retry_limit=retry_limit
                ),
                logs,
                clock=clock,
            )
            running = Running(agent, logs, kube, clock)
            started.append(running)
            return running

        try:
            yield starting
        finally:
            for running in started:
                running.stop()


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
    remote: Remote, start: Start, namespace: str
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
    remote: Remote, start: Start, namespace: str
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


def test_without_auto_rollback_a_failing_revision_is_retried_then_given_up_aloud(
    remote: Remote, start: Start, namespace: str
) -> None:
    with_auto_rollback(remote, namespace, None)
    running = start(None, retry_limit=1)
    remote.put("dev", "web", web("1.27"))
    remote.push("web 1.27")
    running.logs.wait_for("result=Succeeded")

    bad = push_failing(remote, "1.28")
    at = f"dev revision={bad[:12]}"
    running.logs.wait_for(f"sync {at} started: generated files changed")
    running.logs.wait_for(f"sync {at}: web: waiting for Job/{namespace}/smoke-test")
    running.logs.wait_for(f"sync {at} result=Failed")
    line = running.logs.wait_for(f"retrying sync of {at} (attempt 2 of 2) after: app web: Job/")
    assert "smoke-test failed" in line
    running.logs.wait_for(f"sync {at} started: out of sync: web")
    running.logs.wait_for(f"sync {at} result=Failed")
    line = running.logs.wait_for(f"giving up on {at} after 2 failed syncs, the last: app web:")
    assert "syncing again when git or the cluster changes" in line
    # Later commits are still followed; the given-up revision is not synced again.
    remote.put("prod", "web", web("1.28"))
    later = remote.push("prod: web 1.28")
    running.logs.wait_for(f"dev at {later[:12]}: not synced: gave up on {bad[:12]}")
    gave_up = next(i for i, seen in enumerate(running.logs.seen) if "giving up" in seen)
    assert not [seen for seen in running.logs.seen[gave_up:] if seen.startswith("sync ")]
    assert not [seen for seen in running.logs.seen if "rolling back" in seen]
    assert [commit for commit, _, _ in remote_log(remote)[:2]] == [later, bad]
    assert image(running.kube, namespace, "web") == "nginx:1.28"
    # A new revision is synced at once.
    remote.put("dev", "web", web("1.29"))
    (remote.work / "generated/dev/web/job-smoke-test.yaml").unlink()
    fixed = remote.push("web 1.29 without the smoke test")
    running.logs.wait_for(f"sync dev revision={fixed[:12]} result=Succeeded")


def test_on_start_nothing_is_known_good_so_nothing_is_rolled_back(
    remote: Remote, start: Start, namespace: str
) -> None:
    with_auto_rollback(remote, namespace, WINDOW)
    bad = push_failing(remote, "1.28")
    running = start(None)
    line = running.logs.wait_for(f"not rolling back dev revision={bad[:12]}")
    assert "no revision is known to have stayed healthy through its window" in line
    assert any(f"sync dev revision={bad[:12]} result=Failed" in seen for seen in running.logs.seen)
    assert remote_log(remote)[0][0] == bad


def test_a_refused_push_is_not_forced_and_is_made_again_after_fetching(
    remote: Remote, start: Start, namespace: str, tmp_path: Path
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
    remote: Remote, start: Start, namespace: str, tmp_path: Path
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


def test_without_prune_a_rollback_removes_what_the_failed_revision_added_and_only_that(
    remote: Remote, start: Start, namespace: str
) -> None:
    with_auto_rollback(remote, namespace, WINDOW)
    running = start(None, prune=False)
    remote.put("dev", "web", web("1.26"))
    remote.put("dev", "web", configmap("old-settings", mode="slow"))
    remote.push("web 1.26 with old settings")
    running.logs.wait_for("result=Succeeded")
    # Without --prune the settings git dropped stay; that is reported, once.
    (remote.work / "generated/dev/web/configmap-old-settings.yaml").unlink()
    good = known_good(remote, running, "1.27")
    left = [seen for seen in running.logs.seen if "the sync leaves differences" in seen]
    assert len(left) == 1
    assert f"web: ConfigMap/{namespace}/old-settings (prune)" in left[0]

    remote.put("dev", "web", web("1.28"))
    remote.put("dev", "web", autoscaler())
    bad = remote.push("web 1.28, autoscaled")
    running.logs.wait_for(f"rollback dev revision={bad[:12]} to={good[:12]}")
    tip = remote_log(remote)[0][0]
    line = running.logs.wait_for(f"sync dev revision={tip[:12]} result=Succeeded")
    assert "applied=1 pruned=1" in line
    with pytest.raises(NotFound):
        running.kube.get("autoscaling/v2", "HorizontalPodAutoscaler", "web", namespace)
    assert running.kube.get("v1", "ConfigMap", "old-settings", namespace)
    assert image(running.kube, namespace, "web") == "nginx:1.27"
    record = history(running.kube, namespace, "shop", "dev")[-1]
    assert record["revision"] == tip and record["pruned"] == 1
    assert f"pruned HorizontalPodAutoscaler/{namespace}/web" in " ".join(
        record["apps"][0]["messages"]
    )

    # The rolled-back state is settled: a later commit finds it so, and nothing is synced.
    remote.git("pull", "-q", "--ff-only", "origin", "main")
    remote.put("prod", "web", web("1.28"))
    later = remote.push("prod: web 1.28")
    running.logs.wait_for(f"dev at {later[:12]}: not synced: 1 difference from git")
    since = running.logs.seen[running.logs.seen.index(line) + 1 :]
    assert not [seen for seen in since if seen.startswith("sync ")]


def test_a_restarted_agent_remembers_the_last_good_revision(
    remote: Remote, start: Start, namespace: str
) -> None:
    with_auto_rollback(remote, namespace, WINDOW)
    first = start(None)
    good = known_good(remote, first, "1.27")
    first.stop()

    bad = push_failing(remote, "1.28")
    second = start(None)
    line = second.logs.wait_for(f"dev revision={good[:12]} stayed healthy (sync record")
    assert "automatic rollbacks return to it" in line
    second.logs.wait_for(f"sync dev revision={bad[:12]} result=Failed")
    second.logs.wait_for(f"rollback dev revision={bad[:12]} to={good[:12]}")
    tip = remote_log(remote)[0][0]
    second.logs.wait_for(f"sync dev revision={tip[:12]} result=Succeeded")
    assert image(second.kube, namespace, "web") == "nginx:1.27"
