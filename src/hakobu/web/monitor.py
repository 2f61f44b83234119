"""Every environment's snapshot, kept current by a thread that re-reads each one.

Pages and the API read the newest snapshot from memory; each change of an app's cell (its
sync state, health or version) is published as a ``status`` event the moment a re-read
finds it, so an open page follows the cluster within one interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from hakobu.cluster.api import KubeApi
from hakobu.model.project import Project
from hakobu.web.events import Broadcast
from hakobu.web.snapshot import EnvSnapshot, read_snapshot

Read = Callable[[KubeApi, Project, str], EnvSnapshot]


def read_environment(kube: KubeApi, project: Project, env: str) -> EnvSnapshot:
    return read_snapshot(kube, project, project.environment(env))


class Monitor:
    def __init__(
        self,
        kube: KubeApi,
        project: Project,
        broadcast: Broadcast,
        *,
        interval: float = 0.5,
        read: Read = read_environment,
    ) -> None:
        self._kube = kube
        self.project = project
        self._broadcast = broadcast
        self._interval = interval
        self._read = read
        self._lock = threading.Lock()
        self._snapshots: dict[str, EnvSnapshot] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def snapshot(self, env: str) -> EnvSnapshot:
        with self._lock:
            found = self._snapshots.get(env)
        return found if found is not None else self.refresh(env)

    def snapshots(self) -> list[EnvSnapshot]:
        return [self.snapshot(env.name) for env in self.project.environments]

    def refresh(self, env: str) -> EnvSnapshot:
        """Re-read ``env`` now; publish what changed."""
        new = self._read(self._kube, self.project, env)
        with self._lock:
            old = self._snapshots.get(env)
            self._snapshots[env] = new
        self._publish(old, new)
        return new

    def poke(self) -> None:
        """Re-read every environment without waiting for the interval (after an action)."""
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hakobu-web-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            for env in self.project.environments:
                if self._stop.is_set():
                    return
                self.refresh(env.name)
            self._wake.wait(max(0.0, self._interval - (time.monotonic() - started)))
            self._wake.clear()

    def _publish(self, old: EnvSnapshot | None, new: EnvSnapshot) -> None:
        if old is None:
            return
        if (old.revision, old.synced_revision, old.error) != (
            new.revision,
            new.synced_revision,
            new.error,
        ):
            self._broadcast.publish("environment", _env_fields(new))
        for app in sorted(old.apps.keys() | new.apps.keys()):
            before, after = old.apps.get(app), new.apps.get(app)
            if before != after:
                self._broadcast.publish(
                    "status",
                    {"env": new.env, "app": app, "cell": after.json() if after else None},
                )


def _env_fields(snapshot: EnvSnapshot) -> dict[str, object]:
    return {
        "env": snapshot.env,
        "revision": snapshot.revision,
        "synced_revision": snapshot.synced_revision,
        "error": snapshot.error,
    }
