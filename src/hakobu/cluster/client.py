"""A small Kubernetes API client over HTTP: discovery, get/list/create/apply/delete, watch.

It speaks JSON to the API server directly rather than through a generated client: hakobu
handles objects as plain data (``Object``), and needs only a handful of verbs done well.
Every request is counted per verb so benchmarks can report how many writes a sync made;
requests made on a caller's own account (a Lease's) are counted apart under the caller's
name, so "a no-op sync writes nothing to the environment" stays visible.

Connecting (TCP and TLS) is bounded by ``connect_timeout``, a few seconds, so an address
where nothing answers fails fast; waiting for an answer once connected is bounded by
``timeout``, by default 30 s, which leaves room for admission webhooks (the API server
allows them up to 30 s).
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import orjson

from hakobu import __version__
from hakobu.cluster import kubeconfig
from hakobu.cluster.discovery import AGGREGATED_DISCOVERY_ACCEPT, ApiResource, parse_aggregated
from hakobu.cluster.errors import NotFound, Unreachable, error_for
from hakobu.model.objects import Object

PropagationPolicy = Literal["Foreground", "Background", "Orphan"]

# How a request is retried is the caller's policy: ``retry(send, "GET /api")`` calls
# ``send`` (one attempt) as often as it decides, and returns its result or raises.
Retry = Callable[[Callable[[], Any], str], Any]


@dataclass(frozen=True)
class WatchEvent:
    type: Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]
    object: Object


@dataclass(frozen=True)
class ObjectList:
    items: list[Object]
    resource_version: str


CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0


class KubeClient:
    """A thread-safe client for one API server and one user."""

    def __init__(
        self,
        connection: kubeconfig.Connection,
        *,
        timeout: float = READ_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
        retry: Retry | None = None,
    ) -> None:
        self.connection = connection
        self._retry = retry
        headers = {"User-Agent": f"hakobu/{__version__}", "Accept": "application/json"}
        if connection.token and connection.token_file is None:
            headers["Authorization"] = f"Bearer {connection.token}"
        self._http = httpx.Client(
            base_url=connection.server,
            verify=connection.ssl_context,
            headers=[*headers.items(), *connection.headers],
            auth=TokenFile(connection.token_file) if connection.token_file else connection.auth,
            proxy=connection.proxy,
            timeout=httpx.Timeout(timeout, connect=min(timeout, connect_timeout)),
        )
        self._resources: dict[tuple[str, str], ApiResource] | None = None
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        # What the server warned of when a resource was read, by (group, version, plural):
        # deprecated API versions. A read validates no object, so these are the resource's.
        self._read_warnings: dict[tuple[str, str, str], dict[str, None]] = {}

    @classmethod
    def from_kubeconfig(
        cls,
        path: Path | Sequence[Path] | None = None,
        context: str | None = None,
        *,
        retry: Retry | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> KubeClient:
        return cls(kubeconfig.load(path, context), retry=retry, connect_timeout=connect_timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- raw requests ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        accept: str | None = None,
        retried: bool = True,
        counted_as: str | None = None,
    ) -> Any:
        """Send one request; return the decoded JSON body or raise the matching ApiError.

        ``retried=False`` sends it once, whatever the client's retry policy: for callers
        that keep their own time (a Lease renewed on a schedule). ``counted_as`` counts it
        under that name instead of its verb."""
        headers = {"Content-Type": content_type} if body is not None else {}
        if accept:
            headers["Accept"] = accept
        content = json.dumps(body).encode() if body is not None else None

        def send() -> Any:
            with self._lock:
                self.requests[counted_as or method] += 1
            try:
                response = self._http.request(
                    method, path, params=params, content=content, headers=headers
                )
                if method == "GET" and "warning" in response.headers:
                    self._remember_warnings(path, response.headers.get_list("warning"))
            except httpx.TransportError as e:
                raise Unreachable(
                    f"cannot reach the API server at {self.connection.server}: {e}",
                    hint="is the cluster running? `hakobu cluster status` tells for the local one",
                ) from e
            return _decode(response)

        if self._retry is None or not retried:
            return send()
        return self._retry(send, f"{method} {path}")

    def _remember_warnings(self, path: str, values: list[str]) -> None:
        key = resource_key(path)
        if key is None:
            return
        with self._lock:
            seen = self._read_warnings.setdefault(key, {})
            for value in values:
                seen[warning_text(value)] = None

    def api_warnings(self, api_version: str, kind: str) -> tuple[str, ...]:
        """What the server said when ``kind`` was last read in ``api_version`` (its
        deprecation: "… is deprecated in v1.X+, unavailable in v1.Y+; use …"); empty if it
        said nothing, or it was not read."""
        resource = self.resource(api_version, kind)
        with self._lock:
            seen = self._read_warnings.get((resource.group, resource.version, resource.plural))
            return tuple(seen) if seen else ()

    # -- discovery ------------------------------------------------------------------------

    def resource(self, api_version: str, kind: str) -> ApiResource:
        """The REST resource serving ``kind``; rediscovers once in case a CRD was just added."""
        resources = self._resources
        if resources is None or (api_version, kind) not in resources:
            resources = self.refresh_discovery()
        found = resources.get((api_version, kind))
        if found is None:
            raise NotFound(
                404,
                "NotFound",
                f"the server has no resource for kind {kind} in {api_version} "
                "(is its CustomResourceDefinition installed and Established?)",
                {},
            )
        return found

    def refresh_discovery(self) -> dict[tuple[str, str], ApiResource]:
        index: dict[tuple[str, str], ApiResource] = {}
        for root in ("/api", "/apis"):
            index.update(
                parse_aggregated(self.request("GET", root, accept=AGGREGATED_DISCOVERY_ACCEPT))
            )
        self._resources = index
        return index

    # -- verbs ----------------------------------------------------------------------------

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Object:
        resource = self.resource(api_version, kind)
        result: Object = self.request("GET", resource.object_path(name, namespace))
        return result

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        not_older_than: str | None = None,
    ) -> ObjectList:
        """``not_older_than`` (a resourceVersion from an earlier answer) lets the server
        answer from its watch cache, many times faster than a quorum read of etcd, with
        everything written up to that version."""
        resource = self.resource(api_version, kind)
        params = {"labelSelector": label_selector} if label_selector else {}
        if not_older_than:
            params |= {"resourceVersion": not_older_than, "resourceVersionMatch": "NotOlderThan"}
        data = self.request("GET", resource.collection_path(namespace), params=params or None)
        items: list[Object] = data.get("items") or []
        for item in items:
            # List items omit apiVersion/kind; callers treat them like any other object.
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return ObjectList(items, data["metadata"].get("resourceVersion", ""))

    def create(
        self, obj: Object, *, field_manager: str | None = None, dry_run: bool = False
    ) -> Object:
        resource = self.resource(obj["apiVersion"], obj["kind"])
        params = {"fieldManager": field_manager} if field_manager else {}
        if dry_run:
            params["dryRun"] = "All"
        result: Object = self.request(
            "POST",
            resource.collection_path(obj["metadata"].get("namespace")),
            params=params or None,
            body=obj,
        )
        return result

    def apply(
        self,
        obj: Object,
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
    ) -> Object:
        """Server-side apply ``obj`` as ``field_manager``; a conflict raises ``Conflict``."""
        resource = self.resource(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        params = {"fieldManager": field_manager}
        if force:
            params["force"] = "true"
        if dry_run:
            params["dryRun"] = "All"
        result: Object = self.request(
            "PATCH",
            resource.object_path(meta["name"], meta.get("namespace")),
            params=params,
            body=obj,
            content_type="application/apply-patch+yaml",
        )
        return result

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        propagation: PropagationPolicy = "Foreground",
    ) -> None:
        resource = self.resource(api_version, kind)
        self.request(
            "DELETE",
            resource.object_path(name, namespace),
            body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation},
        )

    def watch(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        field_selector: str | None = None,
        label_selector: str | None = None,
        timeout_seconds: int = 60,
    ) -> Iterator[WatchEvent]:
        """Stream change events until the server closes the watch after ``timeout_seconds``."""
        resource = self.resource(api_version, kind)
        params = {"watch": "true", "timeoutSeconds": str(timeout_seconds)}
        if resource_version:
            params["resourceVersion"] = resource_version
        if field_selector:
            params["fieldSelector"] = field_selector
        if label_selector:
            params["labelSelector"] = label_selector
        with self._lock:
            self.requests["WATCH"] += 1
        try:
            with self._http.stream(
                "GET",
                resource.collection_path(namespace),
                params=params,
                timeout=httpx.Timeout(10.0, read=timeout_seconds + 10.0),
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    _decode(response)
                for line in response.iter_lines():
                    if line:
                        event = json.loads(line)
                        if event["type"] == "ERROR":
                            status = event["object"]
                            raise error_for(int(status.get("code", 500)), status)
                        yield WatchEvent(event["type"], event["object"])
        except httpx.TransportError as e:
            raise Unreachable(f"watch of {resource.plural} at {self.connection.server}: {e}") from e


class TokenFile(httpx.Auth):
    """A bearer token read from a file, again whenever the file changes: the kubelet
    rewrites a projected ServiceAccount token before it expires, and client-go rereads it."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._token = ""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._read()}"
        yield request

    def _read(self) -> str:
        try:
            stat = self._path.stat()
            with self._lock:
                if self._seen != (stat.st_mtime_ns, stat.st_size):
                    self._token = self._path.read_text().strip()
                    self._seen = (stat.st_mtime_ns, stat.st_size)
                return self._token
        except OSError as e:
            raise Unreachable(f"cannot read the token file {self._path}: {e.strerror}") from e


def _decode(response: httpx.Response) -> Any:
    try:
        # orjson: decoding LISTs of thousands of objects is most of a no-op sync's own work.
        body = orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        body = response.text
    if response.status_code >= 400:
        raise error_for(response.status_code, body)
    return body


def resource_key(path: str) -> tuple[str, str, str] | None:
    """(group, version, plural) of a REST path: ``/api/v1/namespaces/ns/pods/x`` →
    ``("", "v1", "pods")``; None for a path that names no resource (``/version``)."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    if parts[0] == "api" and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[0] == "apis" and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if rest[0] == "namespaces" and len(rest) >= 3:
        rest = rest[2:]
    return group, version, rest[0]


def warning_text(value: str) -> str:
    """The text of an HTTP ``Warning`` header as the API server sends it (RFC 7234:
    ``299 - "text"``); the value as it is when it has another form."""
    match = re.fullmatch(r'\s*\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"(?:\s+"[^"]*")?\s*', value)
    if match is None:
        return value.strip()
    return re.sub(r"\\(.)", r"\1", match.group(1))
