"""``openapi:``: a custom OpenAPI schema whose merge keys drive strategic merges.

As in kustomize, the schema is one for the whole build: the built kustomization's
``openapi`` decides; without one, the first base or component that names one sets it
for the rest of the build. A custom schema (``path``) replaces the built-in Kubernetes
schema, so its definitions (``x-kubernetes-group-version-kind``,
``x-kubernetes-patch-merge-key``, ``x-kubernetes-patch-strategy``,
``x-kubernetes-list-map-keys``) say how every kind merges. ``version`` may only name the
built-in schema's version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from hakobu.errors import HakobuError
from hakobu.model.files import decode
from hakobu.render.kustomize.kustomization import Kustomization
from hakobu.render.kustomize.loader import Loader, load_value
from hakobu.render.patch.schema import SchemaTable, table_from_swagger

# The only schema version kustomize has built in (its kyaml's Kubernetes OpenAPI data).
BUILTIN_VERSION = "v1.21.2"


class OpenApi:
    """The schema choice of one build."""

    def __init__(self, use: Callable[[SchemaTable], None]) -> None:
        self.use = use
        self.settled = False

    def configure(self, k: Kustomization, loader: Loader, *, top: bool) -> None:
        """Apply ``k``'s ``openapi`` field, unless an earlier one already decided."""
        if self.settled and not top:
            return
        value = k.get("openapi")
        if value is None:
            return
        if not isinstance(value, dict) or set(value) - {"path", "version"}:
            raise k.error(("openapi",), "expected a mapping with path or version")
        if "path" in value and "version" in value:
            raise k.error(
                ("openapi",), "builtin version and custom schema provided, cannot use both"
            )
        if "version" in value:
            if str(value["version"]) != BUILTIN_VERSION:
                raise k.error(
                    ("openapi", "version"),
                    f"the OpenAPI version {value['version']!r} is not built in",
                    hint=f"use {BUILTIN_VERSION}, or give a schema file with path",
                )
            self.settled = True
            return
        self.use(_load(k, loader, value["path"]))
        self.settled = True


def _load(k: Kustomization, loader: Loader, file: Any) -> SchemaTable:
    where = ("openapi", "path")
    if not isinstance(file, str) or not file:
        raise k.error(where, "expected a file path")
    try:
        resolved = loader.resolve_file(file)
        text = decode(resolved, loader.read_bytes(resolved))
    except FileNotFoundError:
        raise k.error(where, f"schema file '{file}' does not exist") from None
    except HakobuError as e:
        raise k.error(where, e.message, e.hint) from None
    document = _parse(text, resolved, k, where)
    definitions = document.get("definitions") if isinstance(document, dict) else None
    if not isinstance(definitions, dict) or not all(
        isinstance(d, dict) for d in definitions.values()
    ):
        raise k.error(
            where,
            f"schema file '{file}' has no `definitions` mapping",
            hint="give an OpenAPI (swagger) document whose definitions describe the kinds",
        )
    return table_from_swagger(definitions)


def _parse(text: str, resolved: Any, k: Kustomization, where: tuple[str, str]) -> Any:
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise k.error(where, f"schema file is not valid JSON: {e}") from None
    return load_value(resolved, text)


CURRENT: ContextVar[OpenApi | None] = ContextVar("kustomize_openapi", default=None)
