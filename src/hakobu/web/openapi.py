"""The OpenAPI 3.1 document of the API, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_ENV = {"name": "env", "in": "path", "required": True, "schema": {"type": "string"}}
_APP = {"name": "app", "in": "path", "required": True, "schema": {"type": "string"}}
_ACTION = {
    "name": "action",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": ["promote", "abort", "retry"]},
}
_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "field": {"type": "string", "description": "the request field at fault"},
        "permission": {"type": "string", "description": "the permission a 403 lacks"},
        "changes": {
            "type": "array",
            "items": {"type": "string"},
            "description": "what changed since the preview (409)",
        },
    },
}
_PROBLEMS = {
    code: {
        "description": text,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for code, text in {
        "400": "a malformed request; `field` names what is wrong",
        "401": "no valid session or bearer token",
        "403": "not permitted; `permission` names what is missing",
        "404": "no such environment, app or object",
    }.items()
}
# A manual sync inside a closed sync window is refused (409, window-closed) without it.
_OVERRIDE: dict[str, Any] = {
    "type": "string",
    "description": "sync even though a sync window closes the environment: the reason, "
    "kept in the sync record with the user's name",
}
_SYNC_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "app": {"type": "string", "description": "only this app"},
        "prune": {"type": "boolean", "description": "delete what git no longer holds"},
        "force_conflicts": {
            "type": "boolean",
            "description": "take over fields another field manager changed",
        },
        "override_window": _OVERRIDE,
    },
}

_ROLLBACK_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["to"],
    "properties": {
        "to": {"type": "string", "description": "the revision whose content comes back"},
        "app": {"type": "string", "description": "only this app"},
        "override_window": _OVERRIDE,
    },
}

_PROMOTE_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "app": {"type": "string", "description": "only this app"},
        "override_window": _OVERRIDE,
    },
}
_PAIR = [
    {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
    for n in ("source", "target")
]


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    content = {"application/json": {"schema": schema or {"type": "object"}}}
    return {"description": description, "content": content}


def _op(
    summary: str, *, params: Sequence[Any] = (), body: Any = None, **codes: Any
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "parameters": list(params)}
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    op["responses"] = {**{k.lstrip("_"): v for k, v in codes.items()}, **_PROBLEMS}
    return op


def document(version: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hakobu",
            "version": version,
            "description": "Status, diff, history and actions of a hakobu project's "
            "environments. Authenticate with a session cookie (POST /session) or "
            "`Authorization: Bearer <token>`; a cookie session also sends X-CSRF-Token "
            "on every POST.",
        },
        "components": {
            "schemas": {"Error": _ERROR},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "hakobu_session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/api/v1/session": {
                "get": _op(
                    "who is signed in, the CSRF token and what they may do", _200=_ok("the session")
                ),
                "post": _op(
                    "sign in with a bearer token the API server accepts",
                    body={
                        "type": "object",
                        "required": ["token"],
                        "properties": {"token": {"type": "string"}},
                    },
                    _200=_ok("signed in; the session cookie is set"),
                ),
                "delete": _op("sign out", _200=_ok("signed out")),
            },
            "/api/v1/overview": {
                "get": _op(
                    "every environment's apps: sync state, health, images",
                    _200=_ok("one snapshot per environment the caller may view"),
                ),
            },
            "/api/v1/controller": {
                "get": _op(
                    "the Deliveries of the project's environments",
                    _200=_ok("Deliveries with their conditions"),
                ),
            },
            "/api/v1/promotions/{source}/{target}": {
                "post": _op(
                    "apply the promotion a preview showed (FROM Synced and Healthy), then "
                    "sync TO to it",
                    params=_PAIR,
                    body={
                        **_PROMOTE_BODY,
                        "required": ["basis"],
                        "properties": {
                            **_PROMOTE_BODY["properties"],
                            "basis": {"type": "string"},
                        },
                    },
                    _200=_ok("TO runs FROM's release already: nothing to do"),
                    _202=_ok("promoted; the sync is followed on /api/v1/events"),
                    _409={
                        "description": "the promotion changed since the preview, or a "
                        "sync window closes TO (window-closed)",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                ),
                "get": _op(
                    "per app, what FROM runs beside what TO runs; the promoted values of both",
                    params=[
                        {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                        for n in ("source", "target")
                    ],
                    _200=_ok("the comparison"),
                ),
            },
            "/api/v1/promotions/{source}/{target}/preview": {
                "post": _op(
                    "the commit a promotion would make in TO, and its basis",
                    params=_PAIR,
                    body=_PROMOTE_BODY,
                    _200=_ok("the preview"),
                ),
            },
            "/api/v1/events": {
                "get": {
                    "summary": "Server-Sent Events: status, environment, operation, progress",
                    "responses": {
                        "200": {
                            "description": "an event stream",
                            "content": {"text/event-stream": {}},
                        }
                    },
                },
            },
            "/api/v1/environments/{env}/apps/{app}": {
                "get": _op(
                    "an app's object tree, diff and events",
                    params=[_ENV, _APP],
                    _200=_ok("the app"),
                ),
            },
            "/api/v1/environments/{env}/objects": {
                "get": _op(
                    "one live object of the environment's namespace, Secret values masked",
                    params=[
                        _ENV,
                        *(
                            {
                                "name": n,
                                "in": "query",
                                "required": True,
                                "schema": {"type": "string"},
                            }
                            for n in ("apiVersion", "kind", "name")
                        ),
                    ],
                    _200=_ok("the object"),
                ),
            },
            "/api/v1/environments/{env}/history": {
                "get": _op(
                    "commits that changed the environment, with their syncs",
                    params=[
                        _ENV,
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                        },
                    ],
                    _200=_ok("the history"),
                ),
            },
            "/api/v1/environments/{env}/sync/preview": {
                "post": _op(
                    "what a sync would change, and its basis",
                    params=[_ENV],
                    body=_SYNC_BODY,
                    _200=_ok("the preview"),
                ),
            },
            "/api/v1/environments/{env}/sync": {
                "post": _op(
                    "run the sync a preview showed",
                    params=[_ENV],
                    body={
                        **_SYNC_BODY,
                        "required": ["basis"],
                        "properties": {**_SYNC_BODY["properties"], "basis": {"type": "string"}},
                    },
                    _202=_ok("started; follow it on /api/v1/events"),
                    _409={
                        "description": "the environment changed since the preview, or a "
                        "sync window closes it (window-closed)",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                ),
            },
            "/api/v1/environments/{env}/rollback/preview": {
                "post": _op(
                    "the commit a rollback would make: what it restores and undoes, and its basis",
                    params=[_ENV],
                    body=_ROLLBACK_BODY,
                    _200=_ok("the preview"),
                ),
            },
            "/api/v1/environments/{env}/rollback": {
                "post": _op(
                    "make the rollback commit a preview showed, then sync to it",
                    params=[_ENV],
                    body={
                        **_ROLLBACK_BODY,
                        "required": ["to", "basis"],
                        "properties": {
                            **_ROLLBACK_BODY["properties"],
                            "basis": {"type": "string"},
                        },
                    },
                    _202=_ok("committed; the sync is followed on /api/v1/events"),
                    _409={
                        "description": "the branch changed since the preview, or a sync "
                        "window closes the environment (window-closed)",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                ),
            },
            "/api/v1/environments/{env}/suspend": {
                "post": _op(
                    "suspend the environment's Delivery", params=[_ENV], _200=_ok("suspended")
                ),
            },
            "/api/v1/environments/{env}/apps/{app}/rollout/{action}": {
                "post": _op(
                    "promote, abort or retry the app's canary rollout (needs the sync permission)",
                    params=[_ENV, _APP, _ACTION],
                    _200=_ok("recorded; the rollout acts on it at its next step"),
                ),
            },
            "/api/v1/environments/{env}/resume": {
                "post": _op(
                    "resume the environment's Delivery", params=[_ENV], _200=_ok("resumed")
                ),
            },
        },
    }
