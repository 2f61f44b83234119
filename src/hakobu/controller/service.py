"""The controller as one running service: the manager, its shards, its HTTP endpoints and
its webhook receiver wired together, until told to stop."""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.routing import BaseRoute

from hakobu.cluster.client import KubeClient
from hakobu.cluster.lease import RETRY_PERIOD
from hakobu.controller import logs
from hakobu.controller.deliveries import request_reconcile
from hakobu.controller.delivery import Delivery
from hakobu.controller.fleets import FleetController
from hakobu.controller.manager import Controller, ControllerOptions
from hakobu.controller.metrics import Metrics
from hakobu.controller.notify.credentials import kube_secrets
from hakobu.controller.notify.hook import delivery_hook, project_notifications
from hakobu.controller.notify.notifier import Notifier
from hakobu.controller.server import Server, application
from hakobu.controller.sharding import Sharding
from hakobu.controller.webhooks import ClusterSecrets, WebhookReceiver, webhook_routes
from hakobu.images.availability import ImageAvailability
from hakobu.images.registry import RegistryClient
from hakobu.model.notifications import Notifications


@dataclass(frozen=True)
class ServiceSettings:
    # Where this replica's member and shard Leases live (the controller's own namespace).
    lease_namespace: str
    workdir: Path
    host: str = "0.0.0.0"  # noqa: S104 (a Pod's port is reached through its Service)
    port: int = 8080
    workers: int = 4
    shards: int = 32
    # Only the Deliveries of this namespace; None: all.
    namespace: str | None = None
    identity: str | None = None


def serve(
    kube: KubeClient,
    settings: ServiceSettings,
    stop: threading.Event,
    *,
    routes: Sequence[BaseRoute] = (),
) -> None:
    """Run until ``stop`` is set; then give up every shard and stop serving. ``routes``
    (the dashboard's) are served after the controller's own."""
    metrics = Metrics()
    # A client of its own, answering within a retry period and never retried: one request
    # hanging must not hold up a whole pass of renewals (ownership is judged by the clock
    # anyway, so a late answer is never trusted).
    lease_client = KubeClient(kube.connection, timeout=RETRY_PERIOD, connect_timeout=RETRY_PERIOD)
    sharding = Sharding(
        lease_client,
        settings.lease_namespace,
        identity=settings.identity,
        shards=settings.shards,
        log=lambda message: logs.log(message, component="sharding"),
    )
    transitions = [0]

    def count_transitions(_: frozenset[int]) -> None:
        seen = sharding.transitions
        metrics.lease_transitions.inc(max(0, seen - transitions[0]))
        transitions[0] = seen

    sharding.on_change(count_transitions)
    notifier = Notifier(
        kube_secrets(kube), log=lambda message: logs.log(message, component="notify")
    )

    def notifications(delivery: Delivery) -> Notifications:
        root = controller.project_root(delivery.ref)
        project = project_notifications(root) if root is not None else Notifications()
        return delivery.notifications.over(project)

    with RegistryClient() as registry:
        controller = Controller(
            kube,
            ControllerOptions(
                workdir=settings.workdir, workers=settings.workers, namespace=settings.namespace
            ),
            sharding,
            metrics=metrics,
            log=logs.log,
            notify=delivery_hook(
                notifier, notifications, lambda message: logs.log(message, component="notify")
            ),
            availability=ImageAvailability(registry),
        )
        fleets = FleetController(
            kube,
            settings.workdir,
            sharding,
            controller.delivery_object,
            metrics=metrics,
            log=functools.partial(logs.log, component="fleets"),
            namespace=settings.namespace,
        )
        receiver = WebhookReceiver(
            controller.deliveries,
            ClusterSecrets(kube),
            lambda ref: request_reconcile(kube, ref),
            observe=lambda provider, result: metrics.webhook_requests.labels(
                provider, str(result)
            ).inc(),
        )
        app = application(
            metrics.registry,
            alive=controller.alive,
            ready=controller.synced.is_set,
            routes=[*webhook_routes(receiver), *routes],
        )
        server = Server(app, settings.host, settings.port)
        port = server.start()
        logs.log(
            f"serving on {settings.host}:{port}; holding Leases in {settings.lease_namespace} "
            f"as {sharding.identity}",
            component="controller",
        )
        fleet_thread = threading.Thread(
            target=fleets.run, args=(stop, controller.synced), name="fleet controller", daemon=True
        )
        fleet_thread.start()
        try:
            controller.run(stop)
        finally:
            fleet_thread.join(timeout=30)
            server.stop()
            notifier.close()
            lease_client.close()
            logs.log("stopped", component="controller")
