"""Template apps: a directory of plain YAML files and Jinja templates.

Files ending in ``.yaml``/``.yml`` are taken as they are; files ending in ``.j2`` or
``.jinja`` are rendered first with the environment's values. Undefined names are errors
(StrictUndefined): a typo must not silently render as an empty string. Templates see:

- ``values``: the environment's ``values`` from hakobu.yaml, overlaid by the app's
  ``values.yaml`` and then ``values-<env>.yaml`` (maps merge, everything else replaces),
- ``env`` (the environment's name), ``namespace`` and ``app`` (the app's name),
- ``tag("name")``: the built reference (``registry/name:tag``) of an image declared in
  hakobu.yaml, whose tag is a hash of its sources.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2

from hakobu.model.objects import Object
from hakobu.model.source import SourceError, load_documents
from hakobu.render.inputs import Inputs

TEMPLATE_SUFFIXES = (".j2", ".jinja")
PLAIN_SUFFIXES = (".yaml", ".yml")
_VALUES_FILES = ("values.yaml",)


def is_template_file(name: str) -> bool:
    return name.endswith(TEMPLATE_SUFFIXES) or name.endswith(PLAIN_SUFFIXES)


def render_template_dir(
    directory: Path,
    *,
    app: str,
    environment: str,
    namespace: str,
    values: dict[str, Any],
    inputs: Inputs,
    images: Mapping[str, str],
) -> list[Object]:
    merged = dict(values)
    for name in (*_VALUES_FILES, f"values-{environment}.yaml"):
        path = directory / name
        if inputs.is_file(path):
            layer = load_documents(path, inputs.read_text(path))
            if layer:
                if not isinstance(layer[0].data, dict):
                    raise layer[0].error((), "a values file must hold a mapping")
                merged = deep_merge(merged, layer[0].data)
    context = {
        "values": merged,
        "env": environment,
        "namespace": namespace,
        "app": app,
        "tag": _tag_function(images),
    }
    jinja = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - the output is YAML, not HTML
    )
    objects: list[Object] = []
    for name in inputs.list_dir(directory):
        path = directory / name
        if name in _VALUES_FILES or name.startswith("values-") or not is_template_file(name):
            continue
        text = inputs.read_text(path)
        if name.endswith(TEMPLATE_SUFFIXES):
            text = _render(jinja, path, text, context)
        for document in load_documents(path, text):
            if not isinstance(document.data, dict):
                raise document.error((), "expected a Kubernetes object (a mapping)")
            objects.extend(_items(document.data))
    return objects


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Maps merge key by key; any other value in ``overlay`` replaces the base's."""
    result = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def _tag_function(images: Mapping[str, str]) -> Callable[[str], str]:
    def tag(name: str) -> str:
        if name not in images:
            known = ", ".join(sorted(images)) or "none"
            raise jinja2.UndefinedError(
                f"tag({name!r}): no image of that name is declared in hakobu.yaml (images: {known})"
            )
        return images[name]

    return tag


def _render(jinja: jinja2.Environment, path: Path, text: str, context: dict[str, Any]) -> str:
    try:
        return jinja.from_string(text).render(context)
    except jinja2.TemplateSyntaxError as e:
        raise SourceError(path, f"template syntax error: {e.message}", line=e.lineno) from None
    except jinja2.UndefinedError as e:
        raise SourceError(
            path,
            f"template uses an undefined value: {e.message}",
            line=_template_line(e),
            hint="define it in hakobu.yaml (environments.<env>.values) or the app's values.yaml",
        ) from None


def _template_line(error: Exception) -> int | None:
    traceback = error.__traceback__
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _items(obj: Object) -> list[Object]:
    if obj.get("kind") == "List" and isinstance(obj.get("items"), list):
        return [item for item in obj["items"] if isinstance(item, dict)]
    return [obj]
