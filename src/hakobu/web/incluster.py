"""The dashboard served by ``hakobu controller``, beside its webhooks and metrics.

Callers sign in with a bearer token the API server accepts (a TokenReview) and every request
is authorized with a SubjectAccessReview on the environment's Delivery (see
``hakobu.web.access``). The session key is the replicas' shared one
(``hakobu.web.sessionkey``), so a cookie one replica signed is good at every other.

Which project it shows: the one the Deliveries follow. With ``choice`` None, every Delivery
must follow one repository (URL, branch and path); otherwise ``choice`` names the Delivery
whose repository is shown. Until there is such a Delivery the pages answer 503 saying why.

Its clone is its own, beside the reconciler's (``<workdir>/dashboard/<digest>``), fetched
with the Delivery's git credentials every ``fetch_interval`` seconds: the reconciler's
clones move whenever a pass fetches, and the dashboard must never read a work tree halfway
through a checkout. Requests and the monitor's reads share that clone; a fetch waits until
none is reading and holds new ones back while it moves the work tree. A rollback or a
promotion made from the dashboard is pushed to the Delivery's remote at once (never forced):
the Delivery follows the remote, and a commit only here would be undone by its next pass.
When a fetch changes ``hakobu.yaml`` the dashboard is built again from it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from hakobu.agent.checkout import Checkout
from hakobu.cluster.api import KubeApi
from hakobu.cluster.client import KubeClient
from hakobu.controller.deliveries import list_deliveries
from hakobu.controller.delivery import Delivery, DeliveryRef, InvalidDelivery, parse
from hakobu.controller.install import MANAGED_BY
from hakobu.controller.reconciler import git_credentials
from hakobu.errors import HakobuError
from hakobu.model.project import PROJECT_FILE, Project, load_project
from hakobu.releases import one_cluster
from hakobu.repo.clone import open_clone, push_branch
from hakobu.repo.repository import releasing
from hakobu.web.access import ClusterAccess
from hakobu.web.monitor import read_environment
from hakobu.web.server import Dashboard, create_app, dashboard
from hakobu.web.sessionkey import shared_key
from hakobu.web.sessions import Signer
from hakobu.web.snapshot import EnvSnapshot

Log = Callable[[str], None]
# How soon a dashboard that could not be built is tried again.
_RETRY = 5.0
# Neither reads the clone: a stream lasts as long as a page is open.
_UNGATED = ("/api/v1/events", "/static/")


class CloneGate:
    """Many readers of the clone at once, or one fetch. Readers always get in while no
    fetch runs (a request's read may nest inside another of its own), so a fetch waits for
    a moment when nobody reads."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._readers = 0
        self._writing = False

    def enter(self) -> None:
        with self._changed:
            while self._writing:
                self._changed.wait()
            self._readers += 1

    def leave(self) -> None:
        with self._changed:
            self._readers -= 1
            self._changed.notify_all()

    def write(self, change: Callable[[], object]) -> None:
        with self._changed:
            while self._writing or self._readers:
                self._changed.wait()
            self._writing = True
        try:
            change()
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()


@dataclass(frozen=True)
class DashboardSettings:
    # Where the controller's clones live; the dashboard's goes under dashboard/.
    workdir: Path
    # The controller's namespace: its Leases, and the Secret with the session key.
    namespace: str
    # The Delivery whose repository is shown; None: the one all Deliveries follow.
    choice: DeliveryRef | None = None
    # Only the Deliveries of this namespace (the controller's --namespace); None: all.
    deliveries_namespace: str | None = None
    interval: float = 1.0
    fetch_interval: float = 10.0
    # With no page open and no request for this long, the dashboard stops reading the
    # cluster (every environment, every interval) until the next request builds it again.
    idle: float = 300.0


class _Built:
    """One project's dashboard over its clone, and the thread that fetches it."""

    def __init__(
        self,
        kube: KubeClient,
        delivery: Delivery,
        settings: DashboardSettings,
        key: bytes,
        *,
        log: Log,
        idle: Callable[[], bool],
    ) -> None:
        self.kube, self.delivery, self.settings, self._log = kube, delivery, settings, log
        self._idle = idle
        self.gate = CloneGate()
        digest = hashlib.sha256(f"{delivery.url}\0{delivery.branch}".encode()).hexdigest()[:16]
        self.checkout = Checkout(
            delivery.url,
            delivery.branch,
            settings.workdir / "dashboard" / digest,
            git_credentials(kube, delivery),
        )
        self.gate.write(self.checkout.fetch)
        self.root = self.checkout.directory / delivery.path
        self.project_text = _project_text(self.root)
        project: Project = load_project(self.root)
        self.board: Dashboard = dashboard(
            project,
            kube,
            ClusterAccess(kube),
            signer=Signer(key),
            interval=settings.interval,
            shard_namespace=settings.namespace,
            connect=one_cluster(lambda: KubeClient(kube.connection)),
            publish=self._publish,
            read=self._read,
        )
        self.app: ASGIApp = create_app(self.board)
        # Set, with why, when this dashboard has ended and the next request builds anew.
        self.stale = threading.Event()
        self.why = ""
        self._stop = threading.Event()
        self._fetcher = threading.Thread(target=self._follow, name="hakobu-web-fetch", daemon=True)

    def start(self) -> None:
        self.board.monitor.start()
        self._fetcher.start()

    def stop(self) -> None:
        self._stop.set()
        self.board.monitor.stop()
        if self._fetcher.is_alive():
            self._fetcher.join(timeout=30)

    def _read(self, kube: KubeApi, project: Project, env: str) -> EnvSnapshot:
        self.gate.enter()
        try:
            return read_environment(kube, project, env)
        finally:
            self.gate.leave()

    def _follow(self) -> None:
        while not self._stop.wait(self.settings.fetch_interval):
            if self._idle():
                self.board.monitor.stop()
                idle = self.settings.idle
                self._end(f"no page open for {idle:g}s: the dashboard stops reading the cluster")
                return
            try:
                # Read each time: a rotated token is used at once.
                self.checkout.credentials = git_credentials(self.kube, self.delivery)
                self.gate.write(self.checkout.fetch)
            except HakobuError as e:
                self._log(f"fetching {self.delivery.url} failed, showing what was fetched: {e}")
                continue
            if not self.checkout.unchanged and _project_text(self.root) != self.project_text:
                self._end(f"{PROJECT_FILE} changed: the next request builds the dashboard again")
                return
            if not self.checkout.unchanged:
                self.board.monitor.poke()

    def _end(self, why: str) -> None:
        self.why = why
        self.stale.set()
        # Open pages reconnect, and their request builds the dashboard again.
        self.board.broadcast.close()

    def _publish(self, commit: str, branch: str | None) -> None:
        credentials = git_credentials(self.kube, self.delivery)
        target = branch or self.delivery.branch
        with releasing(open_clone(self.checkout.directory, self.checkout.url)) as repo:
            push_branch(repo, self.checkout.url, target, commit, credentials)


class ControllerDashboard:
    """The dashboard's ASGI application within the controller's server, built once the
    Delivery whose repository it shows is found."""

    def __init__(
        self, kube: KubeClient, settings: DashboardSettings, *, key: bytes, log: Log
    ) -> None:
        self._kube, self._settings, self._key, self._log = kube, settings, key, log
        self._lock = threading.Lock()
        self._built: _Built | None = None
        self._problem = ""
        self._tried = -_RETRY
        self._used = time.monotonic()
        # Requests in progress, open event streams (pages) among them.
        self._looking = 0

    @property
    def route(self) -> Mount:
        """Every path the controller's own routes leave, to the dashboard."""
        return Mount("", app=self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Counted as looking from the request's start to its end (a stream: while open).
        self._looking += 1
        try:
            await self._serve(scope, receive, send)
        finally:
            self._looking -= 1
            self._used = time.monotonic()

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        built = await run_in_threadpool(self._current)
        if built is None:
            await _unavailable(scope)(scope, receive, send)
            return
        # Links are built by the dashboard's own routes, not the controller's.
        scope = {key: value for key, value in scope.items() if key != "router"}
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(_UNGATED):
            await built.app(scope, receive, send)
            return
        await run_in_threadpool(built.gate.enter)
        try:
            await built.app(scope, receive, send)
        finally:
            built.gate.leave()

    def close(self) -> None:
        with self._lock:
            if self._built is not None:
                self._built.stop()
                self._built = None

    def _current(self) -> _Built | None:
        with self._lock:
            if self._built is not None and self._built.stale.is_set():
                self._log(self._built.why)
                self._built.stop()
                self._built = None
                self._tried = -_RETRY
            if self._built is not None or time.monotonic() - self._tried < _RETRY:
                return self._built
            self._tried = time.monotonic()
            try:
                delivery = self._chosen()
                if isinstance(delivery, str):
                    self._tell(delivery)
                    return None
                built = _Built(
                    self._kube, delivery, self._settings, self._key, log=self._log, idle=self._idle
                )
            except HakobuError as e:
                self._tell(f"the dashboard cannot read its project: {e}")
                return None
            built.start()
            self._built = built
            self._log(
                f"dashboard of {delivery.url} ({delivery.branch}, {delivery.path}) "
                f"as Delivery {delivery.ref} follows it"
            )
            return built

    def _idle(self) -> bool:
        return self._looking == 0 and time.monotonic() - self._used > self._settings.idle

    def _tell(self, problem: str) -> None:
        """Log why there is no dashboard, once per reason: callers see only that there is
        none, since the reason names repositories and who has not signed in may not know
        them."""
        if problem != self._problem:
            self._problem = problem
            self._log(f"no dashboard: {problem}")

    def _chosen(self) -> Delivery | str:
        found = []
        for obj in list_deliveries(self._kube, self._settings.deliveries_namespace):
            try:
                found.append(parse(obj))
            except InvalidDelivery:
                continue
        return chosen(found, self._settings.choice)


def chosen(found: list[Delivery], choice: DeliveryRef | None) -> Delivery | str:
    """The Delivery whose repository is shown, or why there is none: the one ``choice``
    names, else the first of those that all follow one repository (URL, branch, path)."""
    if choice is not None:
        named = [d for d in found if d.ref == choice]
        if not named:
            return f"Delivery {choice}, named by --dashboard, does not exist (yet)"
        return named[0]
    sources = sorted({(d.url, d.branch, d.path) for d in found})
    if not sources:
        return "no Delivery exists yet: the dashboard shows the repository Deliveries follow"
    if len(sources) > 1:
        listed = ", ".join(f"{url} ({branch}, {path})" for url, branch, path in sources)
        return (
            f"the Deliveries follow {len(sources)} repositories ({listed}): choose the "
            "one to show with `hakobu controller --dashboard NAMESPACE/NAME`"
        )
    return min(found, key=lambda d: (d.ref.namespace, d.ref.name))


def controller_dashboard(
    kube: KubeClient, settings: DashboardSettings, log: Log
) -> ControllerDashboard:
    """The controller's dashboard, with the session key all replicas share (made in the
    controller's namespace if it is not there yet)."""
    key = shared_key(kube, settings.namespace, labels=dict(MANAGED_BY))
    return ControllerDashboard(kube, settings, key=key, log=log)


def _project_text(root: Path) -> bytes | None:
    try:
        return (root / PROJECT_FILE).read_bytes()
    except OSError:
        return None


def _unavailable(scope: Scope) -> Response:
    problem = "not available yet; the controller's log says why"
    if str(scope.get("path", "")).startswith("/api/"):
        return JSONResponse({"error": "unavailable", "message": problem}, status_code=503)
    return PlainTextResponse(f"hakobu dashboard: {problem}\n", status_code=503)
