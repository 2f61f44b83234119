"""``vars``: kustomize's deprecated ``$(NAME)`` substitution, still widely used.

A var names one field of one object (``objref`` with apiVersion, kind and name, and
optionally namespace; ``fieldref.fieldPath``, default ``metadata.name``). Its value is
read at the very end of the top-level build (after name prefixes and hash suffixes) and
replaces ``$(NAME)`` only in the fields of the var-reference field specs (kustomize's
built-in table below, plus any ``varReference`` from ``configurations``).

What kustomize does, and so what this does:

- The objref matches group, version, kind and name exactly (an objref without apiVersion
  matches nothing), and also the namespace when it gives one. An object answers to the
  ids it had before renames too.
- A field that is exactly ``$(NAME)`` takes the value with its type (a number stays a
  number); inside longer text the value is formatted into it. ``$$`` is a literal ``$``,
  and ``$(OTHER)`` for an undeclared name stays as written.
- Only string values are substituted; a list in a var-reference field must hold only
  strings.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache, partial
from typing import Any

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.render.kustomize.fieldspecs import (
    FieldSpec,
    apply_fieldspec,
    load_table,
    parse_fieldspecs,
)
from hakobu.render.kustomize.replacements import lookup, split_path
from hakobu.render.kustomize.resource import Gvk, ResId, all_ids, parse_api_version

VarValue = str | int | float | bool
_INDEXED = re.compile(r"^(.*)\[(\d+)\]$")


class VarError(InvalidInput):
    """A var that cannot be resolved or substituted."""


def resolve_vars(
    objects: Sequence[Object],
    var_specs: Sequence[Mapping[str, Any]],
    *,
    where: str = "vars",
    ids: Callable[[Object], list[ResId]] = all_ids,
) -> dict[str, Any]:
    """Each var's value, read from the one object its objref names.

    ``var_specs`` are the ``vars`` of every kustomization of the build, bases first; a
    name may be declared only once. Values are what the field holds: usually a string or a
    number (a mapping or list is never substituted, as in kustomize).
    """
    values: dict[str, Any] = {}
    for index, spec in enumerate(var_specs):
        label = f"{where}[{index}]"
        name, target, namespace_matters, field_path = _parse_var(spec, label)
        if name in values:
            raise VarError(
                f"{label}: var {name!r} already encountered",
                hint="give each var a unique name across the kustomization and its bases",
            )
        matches = [
            obj for obj in objects if any(_matches(target, i, namespace_matters) for i in ids(obj))
        ]
        if len(matches) > 1:
            raise VarError(
                f"{label}: found {len(matches)} objects for var {name!r} ({target.describe()})",
                hint="add the objref's namespace so exactly one object matches",
            )
        if not matches:
            raise VarError(
                f"{label}: var {name!r} refers to {target.describe()}, which is not among "
                "the built objects",
                hint="objref needs the apiVersion, kind and name the object was declared with",
            )
        found, value = lookup(matches[0], _field_parts(field_path))
        if not found:
            raise VarError(
                f"{label}: var {name!r}: field {field_path!r} not found in {target.describe()}"
            )
        values[name] = "" if value is None else value
    return values


def substitute_vars(
    objects: Sequence[Object],
    values: Mapping[str, Any],
    *,
    specs: Sequence[FieldSpec] | None = None,
) -> list[Object]:
    """Copies of ``objects`` with ``$(NAME)`` replaced in the var-reference fields.

    ``specs`` defaults to kustomize's built-in table; pass it extended with the
    ``varReference`` entries of ``configurations`` when a kustomization has them.
    """
    field_specs = builtin_var_references() if specs is None else tuple(specs)
    result = copy.deepcopy(list(objects))
    if not values:
        return result
    for obj in result:
        for spec in field_specs:
            apply_fieldspec(obj, spec, partial(_substitute_node, values=values, spec=spec))
    return result


def expand(text: str, values: Mapping[str, Any]) -> Any:
    """``text`` with every ``$(NAME)`` of a known var replaced (kustomize's expansion)."""
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            following = text[cursor + 1]
            if following == "$":
                out.append("$")
                advance = 1
            elif following == "(":
                close = text.find(")", cursor + 2)
                if close < 0:
                    out.append("$(")
                    advance = 1
                else:
                    name = text[cursor + 2 : close]
                    mapped = _mapped(name, values)
                    if text == f"$({name})":
                        return mapped
                    out.append(_format(mapped))
                    advance = close - cursor
            else:
                out.append("$" + following)
                advance = 1
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]


def _mapped(name: str, values: Mapping[str, Any]) -> Any:
    value = values.get(name)
    if isinstance(value, str | int | float):  # bool is an int
        return value
    return f"$({name})"


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    return str(value)


def _substitute_node(node: Any, values: Mapping[str, Any], spec: FieldSpec) -> Any:
    if isinstance(node, str):
        return expand(node, values)
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                raise VarError(f"field {spec.path!r}: invalid map key {key!r}")
            if isinstance(value, str):
                node[key] = expand(value, values)
        return node
    if isinstance(node, list):
        for index, item in enumerate(node):
            if not isinstance(item, str):
                raise VarError(
                    f"field {spec.path!r}: invalid value type, expected a string, got {item!r}",
                    hint="quote the list's items",
                )
            node[index] = expand(item, values)
        return node
    return node


def _parse_var(spec: Any, label: str) -> tuple[str, ResId, bool, str]:
    if not isinstance(spec, Mapping):
        raise VarError(f"{label}: expected a mapping with name, objref and fieldref")
    name = _field(spec, "name")
    if not isinstance(name, str) or not name:
        raise VarError(f"{label}: a var needs a name")
    objref = _field(spec, "objref")
    if not isinstance(objref, Mapping):
        raise VarError(f"{label}: var {name!r} needs an objref (apiVersion, kind, name)")
    texts = {}
    for key in ("apiVersion", "group", "version", "kind", "name", "namespace"):
        value = _field(objref, key)
        if value is not None and not isinstance(value, str):
            raise VarError(f"{label}.objref.{key}: expected a string")
        texts[key] = value or ""
    group, version = texts["group"], texts["version"]
    if texts["apiVersion"]:
        group, version = parse_api_version(texts["apiVersion"])
    target = ResId(Gvk(group, version, texts["kind"]), texts["name"], texts["namespace"])
    fieldref = _field(spec, "fieldref") or {}
    field_path = _field(fieldref, "fieldPath") if isinstance(fieldref, Mapping) else None
    if field_path is not None and not isinstance(field_path, str):
        raise VarError(f"{label}.fieldref.fieldPath: expected a string")
    return (
        name,
        target,
        bool(target.namespace) or target.gvk.cluster_scoped,
        (field_path or "metadata.name"),
    )


def _field(mapping: Mapping[str, Any], key: str) -> Any:
    """The value of ``key``, else of a key differing only in case: kustomize decodes a var
    with Go's JSON rules, so ``fieldpath`` and ``objRef`` are read as well."""
    if key in mapping:
        return mapping[key]
    folded = key.casefold()
    for other, value in mapping.items():
        if isinstance(other, str) and other.casefold() == folded:
            return value
    return None


def _matches(target: ResId, rid: ResId, namespace_matters: bool) -> bool:
    if target.gvk != rid.gvk or target.name != rid.name:
        return False
    return not namespace_matters or target.effective_namespace == rid.effective_namespace


def _field_parts(field_path: str) -> list[str]:
    """``spec.ports[0].port`` → ``spec``, ``ports``, ``0``, ``port`` (kustomize's form)."""
    parts: list[str] = []
    for part in split_path(field_path):
        indexed = _INDEXED.match(part) if part.endswith("]") else None
        if indexed is None:
            parts.append(part)
            continue
        if indexed[1]:
            parts.append(indexed[1])
        parts.append(indexed[2])
    return parts


@cache
def builtin_var_references() -> tuple[FieldSpec, ...]:
    """kustomize's built-in ``varReference`` field specs."""
    return parse_fieldspecs(load_table(_VAR_REFERENCE), "built-in varReference field specs")


def _workload_paths(kind: str, pod: str) -> str:
    paths = [
        f"{pod}/{containers}/{field}"
        for containers in ("containers", "initContainers")
        for field in ("args", "command", "env/value", "volumeMounts/mountPath")
    ]
    volumes = f"{pod}/volumes/nfs/server"
    return "".join(f"- path: {path}\n  kind: {kind}\n" for path in [*paths, volumes])


_VAR_REFERENCE = (
    _workload_paths("CronJob", "spec/jobTemplate/spec/template/spec").replace(
        "spec/jobTemplate/spec/template/spec/volumes", "spec/jobTemplate/spec/template/volumes"
    )
    + _workload_paths("DaemonSet", "spec/template/spec")
    + _workload_paths("Deployment", "spec/template/spec")
    + "- path: spec/template/metadata/annotations\n  kind: Deployment\n"
    + "- path: spec/rules/host\n  kind: Ingress\n"
    + "- path: spec/tls/hosts\n  kind: Ingress\n"
    + "- path: spec/tls/secretName\n  kind: Ingress\n"
    + _workload_paths("Job", "spec/template/spec")
    + _workload_paths("Pod", "spec")
    + _workload_paths("ReplicaSet", "spec/template/spec")
    + "- path: spec/ports/port\n  kind: Service\n"
    + "- path: spec/ports/targetPort\n  kind: Service\n"
    + _workload_paths("StatefulSet", "spec/template/spec").replace(
        "spec/template/spec/volumes/nfs/server", "spec/volumeClaimTemplates/spec/nfs/server"
    )
    + "- path: spec/nfs/server\n  kind: PersistentVolume\n"
    + "- path: metadata/labels\n"
    + "- path: metadata/annotations\n"
)
