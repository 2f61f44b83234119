"""Drift seen as it happens: watches on what the Deliveries deploy.

Polling finds a hand edit only at the next interval; a watch finds it within a second. One
watch per kind the held Deliveries deploy, across namespaces, selecting the objects hakobu
labelled; an event is drift when the object was deleted, or when a field manager other
than hakobu's wrote to it (``DriftSeen``; a controller writing ``status`` is no drift).
The event names the Delivery through the object's project and environment labels. Such
an event only asks for a pass: the pass compares with git, and syncs only what differs.

Passes for drift are rate limited per Delivery: the first follows within a second, and each
further one within ``window`` waits twice as long as the one before (up to a minute), so
a fight with another controller over a field does not loop hot. From the third pass in a
window that had to repair something, the Delivery reports the fight, naming the field
manager that changed it.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hakobu.cluster.client import KubeClient, WatchEvent
from hakobu.cluster.errors import ApiError, Forbidden, Unreachable
from hakobu.controller.reflector import reflect
from hakobu.releases.canary.engine import rollout_writes
from hakobu.sync.ownership import ENVIRONMENT_LABEL, FIELD_MANAGER, PROJECT_LABEL

Log = Callable[..., None]
Owner = tuple[str, str]  # (project, environment)


@dataclass(frozen=True)
class Drift:
    owner: Owner
    what: str
    # The field manager whose change it was; None for a deletion.
    manager: str | None


_Entry = tuple[str, str, str]  # (manager, operation, time) of a managedFields entry


class DriftSeen:
    """Tells drift from a watch event by what changed in the object's managed fields since
    the last event of it: a field manager's entry that is new, or newer, is someone's
    write. Entries of status writes and hakobu's own are left out. An entry may carry no
    time (``kubectl scale`` writes through the scale subresource without one), so entries
    are compared as a whole rather than ordered by time."""

    def __init__(self) -> None:
        self._entries: dict[str, frozenset[_Entry]] = {}

    def judge(self, event_type: str, obj: dict[str, Any]) -> Drift | None:
        metadata = obj.get("metadata") or {}
        labels = metadata.get("labels") or {}
        project, env = labels.get(PROJECT_LABEL), labels.get(ENVIRONMENT_LABEL)
        uid = str(metadata.get("uid", ""))
        if event_type == "DELETED":
            self._entries.pop(uid, None)
        if not project or not env:
            return None
        namespace = metadata.get("namespace")
        where = f"{namespace}/" if namespace else ""
        what = f"{obj.get('kind')} {where}{metadata.get('name')}"
        if event_type == "DELETED":
            return Drift((project, env), f"{what} was deleted", None)
        entries = _others(metadata.get("managedFields"))
        previous = self._entries.get(uid)
        self._entries[uid] = entries
        if event_type != "MODIFIED" or metadata.get("deletionTimestamp"):
            return None
        if previous is None:
            # First seen changing: drift when another manager wrote last, or wrote
            # without saying when.
            timed = [e for e in _all(metadata.get("managedFields")) if e[2]]
            newest = max(timed, key=lambda e: e[2]) if timed else None
            untimed = [e for e in entries if not e[2]]
            culprit = untimed[0] if untimed else newest
            if culprit is None or _own(culprit[0]):
                return None
        else:
            changed = sorted(entries - previous)
            if not changed:
                return None
            culprit = changed[0]
        return Drift((project, env), f"{what} was changed by {culprit[0]}", culprit[0])


def _all(fields: Any) -> list[_Entry]:
    return [
        (str(e.get("manager", "")), str(e.get("operation", "")), str(e.get("time", "")))
        for e in fields or []
        if isinstance(e, dict) and e.get("subresource") != "status"
    ]


def _others(fields: Any) -> frozenset[_Entry]:
    return frozenset(e for e in _all(fields) if not _own(e[0]))


def _own(manager: str) -> bool:
    """hakobu's own writes: the sync's, and a canary rollout's as the controller advances it
    (a person's promote, abort or retry has a manager of its own, so it asks for a pass)."""
    return manager == FIELD_MANAGER or rollout_writes(manager)


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
        self._repairs: dict[Any, collections.deque[float]] = {}

    def delay(self, key: Any) -> float:
        """Record a drift of ``key``; how long to wait before the pass that looks at it."""
        return float(min(self._first * 2 ** (self._record(self._seen, key) - 1), self._longest))

    def repaired(self, key: Any) -> None:
        """Record that a pass for drift of ``key`` had to sync."""
        self._record(self._repairs, key)

    def fighting(self, key: Any) -> bool:
        repairs = self._repairs.get(key)
        now = self._clock()
        return repairs is not None and sum(t >= now - self._window for t in repairs) >= (
            self._fight_after
        )

    def forget(self, key: Any) -> None:
        self._seen.pop(key, None)
        self._repairs.pop(key, None)

    def _record(self, times: dict[Any, collections.deque[float]], key: Any) -> int:
        now = self._clock()
        seen = times.setdefault(key, collections.deque())
        while seen and seen[0] < now - self._window:
            seen.popleft()
        seen.append(now)
        return len(seen)


class DriftWatch:
    """Watch threads, one per kind, started as kinds are followed and kept until stopped."""

    def __init__(self, kube: KubeClient, found: Callable[[Drift], None], log: Log) -> None:
        self._kube, self._found, self._log = kube, found, log
        self._kinds: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._seen = DriftSeen()
        self._seen_lock = threading.Lock()

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
        def handle(event: WatchEvent) -> None:
            with self._seen_lock:
                drift = self._seen.judge(event.type, event.object)
            if drift is not None:
                self._found(drift)

        def failed(e: Unreachable | ApiError) -> None:
            if isinstance(e, Forbidden):
                raise e
            self._log(f"watch of {kind} failed: {e}", level="warning")

        try:
            reflect(
                self._stop,
                relist=lambda: self._current_version(api_version, kind),
                watch=lambda version: self._kube.watch(
                    api_version,
                    kind,
                    resource_version=version,
                    label_selector=ENVIRONMENT_LABEL,
                    timeout_seconds=300,
                ),
                handle=handle,
                failed=failed,
            )
        except Forbidden:
            # Installed to deploy into some namespaces only, it may not watch a kind
            # cluster-wide: drift of that kind is then found by each poll instead.
            self._log(
                f"may not watch {kind} in every namespace: its drift is found at each poll instead",
                level="warning",
            )

    def _current_version(self, api_version: str, kind: str) -> str:
        # Only the list's version is wanted: events after it are what changes from now on.
        resource = self._kube.resource(api_version, kind)
        data = self._kube.request(
            "GET",
            resource.collection_path(None),
            params={"limit": "1", "labelSelector": ENVIRONMENT_LABEL},
        )
        return str(data["metadata"].get("resourceVersion", ""))
