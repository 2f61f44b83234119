"""Which Delivery delivers an environment: the one whose ``spec.environment`` names it in
the environment's namespace. Permissions are asked on it, and audit Events are told on it;
read again at most every few seconds."""

from __future__ import annotations

import threading
import time

from hakobu.cluster.api import KubeApi
from hakobu.controller.deliveries import list_deliveries, summary
from hakobu.controller.delivery import RECONCILE_REQUESTED_AT, DeliveryRef
from hakobu.errors import HakobuError
from hakobu.model.project import Project

_FRESH = 5.0


class DeliveryIndex:
    def __init__(self, kube: KubeApi, project: Project) -> None:
        self._kube = kube
        self._project = project
        self._lock = threading.Lock()
        self._read_at = -_FRESH
        self._refs: dict[str, DeliveryRef] = {}
        self.summaries: list[dict[str, object]] = []

    def __call__(self, env: str) -> DeliveryRef | None:
        self._refresh()
        with self._lock:
            return self._refs.get(env)

    def _refresh(self) -> None:
        with self._lock:
            if time.monotonic() - self._read_at < _FRESH:
                return
            self._read_at = time.monotonic()
        namespaces = {env.name: env.namespace for env in self._project.environments}
        refs: dict[str, DeliveryRef] = {}
        summaries: list[dict[str, object]] = []
        found = []
        for namespace in sorted(set(namespaces.values())):
            try:
                found += list_deliveries(self._kube, namespace)
            except HakobuError:
                # Not installed, or not ours to list: the environments have no Delivery.
                continue
        for obj in found:
            s = summary(obj)
            if namespaces.get(s.environment) == s.namespace:
                refs.setdefault(s.environment, DeliveryRef(s.namespace, s.name))
                annotations = (obj.get("metadata") or {}).get("annotations") or {}
                # Set by a push webhook (or `hakobu delivery reconcile`): the last one seen.
                requested = str(annotations.get(RECONCILE_REQUESTED_AT, ""))
                summaries.append({**s.__dict__, "reconcile_requested_at": requested})
        with self._lock:
            self._refs = refs
            self.summaries = summaries
