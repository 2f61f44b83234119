"""Errors from the Kubernetes API, one class per API status.

::

    OperationFailed (hakobu.errors)
    └── ApiError                      any non-success Status from the API server
        ├── BadRequest                400
        ├── Unauthorized              401
        ├── Forbidden                 403
        ├── NotFound                  404
        ├── Conflict                  409 (also field-manager conflicts of server-side apply)
        │   └── AlreadyExists         409 with reason AlreadyExists
        ├── Gone                      410 (a watch's resourceVersion is too old)
        ├── Invalid                   422
        ├── TooManyRequests           429
        └── ServerError               5xx
    Unreachable                       the API server could not be reached at all (exit 3)

``Unreachable`` ends the command line with its own exit code, 3, so a script can tell "the
cluster could not be reached" from "the cluster answered and something differs or failed"
(1) and from bad input (2).
"""

from __future__ import annotations

from typing import Any

from hakobu.errors import OperationFailed


class ApiError(OperationFailed):
    """A ``Status`` failure returned by the API server."""

    def __init__(self, status_code: int, reason: str, message: str, status: dict[str, Any]):
        super().__init__(message)
        self.status_code = status_code
        self.reason = reason
        self.status = status


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    pass


class Forbidden(ApiError):
    pass


class NotFound(ApiError):
    pass


class Conflict(ApiError):
    pass


class AlreadyExists(Conflict):
    pass


class Gone(ApiError):
    pass


class Invalid(ApiError):
    pass


class TooManyRequests(ApiError):
    pass


class ServerError(ApiError):
    pass


class Unreachable(OperationFailed):
    """No HTTP answer: connection refused, TLS failure, timeout."""

    exit_code = 3


_BY_CODE: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Invalid,
    429: TooManyRequests,
}


def error_for(status_code: int, body: Any) -> ApiError:
    """Build the exception matching an error response's code and ``Status`` body."""
    status: dict[str, Any] = body if isinstance(body, dict) else {}
    reason = str(status.get("reason", ""))
    message = str(status.get("message") or body or f"HTTP {status_code}")
    if status_code == 409 and reason == "AlreadyExists":
        return AlreadyExists(status_code, reason, message, status)
    cls = _BY_CODE.get(status_code, ServerError if status_code >= 500 else ApiError)
    return cls(status_code, reason, message, status)
