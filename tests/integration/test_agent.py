"""``hakobu agent`` following a bare git remote, against the real control plane."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.agent import Agent, AgentOptions, Checkout
from hakobu.cluster.client import KubeClient
from hakobu.cluster.kubeconfig import load
from hakobu.cluster.retry import Retrying
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.sync import history
from tests.integration.test_sync import configmap, deployment
from tests.unit.agent.test_retry import closed_port

pytestmark = pytest.mark.cluster

INTERVAL = 0.5


class Remote:
    """A bare repository, and a clone of it where commits are made and pushed."""

    def __init__(self, root: Path, namespace: str) -> None:
        self.bare = root / "remote.git"
        self.work = root / "work"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.bare)], check=True)
        self.work.mkdir()
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "ci@example.com")
        self.git("config", "user.name", "CI")
        self.git("remote", "add", "origin", str(self.bare))
        project = {
            "apiVersion": "hakobu.dev/v1alpha1",
            "kind": "Project",
            "name": "shop",
            "environments": {
                "dev": {"namespace": namespace},
                "prod": {"namespace": f"{namespace}-prod"},
            },
        }
        (self.work / "hakobu.yaml").write_text(yaml.safe_dump(project))

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.work), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    def put(self, env: str, app: str, obj: dict[str, Any]) -> None:
        directory = self.work / "generated" / env / app
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        (directory / name).write_text(yaml.safe_dump(obj))

    def push(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        self.git("push", "-q", "origin", "main")
        return self.git("rev-parse", "HEAD")


class Logs:
    """The agent's log lines, waited on one by one."""

    def __init__(self) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.put(line)

    def wait_for(self, *parts: str, seconds: float = 60) -> str:
        """The next line containing every part; lines before it are kept in ``seen``."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no log line with {parts}; saw {self.seen}") from None
            self.seen.append(line)
            if all(part in line for part in parts):
                return line


@pytest.fixture
def remote(tmp_path: Path, namespace: str) -> Remote:
    return Remote(tmp_path, namespace)


@pytest.fixture
def agent(
    remote: Remote, tmp_path: Path, local_cluster: ClusterInfo
) -> Iterator[tuple[Logs, KubeClient]]:
    """An agent for ``dev`` running in a thread; its log and its client."""
    logs = Logs()
    stop = threading.Event()
    with KubeClient(load(Path(local_cluster.kubeconfig)), retry=Retrying(log=logs)) as kube:
        running = Agent(
            Checkout(str(remote.bare), "main", tmp_path / "agent"),
            kube,
            AgentOptions(env="dev", interval=INTERVAL, timeout=60),
            logs,
        )
        thread = threading.Thread(target=running.run, args=(stop,))
        thread.start()
        try:
            yield logs, kube
        finally:
            stop.set()
            thread.join()


def image(kube: KubeClient, namespace: str, name: str) -> str:
    live = kube.get("apps/v1", "Deployment", name, namespace)
    return str(live["spec"]["template"]["spec"]["containers"][0]["image"])


def test_the_agent_syncs_what_is_pushed_for_its_environment_only(
    remote: Remote, agent: tuple[Logs, KubeClient], namespace: str
) -> None:
    logs, kube = agent
    remote.put("dev", "web", deployment("web", "nginx:1.27"))
    remote.put("dev", "web", configmap("web-settings", mode="fast"))
    first = remote.push("web")

    line = logs.wait_for(f"revision={first[:12]} result=")
    assert "result=Succeeded applied=2 pruned=0 unchanged=0" in line
    assert image(kube, namespace, "web") == "nginx:1.27"

    remote.put("dev", "web", deployment("web", "nginx:1.28"))
    second = remote.push("new image")
    line = logs.wait_for(f"revision={second[:12]} result=")
    assert "result=Succeeded applied=1 pruned=0 unchanged=1" in line
    assert "reason='generated files changed'" in line
    assert image(kube, namespace, "web") == "nginx:1.28"

    remote.put("prod", "web", deployment("web", "nginx:1.28"))
    third = remote.push("production only")
    logs.wait_for(f"dev in sync at {third[:12]}")
    assert not any(line.startswith("sync ") and third[:12] in line for line in logs.seen)


def test_the_agent_repairs_drift(
    remote: Remote, agent: tuple[Logs, KubeClient], namespace: str
) -> None:
    logs, kube = agent
    remote.put("dev", "web", deployment("web", "nginx:1.27"))
    remote.push("web")
    logs.wait_for("result=Succeeded")
    # What `kubectl edit` does: an update by another field manager.
    kube.request(
        "PATCH",
        f"/apis/apps/v1/namespaces/{namespace}/deployments/web",
        params={"fieldManager": "kubectl-edit"},
        body={
            "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:hot"}]}}}
        },
        content_type="application/strategic-merge-patch+json",
    )

    line = logs.wait_for("reason='drift in web'")
    assert "result=Succeeded applied=1" in line
    assert image(kube, namespace, "web") == "nginx:1.27"


def test_a_difference_a_sync_does_not_remove_is_reported_once(
    remote: Remote, agent: tuple[Logs, KubeClient], namespace: str
) -> None:
    logs, kube = agent
    remote.put("dev", "web", configmap("web-settings", mode="fast"))
    remote.put("dev", "web", configmap("old-settings", mode="slow"))
    remote.push("web")
    logs.wait_for("result=Succeeded")
    (remote.work / "generated/dev/web/configmap-old-settings.yaml").unlink()
    dropped = remote.push("drop the old settings")

    logs.wait_for(f"sync dev revision={dropped[:12]} result=Succeeded applied=0 pruned=0")
    line = logs.wait_for(f"dev revision={dropped[:12]}: the sync leaves differences from git")
    assert f"web: ConfigMap/{namespace}/old-settings (prune)" in line
    assert "the agent runs without --prune" in line
    record = history(kube, namespace, "shop", "dev")[-1]
    assert record["revision"] == dropped
    assert record["apps"][0]["messages"] == [
        f"differs from git after the sync: ConfigMap/{namespace}/old-settings (prune)"
    ]
    # Iterations go on without syncing for it: a later commit is found settled.
    remote.put("prod", "web", configmap("web-settings", mode="fast"))
    later = remote.push("production only")
    logs.wait_for(f"dev at {later[:12]}: not synced: 1 difference from git that its sync")
    since = logs.seen[logs.seen.index(line) + 1 :]
    assert not [seen for seen in since if seen.startswith("sync ")]
    assert kube.get("v1", "ConfigMap", "old-settings", namespace)

    # Another difference is a reason to sync again.
    kube.delete("v1", "ConfigMap", "web-settings", namespace)
    line = logs.wait_for("sync dev revision=", "result=Succeeded")
    assert "applied=1" in line and "reason='drift in web'" in line


def agent_argv(remote: Remote, info: ClusterInfo, workdir: Path, *extra: str) -> list[str]:
    # The command as the hakobu entry point runs it, registered on its own parser.
    program = (
        "import sys, argparse\n"
        "from hakobu.cli import agent\n"
        "from hakobu.errors import HakobuError\n"
        "parser = argparse.ArgumentParser(prog='hakobu')\n"
        "agent.register(parser.add_subparsers(required=True))\n"
        "args = parser.parse_args(sys.argv[1:])\n"
        "try:\n"
        "    sys.exit(args.handler(args))\n"
        "except HakobuError as e:\n"
        "    print(f'error: {e}', file=sys.stderr)\n"
        "    sys.exit(e.exit_code)\n"
    )
    return [
        sys.executable,
        "-c",
        program,
        "agent",
        "--env",
        "dev",
        "--repo",
        str(remote.bare),
        "--interval",
        str(INTERVAL),
        "--kubeconfig",
        info.kubeconfig,
        "--workdir",
        str(workdir),
        *extra,
    ]


def test_sigterm_stops_the_agent_cleanly(
    remote: Remote, local_cluster: ClusterInfo, tmp_path: Path
) -> None:
    remote.put("dev", "web", configmap("web-settings", mode="fast"))
    remote.push("web")
    process = subprocess.Popen(
        agent_argv(remote, local_cluster, tmp_path / "agent"),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "result=Succeeded" in line:
            break
    process.send_signal(signal.SIGTERM)
    rest = process.stderr.read()
    assert process.wait() == 0
    assert "SIGTERM: stopping after the current iteration" in rest
    assert rest.rstrip().endswith("stopped")
    assert "Traceback" not in rest


def test_an_unreachable_remote_is_logged_not_a_crash(
    remote: Remote, local_cluster: ClusterInfo, tmp_path: Path
) -> None:
    argv = agent_argv(remote, local_cluster, tmp_path / "agent", "--once")
    argv[argv.index("--repo") + 1] = f"http://127.0.0.1:{closed_port()}/shop.git"
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "error: cannot fetch branch 'main'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_local_repository_is_bad_input(
    remote: Remote, local_cluster: ClusterInfo, tmp_path: Path
) -> None:
    argv = agent_argv(remote, local_cluster, tmp_path / "agent", "--once")
    argv[argv.index("--repo") + 1] = str(tmp_path / "nowhere.git")
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert f"the path {tmp_path / 'nowhere.git'} does not exist" in done.stderr
    assert "unsupported URL protocol" not in done.stderr


def test_once_syncs_and_exits(remote: Remote, local_cluster: ClusterInfo, tmp_path: Path) -> None:
    remote.put("dev", "web", configmap("web-settings", mode="fast"))
    rev = remote.push("web")
    argv = agent_argv(remote, local_cluster, tmp_path / "agent", "--once")
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert f"sync dev revision={rev[:12]} result=Succeeded applied=1" in done.stderr
    again = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    assert f"dev in sync at {rev[:12]}" in again.stderr
