"""The dashboard's ASGI application: the JSON API under ``/api/v1`` (described by the
OpenAPI document it serves), the pages that use only that API, and the event stream.

Every request is authenticated (a session cookie, or a bearer token for scripts) and
authorized against the environment's Delivery before anything is read or done; every
action also needs the session's CSRF token in ``X-CSRF-Token`` and, from a browser, an
``Origin`` of this very server. Responses carry a strict Content-Security-Policy: the
pages load only their own scripts and styles, shipped in the package.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from functools import partial
from importlib.resources import files
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hakobu import __version__
from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import NotFound
from hakobu.controller.deliveries import DeliveryNotFound
from hakobu.errors import HakobuError, InvalidInput, OperationFailed
from hakobu.model.project import Project
from hakobu.releases import Connect
from hakobu.sync.windows import WindowClosed
from hakobu.web.access import ACTIONS, Access, Target, Verb
from hakobu.web.actions import Operations, Publish, Stale
from hakobu.web.appview import app_detail, live_manifest
from hakobu.web.controllerview import leases
from hakobu.web.deliveryindex import DeliveryIndex
from hakobu.web.events import Broadcast
from hakobu.web.history import env_history
from hakobu.web.monitor import Monitor, Read, read_environment
from hakobu.web.openapi import document
from hakobu.web.promotionview import promotion
from hakobu.web.sessions import COOKIE, Session, Signer, User, token_expiry

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
_PACKAGE = Path(str(files("hakobu.web")))
_MAX_BODY = 64 * 1024


@dataclass
class Dashboard:
    project: Project
    kube: KubeApi
    access: Access
    signer: Signer
    monitor: Monitor
    broadcast: Broadcast
    operations: Operations
    deliveries: DeliveryIndex
    # Mark cookies Secure: the server is reached over HTTPS (behind TLS in a cluster).
    secure: bool = False
    # Where the controller's replicas keep their Leases; None: not shown.
    shard_namespace: str | None = None


def dashboard(
    project: Project,
    kube: KubeApi,
    access: Access,
    *,
    signer: Signer | None = None,
    interval: float = 0.5,
    secure: bool = False,
    shard_namespace: str | None = None,
    connect: Connect | None = None,
    publish: Publish | None = None,
    read: Read = read_environment,
) -> Dashboard:
    broadcast = Broadcast()
    monitor = Monitor(kube, project, broadcast, interval=interval, read=read)
    deliveries = DeliveryIndex(kube, project)
    operations = Operations(
        kube,
        project,
        broadcast,
        delivery_of=deliveries,
        after=monitor.poke,
        connect=connect,
        publish=publish,
    )
    return Dashboard(
        project,
        kube,
        access,
        signer or Signer(),
        monitor,
        broadcast,
        operations,
        deliveries,
        secure,
        shard_namespace,
    )


class ApiProblem(Exception):
    def __init__(self, status: int, error: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": error, "message": message, **fields}


@dataclass(frozen=True)
class Caller:
    user: User
    # None for a bearer token: no cookie, so no CSRF to check.
    session: Session | None


class _Api:
    def __init__(self, board: Dashboard) -> None:
        self.board = board
        self.templates = Jinja2Templates(directory=str(_PACKAGE / "templates"))
        self.templates.env.autoescape = True

    def target(self, env: str) -> Target:
        namespace = _environment(self.board.project, env).namespace
        ref = self.board.deliveries(env)
        return Target(ref.namespace, ref.name) if ref is not None else Target(namespace)

    def caller(self, request: Request) -> Caller | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            user = self.board.access.authenticate(header[7:].strip())
            return Caller(user, None) if user is not None else None
        cookie = request.cookies.get(COOKIE)
        session = self.board.signer.load(cookie) if cookie else None
        return Caller(session.user, session) if session is not None else None

    def require(self, request: Request, verb: Verb, env: str, action: str = "view") -> Caller:
        who = self.caller(request)
        if who is None:
            raise ApiProblem(401, "unauthorized", "sign in: no valid session or token")
        if request.method not in ("GET", "HEAD"):
            _check_csrf(request, who)
        where = self.target(env)
        if not self.board.access.allowed(who.user, verb, where):
            raise ApiProblem(
                403,
                "forbidden",
                f"{who.user.name} may not {action} {env}: needs {where.describe(verb)}",
                permission=where.describe(verb),
            )
        return who

    def visible(self, who: Caller) -> list[str]:
        return [
            e.name
            for e in self.board.project.environments
            if self.board.access.allowed(who.user, Verb.VIEW, self.target(e.name))
        ]

    # -- pages ---------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        who = await run_in_threadpool(self.caller, request)
        context = {
            "project": self.board.project.name,
            "version": __version__,
            "page": request.scope["route"].name,
            "env": request.path_params.get("env", request.path_params.get("source", "")),
            "target": request.path_params.get("target", ""),
            "app": request.path_params.get("app", ""),
        }
        if who is None:
            return self.templates.TemplateResponse(request, "signin.html", context, status_code=401)
        return self.templates.TemplateResponse(request, "page.html", context)

    async def signin(self, request: Request) -> Response:
        context = {"project": self.board.project.name, "version": __version__}
        return self.templates.TemplateResponse(request, "signin.html", context)

    # -- session -------------------------------------------------------------------------

    async def session_get(self, request: Request) -> Response:
        who = await run_in_threadpool(self.caller, request)
        if who is None:
            raise ApiProblem(401, "unauthorized", "sign in: no valid session or token")

        def permissions() -> dict[str, dict[str, bool]]:
            return {
                env: {
                    action: self.board.access.allowed(who.user, verb, self.target(env))
                    for action, verb in ACTIONS.items()
                }
                for env in self.visible(who)
            }

        return _json(
            {
                "user": who.user.name,
                "groups": list(who.user.groups),
                "csrf": who.session.csrf if who.session else None,
                "signs_in": self.board.access.signs_in,
                "can": await run_in_threadpool(permissions),
            }
        )

    async def session_post(self, request: Request) -> Response:
        _check_origin(request)
        body = await _body(request)
        token = _field(body, "token", str)
        user = await run_in_threadpool(self.board.access.authenticate, token)
        if user is None:
            raise ApiProblem(401, "unauthorized", "the API server does not accept this token")
        session = self.board.signer.new(user, until=token_expiry(token))
        response = _json({"user": user.name})
        response.set_cookie(
            COOKIE,
            self.board.signer.dump(session),
            max_age=max(0, int(session.expires - time.time())),
            httponly=True,
            samesite="strict",
            secure=self.board.secure or _over_https(request),
            path="/",
        )
        return response

    async def session_delete(self, request: Request) -> Response:
        _check_origin(request)
        response = _json({})
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    # -- reading -------------------------------------------------------------------------

    async def overview(self, request: Request) -> Response:
        who = await run_in_threadpool(self.caller, request)
        if who is None:
            raise ApiProblem(401, "unauthorized", "sign in: no valid session or token")
        envs = await run_in_threadpool(self.visible, who)
        snapshots = [await run_in_threadpool(self.board.monitor.snapshot, env) for env in envs]
        return Response(
            orjson.dumps(
                {"project": self.board.project.name, "environments": [s.json() for s in snapshots]}
            ),
            media_type="application/json",
        )

    async def app_page(self, request: Request) -> Response:
        env, app = request.path_params["env"], request.path_params["app"]
        await run_in_threadpool(self.require, request, Verb.VIEW, env)
        snapshot = await run_in_threadpool(self.board.monitor.snapshot, env)
        detail = await run_in_threadpool(app_detail, self.board.kube, snapshot, app)
        return _json(detail)

    async def live_object(self, request: Request) -> Response:
        env = request.path_params["env"]
        await run_in_threadpool(self.require, request, Verb.VIEW, env)
        namespace = _environment(self.board.project, env).namespace
        params = request.query_params
        api_version, kind, name = (params.get(k, "") for k in ("apiVersion", "kind", "name"))
        for field, value in (("apiVersion", api_version), ("kind", kind), ("name", name)):
            if not value:
                raise ApiProblem(
                    400, "invalid", f"query parameter {field} is required", field=field
                )
        obj = await run_in_threadpool(self.board.kube.get, api_version, kind, name, namespace)
        return _json(live_manifest(obj))

    async def history(self, request: Request) -> Response:
        env = request.path_params["env"]
        await run_in_threadpool(self.require, request, Verb.VIEW, env)
        environment = _environment(self.board.project, env)
        limit = _int_param(request, "limit", 50)
        found = await run_in_threadpool(
            env_history, self.board.kube, self.board.project, environment, limit
        )
        return _json(found)

    async def promotion(self, request: Request) -> Response:
        source, target = request.path_params["source"], request.path_params["target"]
        for env in (source, target):
            await run_in_threadpool(self.require, request, Verb.VIEW, env)
        if source == target:
            raise ApiProblem(400, "invalid", "promote FROM and TO must differ", field="target")
        before = await run_in_threadpool(self.board.monitor.snapshot, source)
        after = await run_in_threadpool(self.board.monitor.snapshot, target)
        return _json(promotion(self.board.project, before, after))

    async def promote_preview(self, request: Request) -> Response:
        source, target = request.path_params["source"], request.path_params["target"]
        body = await _body(request)
        await run_in_threadpool(self.require, request, Verb.VIEW, source)
        await run_in_threadpool(self.require, request, Verb.PROMOTE, target, "promote to")
        app = _optional(body, "app", str)
        preview = await run_in_threadpool(
            self.board.operations.preview_promotion, source, target, app
        )
        return _json(preview.json())

    async def promote_run(self, request: Request) -> Response:
        source, target = request.path_params["source"], request.path_params["target"]
        body = await _body(request)
        await run_in_threadpool(self.require, request, Verb.VIEW, source)
        who = await run_in_threadpool(self.require, request, Verb.PROMOTE, target, "promote to")
        app = _optional(body, "app", str)
        basis = _field(body, "basis", str)
        operation = await run_in_threadpool(
            partial(
                self.board.operations.promote,
                who.user,
                source,
                target,
                app=app,
                basis=basis,
                override_window=_optional(body, "override_window", str),
            )
        )
        if operation is None:
            return _json({"operation": None, "message": f"{target} runs it already"})
        return _json({"operation": operation.id}, status=202)

    async def controller(self, request: Request) -> Response:
        who = await run_in_threadpool(self.caller, request)
        if who is None:
            raise ApiProblem(401, "unauthorized", "sign in: no valid session or token")
        envs = set(await run_in_threadpool(self.visible, who))
        await run_in_threadpool(self.board.deliveries, "")
        namespace = self.board.shard_namespace
        found = await run_in_threadpool(leases, self.board.kube, namespace) if namespace else None
        return _json(
            {
                "deliveries": [
                    d for d in self.board.deliveries.summaries if d["environment"] in envs
                ],
                "leases": found,
            }
        )

    # -- actions -------------------------------------------------------------------------

    async def sync_preview(self, request: Request) -> Response:
        env = request.path_params["env"]
        body = await _body(request)
        await run_in_threadpool(self.require, request, Verb.SYNC, env, "sync")
        app = _optional(body, "app", str)
        prune = bool(_optional(body, "prune", bool))
        force = bool(_optional(body, "force_conflicts", bool))
        preview = await run_in_threadpool(
            self.board.operations.preview, env, app, prune=prune, force=force
        )
        return _json(preview.json())

    async def sync_run(self, request: Request) -> Response:
        env = request.path_params["env"]
        body = await _body(request)
        who = await run_in_threadpool(self.require, request, Verb.SYNC, env, "sync")
        app = _optional(body, "app", str)
        prune = bool(_optional(body, "prune", bool))
        force = bool(_optional(body, "force_conflicts", bool))
        basis = _field(body, "basis", str)
        operation = await run_in_threadpool(
            partial(
                self.board.operations.sync,
                who.user,
                env,
                app,
                prune=prune,
                force=force,
                basis=basis,
                override_window=_optional(body, "override_window", str),
            )
        )
        return _json({"operation": operation.id}, status=202)

    async def rollback_preview(self, request: Request) -> Response:
        env = request.path_params["env"]
        body = await _body(request)
        await run_in_threadpool(self.require, request, Verb.ROLLBACK, env, "roll back")
        to = _field(body, "to", str)
        app = _optional(body, "app", str)
        preview = await run_in_threadpool(self.board.operations.preview_rollback, env, to, app)
        return _json(preview.json())

    async def rollback_run(self, request: Request) -> Response:
        env = request.path_params["env"]
        body = await _body(request)
        who = await run_in_threadpool(self.require, request, Verb.ROLLBACK, env, "roll back")
        to = _field(body, "to", str)
        app = _optional(body, "app", str)
        basis = _field(body, "basis", str)
        operation = await run_in_threadpool(
            partial(
                self.board.operations.rollback,
                who.user,
                env,
                to=to,
                app=app,
                basis=basis,
                override_window=_optional(body, "override_window", str),
            )
        )
        return _json({"operation": operation.id}, status=202)

    async def suspension(self, request: Request) -> Response:
        env = request.path_params["env"]
        suspend = request.url.path.endswith("/suspend")
        action = "suspend" if suspend else "resume"
        who = await run_in_threadpool(self.require, request, Verb.SYNC, env, action)
        ref = await run_in_threadpool(
            self.board.operations.suspend, who.user, env, suspended=suspend
        )
        return _json({"delivery": str(ref), "suspend": suspend})

    async def rollout(self, request: Request) -> Response:
        env, app = request.path_params["env"], request.path_params["app"]
        action = request.path_params["action"]
        if action not in _ROLLOUT_ACTIONS:
            raise ApiProblem(
                404, "not-found", f"no rollout action {action!r}: expected promote, abort or retry"
            )
        who = await run_in_threadpool(
            self.require, request, Verb.SYNC, env, f"{action} rollouts in"
        )
        await run_in_threadpool(self.board.operations.rollout, who.user, env, app, action)
        return _json({"app": app, "action": action})

    async def events(self, request: Request) -> Response:
        who = await run_in_threadpool(self.caller, request)
        if who is None:
            raise ApiProblem(401, "unauthorized", "sign in: no valid session or token")
        return StreamingResponse(
            self.board.broadcast.stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def openapi(self, request: Request) -> Response:
        return _json(document(__version__))


def create_app(board: Dashboard) -> Starlette:
    api = _Api(board)
    routes = [
        Route("/", api.page, name="overview"),
        Route("/env/{env}/app/{app}", api.page, name="app"),
        Route("/env/{env}/history", api.page, name="history"),
        Route("/env/{env}/sync", api.page, name="sync"),
        Route("/controller", api.page, name="controller"),
        Route("/promote/{source}/{target}", api.page, name="promotion"),
        Route("/signin", api.signin),
        Route("/api/v1/openapi.json", api.openapi),
        Route("/api/v1/session", api.session_get, methods=["GET"]),
        Route("/api/v1/session", api.session_post, methods=["POST"]),
        Route("/api/v1/session", api.session_delete, methods=["DELETE"]),
        Route("/api/v1/overview", api.overview),
        Route("/api/v1/controller", api.controller),
        Route("/api/v1/promotions/{source}/{target}", api.promotion, methods=["GET"]),
        Route(
            "/api/v1/promotions/{source}/{target}/preview", api.promote_preview, methods=["POST"]
        ),
        Route("/api/v1/promotions/{source}/{target}", api.promote_run, methods=["POST"]),
        Route("/api/v1/events", api.events),
        Route("/api/v1/environments/{env}/apps/{app}", api.app_page),
        Route("/api/v1/environments/{env}/objects", api.live_object),
        Route("/api/v1/environments/{env}/history", api.history),
        Route("/api/v1/environments/{env}/sync/preview", api.sync_preview, methods=["POST"]),
        Route("/api/v1/environments/{env}/sync", api.sync_run, methods=["POST"]),
        Route(
            "/api/v1/environments/{env}/rollback/preview", api.rollback_preview, methods=["POST"]
        ),
        Route("/api/v1/environments/{env}/rollback", api.rollback_run, methods=["POST"]),
        Route("/api/v1/environments/{env}/suspend", api.suspension, methods=["POST"]),
        Route(
            "/api/v1/environments/{env}/apps/{app}/rollout/{action}",
            api.rollout,
            methods=["POST"],
        ),
        Route("/api/v1/environments/{env}/resume", api.suspension, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(_PACKAGE / "static")), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={
            ApiProblem: _error,
            Stale: _error,
            NotFound: _error,
            InvalidInput: _error,
            OperationFailed: _error,
        },
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def _check_origin(request: Request) -> None:
    """A browser names the page a request comes from; only this server's own may act."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin != own:
        raise ApiProblem(403, "forbidden", f"requests from {origin} are not accepted")


def _over_https(request: Request) -> bool:
    """Whether the browser reached this server over HTTPS, here or at a proxy in front
    (an Ingress terminating TLS says so in X-Forwarded-Proto). A client can use the header
    only to make its own cookie Secure, never to take that away."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


# What a person may ask of a canary rollout, as `hakobu rollout` does.
_ROLLOUT_ACTIONS = ("promote", "abort", "retry")


def _check_csrf(request: Request, who: Caller) -> None:
    _check_origin(request)
    if who.session is None:
        return
    sent = request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(sent.encode(), who.session.csrf.encode()):
        raise ApiProblem(403, "forbidden", "missing or wrong X-CSRF-Token header")


def _environment(project: Project, env: str) -> Any:
    for environment in project.environments:
        if environment.name == env:
            return environment
    raise ApiProblem(404, "not-found", f"no environment named {env!r}", field="env")


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        raise ApiProblem(413, "too-large", f"a request body is at most {_MAX_BODY} bytes")
    if not raw:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise ApiProblem(400, "invalid", f"the body is not JSON: {e}", field="body") from e
    if not isinstance(body, dict):
        raise ApiProblem(400, "invalid", "the body must be a JSON object", field="body")
    return body


def _field(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if value is None:
        raise ApiProblem(400, "invalid", f"field {name} is required", field=name)
    return _optional(body, name, kind)


def _optional(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if value is not None and not isinstance(value, kind):
        raise ApiProblem(400, "invalid", f"field {name} must be a {_TYPES[kind]}", field=name)
    return value


_TYPES = {str: "string", bool: "boolean", int: "integer"}


def _int_param(request: Request, name: str, default: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not text.isdigit() or not 0 < int(text) <= 1000:
        raise ApiProblem(
            400, "invalid", f"query parameter {name} must be an integer 1..1000", field=name
        )
    return int(text)


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


async def _error(request: Request, exc: Exception) -> Response:
    """The JSON a failed request answers with: what went wrong and, for bad input, the
    field."""
    if isinstance(exc, ApiProblem):
        return JSONResponse(exc.body, status_code=exc.status)
    if isinstance(exc, Stale):
        body = {"error": "stale", "message": exc.message, "changes": exc.changes}
        return JSONResponse(body, status_code=409)
    if isinstance(exc, WindowClosed):
        closed = {"error": "window-closed", "message": exc.message, "hint": exc.hint or ""}
        return JSONResponse(closed, status_code=409)
    if isinstance(exc, NotFound | DeliveryNotFound):
        return JSONResponse({"error": "not-found", "message": str(exc)}, status_code=404)
    if isinstance(exc, InvalidInput):
        return JSONResponse({"error": "invalid", "message": str(exc)}, status_code=400)
    message = exc.message if isinstance(exc, HakobuError) else "internal error"
    return JSONResponse({"error": "failed", "message": message}, status_code=502)
