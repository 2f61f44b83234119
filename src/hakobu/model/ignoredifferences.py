"""``ignoreDifferences``: fields of live objects that are not git's to set (pure).

Named and shaped as Argo CD's, with its ``RespectIgnoreDifferences`` behaviour always on::

    ignoreDifferences:
      - kind: Deployment                 # required; group "" is the core API group
        group: apps
        name: web                        # optional: every object of the kind otherwise
        namespace: shop                  # optional
        jsonPointers: [/spec/replicas]   # RFC 6901 paths into the object
        managedFieldsManagers: [kube-controller-manager]   # whatever these managers own

A matching object that exists is applied and compared without those fields, so an
autoscaler's ``replicas`` or a webhook's injected field is neither drift nor taken back;
one that does not exist yet is created with git's values. In ``hakobu.yaml`` at the top
(every environment) and per environment (added to the top's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hakobu.model.objects import Object, group_of
from hakobu.model.source import Document, FieldPath

_FIELDS = ("group", "kind", "name", "namespace", "jsonPointers", "managedFieldsManagers")
# What makes an object the object it is: not a field a rule may take out of git's hands.
_IDENTITY = (("apiVersion",), ("kind",), ("metadata",), ("metadata", "name"),
             ("metadata", "namespace"))  # fmt: skip


@dataclass(frozen=True)
class IgnoreRule:
    group: str
    kind: str
    name: str | None
    namespace: str | None
    # Each pointer as its unescaped reference tokens.
    json_pointers: tuple[tuple[str, ...], ...]
    managers: tuple[str, ...]

    def matches(self, obj: Object) -> bool:
        meta = obj.get("metadata") or {}
        return (
            obj.get("kind") == self.kind
            and group_of(str(obj.get("apiVersion", ""))) == self.group
            and self.name in (None, meta.get("name"))
            and self.namespace in (None, meta.get("namespace"))
        )


def parse_ignore_differences(doc: Document, path: FieldPath, value: Any) -> tuple[IgnoreRule, ...]:
    """``ignoreDifferences:``; each error names its file, line and field."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise doc.error(path, f"expected a list of rules, found {type(value).__name__}")
    return tuple(_rule(doc, (*path, index), item) for index, item in enumerate(value))


def _rule(doc: Document, path: FieldPath, value: Any) -> IgnoreRule:
    if not isinstance(value, dict):
        raise doc.error(path, f"expected a mapping, found {type(value).__name__}")
    for key in value:
        if key not in _FIELDS:
            raise doc.error((*path, key), f"unknown field; expected one of: {', '.join(_FIELDS)}")
    kind = value.get("kind")
    if not isinstance(kind, str) or not kind:
        raise doc.error((*path, "kind"), "required: the kind of the objects, e.g. Deployment")
    group = _text(doc, (*path, "group"), value.get("group", ""), empty=True)
    pointers = _list(doc, (*path, "jsonPointers"), value.get("jsonPointers"))
    managers = _list(doc, (*path, "managedFieldsManagers"), value.get("managedFieldsManagers"))
    if not pointers and not managers:
        raise doc.error(
            path,
            "a rule ignores nothing without jsonPointers or managedFieldsManagers",
            hint="e.g. jsonPointers: [/spec/replicas]",
        )
    return IgnoreRule(
        group,
        kind,
        _optional(doc, (*path, "name"), value.get("name")),
        _optional(doc, (*path, "namespace"), value.get("namespace")),
        tuple(_pointer(doc, (*path, "jsonPointers", i), p) for i, p in enumerate(pointers)),
        tuple(managers),
    )


def _pointer(doc: Document, path: FieldPath, text: str) -> tuple[str, ...]:
    if not text.startswith("/"):
        raise doc.error(
            path, f"{text!r} is not a JSON pointer: it starts with /, as /spec/replicas"
        )
    tokens = tuple(t.replace("~1", "/").replace("~0", "~") for t in text[1:].split("/"))
    if tokens in _IDENTITY or tokens == ("",):
        raise doc.error(path, f"{text!r} is what makes the object itself: it cannot be ignored")
    if tokens[0] == "metadata" and not (
        len(tokens) == 3
        and tokens[1] in ("labels", "annotations")
        and not tokens[2].startswith("hakobu.dev/")
    ):
        raise doc.error(
            path,
            f"{text!r}: of metadata, only one label or annotation (not hakobu's own) can be "
            "ignored, as /metadata/annotations/<key> with / in the key written ~1",
        )
    return tokens


def _list(doc: Document, path: FieldPath, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise doc.error(path, f"expected a list, found {type(value).__name__}")
    return [_text(doc, (*path, i), item) for i, item in enumerate(value)]


def _text(doc: Document, path: FieldPath, value: Any, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not value and not empty):
        raise doc.error(path, f"expected text, found {value!r}")
    return value


def _optional(doc: Document, path: FieldPath, value: Any) -> str | None:
    return None if value is None else _text(doc, path, value)
