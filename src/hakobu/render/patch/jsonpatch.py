"""JSON patches (RFC 6902), as kustomize applies them.

kustomize applies JSON patches with evanphx/json-patch v4, whose behaviour differs from the
RFC in ways a patch can depend on, so this module follows that library:

- A failing ``test``, a missing path, or an index out of range stops the build (here:
  ``PatchError``); nothing is applied partially.
- ``replace`` and ``copy`` of a missing *map key* do not fail: ``replace`` adds the key,
  ``copy`` adds ``null``. ``remove`` and ``move`` of a missing key do fail.
- ``test`` treats a missing field and ``null`` alike; numbers compare by value (``1`` and
  ``1.0`` are equal, as kustomize compares them for a patch written in YAML; for a patch
  written as JSON text it compares the digits) but never equal booleans or strings.
- Negative list indices count from the end; ``-`` appends (``add``, ``move``, ``copy``).
- ``add``/``replace`` without ``value`` write ``null``. The first segment of a path that
  does not start with ``/`` is ignored (``spec/replicas`` means ``/replicas``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hakobu.model.objects import Object, object_ref
from hakobu.render.patch.errors import PatchError

_INDEX = re.compile(r"[+-]?[0-9]+")

Container = dict[str, Any] | list[Any]


class _Failure(Exception):
    """Why one operation does not apply; reported with the operation and the object."""


def apply_json6902(target: Object, operations: Sequence[Mapping[str, Any]]) -> Object:
    """Apply RFC 6902 ``operations`` to a copy of ``target``; raise ``PatchError`` if one fails."""
    document: Container = copy.deepcopy(target)
    for index, operation in enumerate(operations):
        if not isinstance(operation, Mapping):
            raise PatchError(
                f"JSON patch operation {index} for {object_ref(target)} is not a mapping: "
                f"{operation!r}",
                hint="write each operation as {op: ..., path: ..., value: ...}",
            )
        name = operation.get("op")
        apply = _OPERATIONS.get(name, _op_unknown) if isinstance(name, str) else _op_unknown
        try:
            document = apply(document, operation)
        except _Failure as e:
            raise PatchError(
                f"JSON patch operation {index} ({_describe(operation)}) does not apply to "
                f"{object_ref(target)}: {e}",
                hint="check the path against the object as it is before this patch",
                operation=index,
            ) from None
    if not isinstance(document, dict):
        raise PatchError(
            f"JSON patch for {object_ref(target)} replaced the object by a list",
            hint="a patch must leave a Kubernetes object (a mapping) at the top level",
        )
    return document


def _describe(operation: Mapping[str, Any]) -> str:
    parts = [f"{operation.get('op')}"]
    if "from" in operation:
        parts.append(f"from {operation['from']}")
    parts.append(f"{operation.get('path')}")
    return " ".join(str(p) for p in parts)


def _pointer(operation: Mapping[str, Any], field: str) -> str:
    value = operation.get(field)
    if not isinstance(value, str):
        raise _Failure(f"'{field}' must be a JSON pointer string, got {value!r}")
    return value


def _value(operation: Mapping[str, Any]) -> Any:
    return copy.deepcopy(operation.get("value"))


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _locate(document: Container, pointer: str) -> tuple[Container, str]:
    """The container holding the pointer's last token, and that token (findObject)."""
    tokens = pointer.split("/")
    if len(tokens) < 2:
        raise _Failure(f"path {pointer!r} does not exist (a path starts with '/')")
    current: Any = document
    for token in tokens[1:-1]:
        try:
            current = _get(current, _unescape(token))
        except _Failure:
            current = None
        if not isinstance(current, dict | list):
            raise _Failure(f"path {pointer!r} does not exist")
    return current, _unescape(tokens[-1])


def _index(token: str) -> int:
    if not _INDEX.fullmatch(token):
        raise _Failure(f"{token!r} is not a list index")
    return int(token)


def _get(container: Container, key: str) -> Any:
    if isinstance(container, dict):
        return container.get(key)
    index = _index(key)
    if index < 0:
        if index < -len(container):
            raise _Failure(f"index {index} is out of range")
        index += len(container)
    if index >= len(container):
        raise _Failure(f"index {index} is out of range")
    return container[index]


def _add(container: Container, key: str, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
        return
    if key == "-":
        container.append(value)
        return
    index = _index(key)
    size = len(container) + 1
    if index >= size or index < -size:
        raise _Failure(f"index {index} is out of range")
    container.insert(index + size if index < 0 else index, value)


def _remove(container: Container, key: str) -> None:
    if isinstance(container, dict):
        if key not in container:
            raise _Failure(f"there is no field {key!r} to remove")
        del container[key]
        return
    index = _index(key)
    if index >= len(container) or index < -len(container):
        raise _Failure(f"index {index} is out of range")
    del container[index]


def _op_add(document: Container, operation: Mapping[str, Any]) -> Container:
    container, key = _locate(document, _pointer(operation, "path"))
    _add(container, key, _value(operation))
    return document


def _op_remove(document: Container, operation: Mapping[str, Any]) -> Container:
    container, key = _locate(document, _pointer(operation, "path"))
    _remove(container, key)
    return document


def _op_replace(document: Container, operation: Mapping[str, Any]) -> Container:
    path = _pointer(operation, "path")
    value = _value(operation)
    if path == "":
        if not isinstance(value, dict | list):
            raise _Failure("replacing the whole document needs a mapping or a list")
        return value
    container, key = _locate(document, path)
    _get(container, key)
    if isinstance(container, dict):
        container[key] = value
    else:
        container[_index(key)] = value
    return document


def _op_move(document: Container, operation: Mapping[str, Any]) -> Container:
    source, source_key = _locate(document, _pointer(operation, "from"))
    value = _get(source, source_key)
    _remove(source, source_key)
    container, key = _locate(document, _pointer(operation, "path"))
    _add(container, key, value)
    return document


def _op_copy(document: Container, operation: Mapping[str, Any]) -> Container:
    source, source_key = _locate(document, _pointer(operation, "from"))
    value = copy.deepcopy(_get(source, source_key))
    container, key = _locate(document, _pointer(operation, "path"))
    _add(container, key, value)
    return document


def _op_test(document: Container, operation: Mapping[str, Any]) -> Container:
    path = _pointer(operation, "path")
    expected = operation.get("value")
    if path == "":
        actual: Any = document
    else:
        container, key = _locate(document, path)
        actual = _get(container, key)
    if actual is None and expected is None and path != "":
        return document
    if actual is None or expected is None or not _equal(actual, expected):
        raise _Failure(f"test failed: the value at {path!r} is {actual!r}, not {expected!r}")
    return document


def _op_unknown(document: Container, operation: Mapping[str, Any]) -> Container:
    raise _Failure(
        f"unknown op {operation.get('op')!r}; expected add, remove, replace, move, copy or test"
    )


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value, never a boolean for a number, null only for null."""
    if isinstance(a, dict):
        if not isinstance(b, dict) or a.keys() != b.keys():
            return False
        return all(
            (a[k] is None and b[k] is None)
            or (a[k] is not None and b[k] is not None and _equal(a[k], b[k]))
            for k in a
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_equal, a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)


_OPERATIONS: dict[str, Callable[[Container, Mapping[str, Any]], Container]] = {
    "add": _op_add,
    "remove": _op_remove,
    "replace": _op_replace,
    "move": _op_move,
    "copy": _op_copy,
    "test": _op_test,
}
