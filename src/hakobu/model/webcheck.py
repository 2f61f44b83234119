"""An HTTP check as an analysis measures it (Argo Rollouts' ``web`` metric provider).

::

    analysis:
      web:
        url: http://web-canary.shop/healthz
        method: GET                    # GET, POST or PUT
        headers: [{key: Authorization, value: Bearer …}]
        body: ""                       # POST and PUT only
        timeoutSeconds: 10
        jsonPath: "{$.checks.ok}"      # the value the conditions compare
      successCondition: result[0] == 1 # optional: a 2xx answer passes without one

A 2xx answer passes and any other status fails; with conditions, a 2xx answer is judged by
them on the value ``jsonPath`` selects from the JSON body (a number, a boolean as 1 or 0,
or a list of them). ``jsonPath`` is the subset of Kubernetes' JSONPath a single value
needs: ``$`` followed by ``.field`` and ``[index]`` steps, in braces or not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hakobu.model.schemacheck import SchemaViolation, shown, suggest
from hakobu.model.source import FieldPath

_FIELDS = ("url", "method", "headers", "body", "timeoutSeconds", "jsonPath")
_METHODS = ("GET", "POST", "PUT")
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")

# One step into a JSON document: a field of an object or an index of a list.
PathStep = str | int


@dataclass(frozen=True)
class WebRequest:
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    timeout_seconds: int = 10
    json_path: tuple[PathStep, ...] | None = None
    json_path_text: str = ""


def parse_web(data: Any, path: FieldPath) -> WebRequest:
    """The request declared by ``data`` (the mapping under ``web`` at ``path``)."""
    if not isinstance(data, dict):
        raise SchemaViolation(path, f"expected a mapping, got {shown(data)}")
    for key in data:
        if key not in _FIELDS:
            raise SchemaViolation(
                (*path, key), f"unknown field {shown(key)}", suggest(str(key), [*_FIELDS])
            )
    url = data.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise SchemaViolation(
            (*path, "url"), f"expected an http:// or https:// URL, got {shown(url)}"
        )
    method = data.get("method", "GET")
    if method not in _METHODS:
        raise SchemaViolation(
            (*path, "method"), f"expected one of {', '.join(_METHODS)}, got {shown(method)}"
        )
    body = data.get("body")
    if body is not None and (not isinstance(body, str) or method == "GET"):
        raise SchemaViolation(
            (*path, "body"), "expected a string, with method POST or PUT", "remove body for GET"
        )
    timeout = data.get("timeoutSeconds", 10)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 600:
        raise SchemaViolation(
            (*path, "timeoutSeconds"), f"expected whole seconds from 1 to 600, got {shown(timeout)}"
        )
    text = data.get("jsonPath")
    return WebRequest(
        url=url,
        method=method,
        headers=_headers(data.get("headers", []), (*path, "headers")),
        body=body,
        timeout_seconds=timeout,
        json_path=None if text is None else parse_json_path(text, (*path, "jsonPath")),
        json_path_text=text or "",
    )


def parse_json_path(text: Any, path: FieldPath) -> tuple[PathStep, ...]:
    if not isinstance(text, str):
        raise SchemaViolation(
            path, f"expected a JSONPath such as {{$.status.ok}}, got {shown(text)}"
        )
    inner = text.strip()
    if inner.startswith("{") and inner.endswith("}"):
        inner = inner[1:-1].strip()
    if not inner.startswith("$"):
        raise SchemaViolation(
            path, f"{shown(text)} does not start at $", "write e.g. {$.status.ok}"
        )
    steps: list[PathStep] = []
    position = 1
    while position < len(inner):
        match = _STEP.match(inner, position)
        if match is None:
            raise SchemaViolation(
                path,
                f"{shown(text)}: cannot read {shown(inner[position:])}",
                "use .field and [index] steps only, such as {$.items[0].ready}",
            )
        field, index = match.groups()
        steps.append(field if field is not None else int(index))
        position = match.end()
    return tuple(steps)


def _headers(value: Any, path: FieldPath) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        raise SchemaViolation(path, f"expected a list of {{key, value}}, got {shown(value)}")
    found = []
    for index, header in enumerate(value):
        if (
            not isinstance(header, dict)
            or set(header) != {"key", "value"}
            or not all(isinstance(v, str) for v in header.values())
            or not header["key"]
        ):
            raise SchemaViolation((*path, index), "expected {key: NAME, value: TEXT}, both strings")
        found.append((header["key"], header["value"]))
    return tuple(found)
