"""What the controller exposes at ``/metrics``, in Prometheus' text format.

Names follow Prometheus' conventions (``_total`` counters, ``_seconds`` histograms), with
the Delivery as ``namespace/name`` in the ``delivery`` label. A registry of its own, not
prometheus-client's global one, so two controllers in one test process never share counts.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Syncs take from a fraction of a second to the sync timeout (5 minutes by default).
_SYNC_BUCKETS = (0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
_FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.sync_duration = Histogram(
            "hakobu_sync_duration_seconds",
            "How long syncs took, by result.",
            ["delivery", "result"],
            buckets=_SYNC_BUCKETS,
            registry=self.registry,
        )
        self.syncs = Counter(
            "hakobu_syncs", "Syncs by result.", ["delivery", "result"], registry=self.registry
        )
        self.objects_applied = Counter(
            "hakobu_objects_applied",
            "Objects created or changed by syncs.",
            ["delivery"],
            registry=self.registry,
        )
        self.objects_pruned = Counter(
            "hakobu_objects_pruned",
            "Objects deleted by syncs because git no longer holds them.",
            ["delivery"],
            registry=self.registry,
        )
        self.drift_repairs = Counter(
            "hakobu_drift_repairs",
            "Syncs started because an object was changed or deleted in the cluster.",
            ["delivery"],
            registry=self.registry,
        )
        self.webhook_requests = Counter(
            "hakobu_webhook_requests",
            "Push webhooks received, by provider and result.",
            ["provider", "result"],
            registry=self.registry,
        )
        self.lease_transitions = Counter(
            "hakobu_lease_transitions",
            "Shard Leases this replica took or gave up.",
            registry=self.registry,
        )
        self.git_fetch_duration = Histogram(
            "hakobu_git_fetch_duration_seconds",
            "How long fetching a Delivery's branch took.",
            ["delivery"],
            buckets=_FETCH_BUCKETS,
            registry=self.registry,
        )
        self.health = Gauge(
            "hakobu_delivery_health",
            "1 for the health each Delivery is in (Healthy, Progressing, Degraded, ...).",
            ["delivery", "environment", "health"],
            registry=self.registry,
        )
        self.held_deliveries = Gauge(
            "hakobu_held_deliveries",
            "Deliveries whose shard this replica holds.",
            registry=self.registry,
        )
        self.fleet_instance_writes = Counter(
            "hakobu_fleet_instance_writes",
            "FleetInstance changes written to git (or not), by Written reason.",
            ["delivery", "reason"],
            registry=self.registry,
        )
        self.fleet_commits = Counter(
            "hakobu_fleet_commits",
            "Commits of FleetInstance changes pushed, one per batch.",
            ["delivery"],
            registry=self.registry,
        )
        self.fleet_push_retries = Counter(
            "hakobu_fleet_push_retries",
            "Pushes of FleetInstance changes refused because the branch had moved.",
            ["delivery"],
            registry=self.registry,
        )

        self._health_series: dict[str, tuple[str, str]] = {}

    def set_health(self, delivery: str, environment: str, health: str) -> None:
        """One series a Delivery: its previous one goes, so a sum by health counts each once."""
        previous = self._health_series.get(delivery)
        if previous != (environment, health):
            self.forget(delivery)
            self._health_series[delivery] = (environment, health)
        self.health.labels(delivery, environment, health).set(1)

    def forget(self, delivery: str) -> None:
        previous = self._health_series.pop(delivery, None)
        if previous is not None:
            self.health.remove(delivery, *previous)
