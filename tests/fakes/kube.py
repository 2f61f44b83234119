"""An in-memory API server for fast tests of what talks to one through ``KubeApi``.

What it models:

- objects kept by (API group, kind, namespace, name), each write bumping one cluster-wide
  resourceVersion; a PUT (``request``) must carry the version it read, as the server insists;
- namespaced objects only in a Namespace that exists;
- server-side apply as a merge: maps merge, lists and scalars are replaced whole (as
  ``x-kubernetes-list-type: atomic`` lists are); each manager's fields are kept in
  ``managedFields`` (``FieldsV1``, ``operation: Apply``), fields a manager stops applying are
  removed unless another manager owns them, and changing a field another manager applied is
  a ``Conflict`` naming it unless ``force``;
- creates with ``generateName``, dry runs that store nothing;
- LISTs filtered by namespace and label selector (``=``, ``!=``, ``in``, ``notin``,
  existence);
- deletes with propagation: Foreground and Background delete dependents found through
  ``ownerReferences`` at once, Orphan drops the reference;
- deprecation warnings per (apiVersion, kind), set by a test in ``deprecations``;
- fields set only at creation, per kind in ``immutable`` (``{"Job": {("spec",
  "template")}}``): an apply that changes one of an existing object is refused with
  Invalid, "field is immutable", as the real server refuses a Job's new template;
- JSON patches (``test``, ``add``, ``replace``, ``remove`` of object members), a failed
  ``test`` refused with Invalid;
- failures injected per verb and object (``fail``); ``before_write``, run once before the
  next write, for a writer that races in between a read and a write; and ``controllers``:
  callbacks that change a stored object after each write, standing in for the controllers
  that set status.

What it does not: defaulting, validation and admission, finalizers and graceful deletion
(an object is gone as soon as it is deleted), merge keys of associative lists, watches,
field selectors, ``resourceVersionMatch`` (a LIST is always current), RBAC, and any
controller unless a test adds one. Tests of behaviour that depends on those run against
the real control plane (tests/integration).
"""

from __future__ import annotations

import copy
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from hakobu.cluster.client import ObjectList, PropagationPolicy
from hakobu.cluster.discovery import ApiResource
from hakobu.cluster.errors import AlreadyExists, ApiError, Conflict, Invalid, NotFound
from hakobu.model.objects import Object

Key = tuple[str, str, str, str]
Path = tuple[str, ...]
Controller = Callable[[Object], None]

BUILT_IN = (
    ApiResource("", "v1", "Namespace", "namespaces", namespaced=False),
    ApiResource("", "v1", "ConfigMap", "configmaps", namespaced=True),
    ApiResource("", "v1", "Secret", "secrets", namespaced=True),
    ApiResource("", "v1", "Service", "services", namespaced=True),
    ApiResource("apps", "v1", "Deployment", "deployments", namespaced=True),
    ApiResource("batch", "v1", "Job", "jobs", namespaced=True),
    ApiResource("coordination.k8s.io", "v1", "Lease", "leases", namespaced=True),
)


def not_found(what: str) -> NotFound:
    return NotFound(404, "NotFound", f"{what} not found", {})


class FakeKube:
    """Satisfies ``hakobu.cluster.api.KubeApi``; thread-safe, as sync uses it from a pool."""

    def __init__(self, resources: tuple[ApiResource, ...] = BUILT_IN) -> None:
        self.resources = {(r.api_version, r.kind): r for r in resources}
        self.objects: dict[Key, Object] = {}
        self.version = 0
        self.controllers: list[Controller] = []
        # What reading a kind in an API version warns of, as a server's deprecation does.
        self.deprecations: dict[tuple[str, str], tuple[str, ...]] = {}
        self.requests: Counter[str] = Counter()
        self.before_write: Callable[[], None] = lambda: None
        # Per kind, the paths an apply may not change once the object exists.
        self.immutable: dict[str, set[Path]] = {}
        self._failures: dict[tuple[str, str, str], Exception] = {}
        self._lock = threading.RLock()

    # -- test controls --------------------------------------------------------------------

    def fail(self, verb: str, kind: str, name: str, error: Exception | None) -> None:
        """Every ``verb`` (get, list, create, apply, update, delete) of ``kind/name`` raises
        ``error`` from now on, until failed with None; a LIST is matched with the name ""."""
        if error is None:
            self._failures.pop((verb, kind, name), None)
        else:
            self._failures[(verb, kind, name)] = error

    def stored(self, kind: str, name: str, namespace: str = "") -> Object | None:
        for (_, k, ns, n), obj in self.objects.items():
            if (k, ns, n) == (kind, namespace, name):
                return obj
        return None

    # -- discovery ------------------------------------------------------------------------

    def resource(self, api_version: str, kind: str) -> ApiResource:
        found = self.resources.get((api_version, kind))
        if found is None:
            raise not_found(f"the server has no resource for kind {kind} in {api_version}")
        return found

    def refresh_discovery(self) -> dict[tuple[str, str], ApiResource]:
        return dict(self.resources)

    def api_warnings(self, api_version: str, kind: str) -> tuple[str, ...]:
        self.resource(api_version, kind)
        return self.deprecations.get((api_version, kind), ())

    # -- verbs ----------------------------------------------------------------------------

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Object:
        with self._lock:
            self._count("GET", "get", kind, name)
            key = self._key(api_version, kind, name, namespace)
            if key not in self.objects:
                raise not_found(f'{kind} "{name}"')
            return copy.deepcopy(self.objects[key])

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        not_older_than: str | None = None,
    ) -> ObjectList:
        with self._lock:
            self._count("GET", "list", kind, "")
            resource = self.resource(api_version, kind)
            wanted = _selector(label_selector or "")
            items = [
                copy.deepcopy(obj)
                for (group, k, ns, _), obj in sorted(self.objects.items())
                if (group, k) == (resource.group, kind)
                and (not namespace or not resource.namespaced or ns == namespace)
                and wanted(obj["metadata"].get("labels") or {})
            ]
            return ObjectList(items, str(self.version))

    def create(
        self, obj: Object, *, field_manager: str | None = None, dry_run: bool = False
    ) -> Object:
        with self._lock:
            obj = copy.deepcopy(obj)
            meta = obj["metadata"]
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = f"{meta.pop('generateName')}{uuid.uuid4().hex[:5]}"
            self._count("POST", "create", obj["kind"], meta["name"])
            key = self._key_of(obj)
            if key in self.objects:
                raise AlreadyExists(409, "AlreadyExists", f'{obj["kind"]} "{key[3]}" exists', {})
            self._namespace_exists(key)
            meta["uid"] = str(uuid.uuid4())
            meta["generation"] = 1
            if field_manager:
                meta["managedFields"] = [
                    _entry(field_manager, "Update", obj["apiVersion"], _fields_of(obj))
                ]
            return obj if dry_run else self._store(key, obj)

    def apply(
        self,
        obj: Object,
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
    ) -> Object:
        with self._lock:
            self._count("PATCH", "apply", obj["kind"], obj["metadata"]["name"])
            key = self._key_of(obj)
            applied = _fields_of(obj)
            live = self.objects.get(key)
            if live is None:
                self._namespace_exists(key)
                merged = _without(copy.deepcopy(obj), ("status",))
                merged["metadata"] |= {"uid": str(uuid.uuid4()), "generation": 1}
                managers: list[dict[str, Any]] = []
            else:
                merged = copy.deepcopy(live)
                managers = [
                    m
                    for m in merged["metadata"].get("managedFields") or []
                    if m["manager"] != field_manager or m["operation"] != "Apply"
                ]
                self._check_immutable(obj, live)
                others = {path: m["manager"] for m in managers for path in _leaves(m["fieldsV1"])}
                if not force:
                    self._check_conflicts(obj, live, applied, others)
                mine = next(
                    (
                        m
                        for m in live["metadata"].get("managedFields") or []
                        if m["manager"] == field_manager and m["operation"] == "Apply"
                    ),
                    None,
                )
                for path in _leaves(mine["fieldsV1"]) if mine else set():
                    if path not in _leaves(applied) and path not in others:
                        merged = _without(merged, path)
                if force:
                    for m in managers:
                        m["fieldsV1"] = _minus(m["fieldsV1"], applied)
                _merge(merged, _without(copy.deepcopy(obj), ("status",)))
                if _body(merged) != _body(live):
                    merged["metadata"]["generation"] = live["metadata"].get("generation", 1) + 1
            merged["metadata"]["managedFields"] = [
                *managers,
                _entry(field_manager, "Apply", obj["apiVersion"], applied),
            ]
            return merged if dry_run else self._store(key, merged)

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        propagation: PropagationPolicy = "Foreground",
    ) -> None:
        with self._lock:
            self._count("DELETE", "delete", kind, name)
            key = self._key(api_version, kind, name, namespace)
            gone = self.objects.pop(key, None)
            if gone is None:
                raise not_found(f'{kind} "{name}"')
            self.version += 1
            uid = gone["metadata"].get("uid")
            for dep_key, dependent in list(self.objects.items()):
                refs = dependent["metadata"].get("ownerReferences") or []
                if not any(r.get("uid") == uid for r in refs):
                    continue
                if propagation == "Orphan":
                    dependent["metadata"]["ownerReferences"] = [
                        r for r in refs if r.get("uid") != uid
                    ]
                else:
                    self.delete(
                        dependent["apiVersion"],
                        dep_key[1],
                        dep_key[3],
                        dep_key[2] or None,
                        propagation=propagation,
                    )

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
        """GET, POST, PUT and DELETE by REST path, as the Lease and raw callers send them."""
        if method == "GET":
            return self._read(path)
        resource, namespace, name = self._route(path)
        api_version = resource.api_version
        if method == "POST":
            return self.create({"apiVersion": api_version, "kind": resource.kind, **body})
        if method == "PUT":
            return self._update({"apiVersion": api_version, "kind": resource.kind, **body})
        if method == "DELETE" and name:
            self.delete(api_version, resource.kind, name, namespace)
            return {"kind": "Status", "status": "Success"}
        if method == "PATCH" and name and content_type == "application/json-patch+json":
            with self._lock:
                live = self.get(api_version, resource.kind, name, namespace)
                for operation in body:
                    _json_patch(live, operation)
                self._count("PATCH", "patch", resource.kind, name)
                return self._store(self._key_of(live), live)
        raise ApiError(405, "MethodNotAllowed", f"{method} {path}", {})

    def _read(self, path: str) -> Any:
        if path == "/version":
            return {"major": "1", "minor": "36", "gitVersion": "v1.36.0"}
        resource, namespace, name = self._route(path)
        if name:
            return self.get(resource.api_version, resource.kind, name, namespace)
        found = self.list(resource.api_version, resource.kind, namespace)
        return {"items": found.items, "metadata": {"resourceVersion": found.resource_version}}

    # -- the store ------------------------------------------------------------------------

    def _update(self, obj: Object) -> Object:
        with self._lock:
            self._count("PUT", "update", obj["kind"], obj["metadata"]["name"])
            key = self._key_of(obj)
            live = self.objects.get(key)
            if live is None:
                raise not_found(f'{obj["kind"]} "{key[3]}"')
            if obj["metadata"].get("resourceVersion") != live["metadata"]["resourceVersion"]:
                raise Conflict(
                    409,
                    "Conflict",
                    "the object has been modified; please apply your changes "
                    "to the latest version and try again",
                    {},
                )
            return self._store(key, copy.deepcopy(obj))

    def _store(self, key: Key, obj: Object) -> Object:
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)
        self.objects[key] = obj
        for controller in self.controllers:
            controller(obj)
        return copy.deepcopy(obj)

    def _check_conflicts(
        self, obj: Object, live: Object, applied: dict[str, Any], others: dict[Path, str]
    ) -> None:
        causes = [
            {"field": "." + ".".join(path), "message": f'conflict with "{others[path]}"'}
            for path in sorted(_leaves(applied))
            if path in others and _at(obj, path) != _at(live, path)
        ]
        if causes:
            managers = sorted({c["message"] for c in causes})
            raise Conflict(
                409,
                "Conflict",
                f"Apply failed with {len(causes)} conflicts: {', '.join(managers)}",
                {"details": {"causes": causes}},
            )

    def _check_immutable(self, obj: Object, live: Object) -> None:
        for path in sorted(self.immutable.get(obj["kind"], ())):
            if _at(obj, path) is not None and _at(obj, path) != _at(live, path):
                field = ".".join(path)
                raise Invalid(
                    422,
                    "Invalid",
                    f"{obj['kind']}.{obj['apiVersion'].rpartition('/')[0] or 'core'} "
                    f'"{obj["metadata"]["name"]}" is invalid: {field}: Invalid value: '
                    "field is immutable",
                    {"details": {"causes": [{"field": field, "message": "field is immutable"}]}},
                )

    def _count(self, method: str, verb: str, kind: str, name: str) -> None:
        self.requests[method] += 1
        failure = self._failures.get((verb, kind, name))
        if failure is not None:
            raise failure
        if method != "GET":
            hook, self.before_write = self.before_write, lambda: None
            hook()

    def _key(self, api_version: str, kind: str, name: str, namespace: str | None) -> Key:
        resource = self.resource(api_version, kind)
        return (resource.group, kind, (namespace or "") if resource.namespaced else "", name)

    def _key_of(self, obj: Object) -> Key:
        meta = obj["metadata"]
        return self._key(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))

    def _namespace_exists(self, key: Key) -> None:
        if key[2] and ("", "Namespace", "", key[2]) not in self.objects:
            raise not_found(f'namespaces "{key[2]}"')

    def _route(self, path: str) -> tuple[ApiResource, str | None, str | None]:
        parts = path.strip("/").split("/")
        group, version, rest = (
            ("", parts[1], parts[2:]) if parts[0] == "api" else (parts[1], parts[2], parts[3:])
        )
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        for resource in self.resources.values():
            if (resource.group, resource.version, resource.plural) == (group, version, rest[0]):
                return resource, namespace, rest[1] if len(rest) > 1 else None
        raise not_found(path)


def _json_patch(obj: Object, operation: dict[str, Any]) -> None:
    """One RFC 6902 operation on a member of nested objects (not of lists)."""
    *parents, last = operation["path"].strip("/").split("/")
    target: Any = obj
    for part in parents:
        target = target.setdefault(part, {})
    op = operation["op"]
    if op == "test" and target.get(last) != operation["value"]:
        raise Invalid(422, "Invalid", f"the test of {operation['path']} failed", {})
    if op in ("add", "replace"):
        target[last] = copy.deepcopy(operation["value"])
    elif op == "remove":
        target.pop(last, None)


# -- field sets (FieldsV1 of maps; lists and scalars are leaves) ----------------------------

_IDENTITY = {("metadata", "name"), ("metadata", "namespace")}
_SERVER_SET = {"uid", "resourceVersion", "generation", "managedFields", "creationTimestamp"}


def _fields_of(obj: Object) -> dict[str, Any]:
    def walk(value: Any, path: Path) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for name, sub in value.items():
            here = (*path, name)
            if here in _IDENTITY or (path == ("metadata",) and name in _SERVER_SET):
                continue
            if not (isinstance(sub, dict) and sub):
                fields[f"f:{name}"] = {}
            elif inner := walk(sub, here):
                fields[f"f:{name}"] = inner
            # else: only identity below (a metadata of name and namespace): nothing owned.
        return fields

    return walk({k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "status")}, ())


def _leaves(fields: dict[str, Any], path: Path = ()) -> set[Path]:
    found: set[Path] = set()
    for key, sub in fields.items():
        here = (*path, key[2:])
        found |= _leaves(sub, here) if sub else {here}
    return found


def _minus(fields: dict[str, Any], taken: dict[str, Any]) -> dict[str, Any]:
    left = {}
    for key, sub in fields.items():
        if key not in taken:
            left[key] = sub
        elif sub and taken[key]:
            rest = _minus(sub, taken[key])
            if rest:
                left[key] = rest
    return left


def _entry(manager: str, operation: str, api_version: str, fields: dict[str, Any]) -> Object:
    return {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    }


def _merge(into: dict[str, Any], patch: dict[str, Any]) -> None:
    for name, value in patch.items():
        if isinstance(value, dict) and isinstance(into.get(name), dict):
            _merge(into[name], value)
        else:
            into[name] = value


def _body(obj: Object) -> Object:
    """All but metadata: what a change of bumps the generation."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def _at(obj: Any, path: Path) -> Any:
    for name in path:
        if not isinstance(obj, dict) or name not in obj:
            return None
        obj = obj[name]
    return obj


def _without(obj: Object, path: Path) -> Object:
    parent = _at(obj, path[:-1]) if len(path) > 1 else obj
    if isinstance(parent, dict):
        parent.pop(path[-1], None)
    return obj


# -- label selectors ------------------------------------------------------------------------

_TERM = re.compile(r"\s*([^,(]+?(?:\([^)]*\))?)\s*(?:,|$)")


def _terms(selector: str) -> Iterator[str]:
    for match in _TERM.finditer(selector):
        if match.group(1):
            yield match.group(1)


def _selector(selector: str) -> Callable[[dict[str, str]], bool]:
    """Each term as (key, operator, values): in, notin, exists, !exists."""
    terms: list[tuple[str, str, frozenset[str]]] = []
    for term in _terms(selector):
        if m := re.fullmatch(r"(\S+)\s+(in|notin)\s+\(([^)]*)\)", term):
            values = frozenset(v.strip() for v in m.group(3).split(","))
            terms.append((m.group(1), m.group(2), values))
        elif "!=" in term:
            key, value = (p.strip() for p in term.split("!=", 1))
            terms.append((key, "notin", frozenset({value})))
        elif "=" in term:
            key, value = (p.strip() for p in term.replace("==", "=").split("=", 1))
            terms.append((key, "in", frozenset({value})))
        elif term.startswith("!"):
            terms.append((term[1:].strip(), "!exists", frozenset()))
        else:
            terms.append((term, "exists", frozenset()))

    def matches(labels: dict[str, str]) -> bool:
        for key, op, values in terms:
            if op == "in" and labels.get(key) not in values:
                return False
            if op == "notin" and key in labels and labels[key] in values:
                return False
            if op == "exists" and key not in labels:
                return False
            if op == "!exists" and key in labels:
                return False
        return True

    return matches
