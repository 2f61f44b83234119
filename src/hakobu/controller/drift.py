"""Drift seen as it happens: watches on what the Deliveries deploy.

Polling finds a hand edit only at the next interval; a watch finds it within a second. One
watch per kind the held Deliveries deploy, across namespaces, selecting the objects hakobu
labelled; an event is drift when the object was deleted, or when its newest change was made
by a field manager other than hakobu's on the object itself (a controller writing
``status`` is no drift). The event names the Delivery through the object's project and
environment labels.

Repairs are rate limited per Delivery: the first follows within a second, and each further
one within ``window`` waits twice as long as the one before (up to a minute), so a fight
with another controller over a field does not loop hot. From the third in a window the
Delivery reports the fight, naming the other field manager.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import ApiError, Forbidden, Gone, Unreachable
from hakobu.sync.ownership import ENVIRONMENT_LABEL, FIELD_MANAGER, PROJECT_LABEL

Log = Callable[..., None]
Owner = tuple[str, str]  # (project, environment)


@dataclass(frozen=True)
class Drift:
    owner: Owner
    what: str
    # The field manager whose change it was; None for a deletion.
    manager: str | None


def drift_in(event_type: str, obj: dict[str, Any]) -> Drift | None:
    """The drift a watch event shows, if any."""
    metadata = obj.get("metadata") or {}
    labels = metadata.get("labels") or {}
    project, env = labels.get(PROJECT_LABEL), labels.get(ENVIRONMENT_LABEL)
    if not project or not env:
        return None
    namespace = metadata.get("namespace")
    where = f"{namespace}/" if namespace else ""
    what = f"{obj.get('kind')} {where}{metadata.get('name')}"
    if event_type == "DELETED":
        return Drift((project, env), f"{what} was deleted", None)
    if event_type != "MODIFIED" or metadata.get("deletionTimestamp"):
        return None
    entries = [e for e in metadata.get("managedFields") or [] if isinstance(e, dict)]
    if not entries:
        return None
    newest = max(entries, key=lambda e: str(e.get("time", "")))
    manager = str(newest.get("manager", ""))
    if manager == FIELD_MANAGER or newest.get("subresource"):
        return None
    return Drift((project, env), f"{what} was changed by {manager}", manager)


class DriftLimiter:
    def __init__(
        self,
        *,
        first: float = 1.0,
        longest: float = 60.0,
        window: float = 300.0,
        fight_after: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._first, self._longest, self._window = first, longest, window
        self._fight_after, self._clock = fight_after, clock
        self._seen: dict[Any, collections.deque[float]] = {}

    def delay(self, key: Any) -> float:
        """Record a drift of ``key``; how long to wait before repairing it."""
        now = self._clock()
        seen = self._seen.setdefault(key, collections.deque())
        while seen and seen[0] < now - self._window:
            seen.popleft()
        seen.append(now)
        return float(min(self._first * 2 ** (len(seen) - 1), self._longest))

    def fighting(self, key: Any) -> bool:
        seen = self._seen.get(key)
        now = self._clock()
        return seen is not None and sum(t >= now - self._window for t in seen) >= self._fight_after

    def forget(self, key: Any) -> None:
        self._seen.pop(key, None)


class DriftWatch:
    """Watch threads, one per kind, started as kinds are followed and kept until stopped."""

    def __init__(self, kube: KubeClient, found: Callable[[Drift], None], log: Log) -> None:
        self._kube, self._found, self._log = kube, found, log
        self._kinds: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def follow(self, kinds: Iterable[tuple[str, str]]) -> None:
        with self._lock:
            for kind in set(kinds) - self._kinds:
                self._kinds.add(kind)
                threading.Thread(
                    target=self._watch, args=kind, name=f"drift {kind[1]}", daemon=True
                ).start()

    def stop(self) -> None:
        self._stop.set()

    def _watch(self, api_version: str, kind: str) -> None:
        version: str | None = None
        failures = 0
        while not self._stop.is_set():
            try:
                if version is None:
                    version = self._current_version(api_version, kind)
                for event in self._kube.watch(
                    api_version,
                    kind,
                    resource_version=version,
                    label_selector=ENVIRONMENT_LABEL,
                    timeout_seconds=300,
                ):
                    failures = 0
                    metadata = event.object.get("metadata") or {}
                    version = metadata.get("resourceVersion", version)
                    drift = drift_in(event.type, event.object)
                    if drift is not None:
                        self._found(drift)
                    if self._stop.is_set():
                        return
            except Gone:
                version = None  # compacted away: start again from now
            except Forbidden:
                # Installed to deploy into some namespaces only, it may not watch a kind
                # cluster-wide: drift of that kind is then found by each poll instead.
                self._log(
                    f"may not watch {kind} in every namespace: its drift is found at each "
                    "poll instead",
                    level="warning",
                )
                return
            except (Unreachable, ApiError) as e:
                failures += 1
                self._log(f"watch of {kind} failed: {e}", level="warning")
                self._stop.wait(min(30.0, 0.5 * 2**failures))

    def _current_version(self, api_version: str, kind: str) -> str:
        # Only the list's version is wanted: events after it are what changes from now on.
        resource = self._kube.resource(api_version, kind)
        data = self._kube.request(
            "GET",
            resource.collection_path(None),
            params={"limit": "1", "labelSelector": ENVIRONMENT_LABEL},
        )
        return str(data["metadata"].get("resourceVersion", ""))
