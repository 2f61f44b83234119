"""``hakobu ui``: the dashboard of a clone, served on the loopback as the kubeconfig's user."""

from __future__ import annotations

from hakobu.cluster.client import KubeClient
from hakobu.controller.server import Server
from hakobu.model.project import Project
from hakobu.releases import one_cluster
from hakobu.web.access import local_access
from hakobu.web.server import Dashboard, create_app, dashboard

HOST = "127.0.0.1"


class LocalDashboard:
    """The dashboard, its refreshing thread and its HTTP server, started and stopped together."""

    def __init__(
        self,
        project: Project,
        kube: KubeClient,
        *,
        port: int,
        interval: float,
        shard_namespace: str | None = None,
    ) -> None:
        access = local_access(kube, kube.connection.context_name)
        self.key = access.key
        self.board: Dashboard = dashboard(
            project,
            kube,
            access,
            interval=interval,
            shard_namespace=shard_namespace,
            connect=one_cluster(lambda: KubeClient(kube.connection)),
        )
        self._server = Server(create_app(self.board), HOST, port)
        self.port = 0

    def start(self) -> str:
        """Start serving; the URL that signs the browser in."""
        self.board.monitor.start()
        self.port = self._server.start()
        return f"http://{HOST}:{self.port}/signin#{self.key}"

    def stop(self) -> None:
        self._server.stop()
        self.board.monitor.stop()
