"""The agent's automatic syncs wait while a sync window closes the environment."""

from __future__ import annotations

import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import yaml

from hakobu.agent import Agent, AgentOptions, Checkout
from tests.fakes.kube import FakeKube

WINDOWS = [{"kind": "deny", "schedule": "0 22 * * *", "duration": "1h"}]


def remote(root: Path) -> str:
    """A bare repository whose one commit declares a ConfigMap for ``dev``."""
    bare, work = root / "remote.git", root / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    project = {
        "apiVersion": "hakobu.dev/v1alpha1",
        "kind": "Project",
        "name": "shop",
        "environments": {"dev": {"namespace": "shop-dev", "syncWindows": WINDOWS}},
    }
    (work / "generated" / "dev" / "web").mkdir(parents=True)
    (work / "hakobu.yaml").write_text(yaml.safe_dump(project))
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop-dev"},
        "data": {"colour": "blue"},
    }
    (work / "generated" / "dev" / "web" / "configmap-settings.yaml").write_text(
        yaml.safe_dump(config)
    )
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["-c", "user.name=CI", "-c", "user.email=ci@example.com", "commit", "-q", "-m", "web"],
        ["push", "-q", str(bare), "main"],
    ):
        subprocess.run(["git", "-C", str(work), *args], check=True, capture_output=True)
    return str(bare)


class Clock:
    def __init__(self, at: str) -> None:
        self.at = datetime.fromisoformat(at).replace(tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


class OnePass(threading.Event):
    """A stop event that ends the loop after its first wait, remembering how long."""

    waited: float | None = None

    def wait(self, timeout: float | None = None) -> bool:
        self.waited = timeout
        self.set()
        return True


def test_an_automatic_sync_waits_for_the_window_and_runs_as_it_opens(tmp_path: Path) -> None:
    kube, logs = FakeKube(), list[str]()
    clock = Clock("2026-12-03 22:10")
    agent = Agent(
        Checkout(remote(tmp_path), "main", tmp_path / "clone"),
        kube,
        AgentOptions(env="dev", interval=3600),
        logs.append,
        now=clock,
    )

    held = agent.iterate()
    assert held.result is None and held.ok
    assert held.held is not None and held.held.reopens == datetime(2026, 12, 3, 23, tzinfo=UTC)
    assert kube.stored("ConfigMap", "settings", "shop-dev") is None
    waits = [line for line in logs if "waits:" in line]
    assert waits == [
        f"dev revision={held.revision[:12]} waits: deny window syncWindows[0] ('0 22 * * *' for "
        "1h) is open from 2026-12-03 22:00 UTC to 2026-12-03 23:00 UTC; syncs run again at "
        "2026-12-03 23:00 UTC"
    ]

    # Passes inside the window hold again, without saying so again.
    clock.at = clock.at.replace(minute=40)
    assert agent.iterate().held is not None
    assert len([line for line in logs if "waits:" in line]) == 1

    # The loop wakes as the window opens (20 minutes on), not an interval later.
    stop = OnePass()
    agent.run(stop)
    assert stop.waited == 1200

    clock.at = clock.at.replace(hour=23, minute=0)
    synced = agent.iterate()
    assert synced.held is None
    assert synced.result is not None and synced.result.succeeded
    assert kube.stored("ConfigMap", "settings", "shop-dev") is not None
