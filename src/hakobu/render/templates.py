"""Template apps: a directory of plain YAML files and Jinja templates.

Files ending in ``.yaml``/``.yml`` are taken as they are; files ending in ``.j2`` or
``.jinja`` are rendered first with the environment's values. Undefined names are errors
(StrictUndefined): a typo must not silently render as an empty string. Templates see:

- ``values``: the environment's ``values`` from hakobu.yaml, overlaid by the app's
  ``values.yaml`` and then ``values-<env>.yaml`` (maps merge, everything else replaces),
- ``env`` (the environment's name), ``namespace`` and ``app`` (the app's name),
- ``tag("name")``: the built reference (``registry/name:tag``) of an image declared in
  hakobu.yaml, whose tag is a hash of its sources.

Templates run in a sandbox with bounded time, steps and sizes (see ``sandbox`` and
``budget``): they come with pull requests and run in CI. ``include``, ``import`` and
``extends`` name the app's own files by their path relative to the app directory; only the
files at the top of the directory are rendered on their own, so partials and base templates
live in a subdirectory. Whatever goes wrong in a template is reported with the file and
line where it happened (an included file's own, when it happened there).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from pathlib import Path
from typing import Any, cast

import jinja2
from jinja2.exceptions import SecurityError

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.model.source import SourceError, load_documents
from hakobu.render.budget import Budget, LimitExceeded
from hakobu.render.inputs import Inputs
from hakobu.render.sandbox import AppLoader, TemplateSandbox

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
    deadline: float | None = None,
    context: Mapping[str, Any] | None = None,
    values_files: bool = True,
) -> list[Object]:
    """The objects of the template app in ``directory`` for one environment.

    ``context``: more names the templates see (a fleet's instance, or a platform base's,
    see ``bases``); without ``values_files`` the directory's values files are not read (a
    platform base's values are the app's).

    ``deadline`` (a ``time.monotonic()`` instant) bounds the apps that share it together;
    each app also has ``Limits.seconds`` of its own.
    """
    merged = dict(values)
    for name in (*_VALUES_FILES, f"values-{environment}.yaml") if values_files else ():
        path = directory / name
        if inputs.is_file(path):
            layer = load_documents(path, inputs.read_text(path))
            if layer:
                if not isinstance(layer[0].data, dict):
                    raise layer[0].error((), "a values file must hold a mapping")
                merged = deep_merge(merged, layer[0].data)
    names: dict[str, Any] = {
        **(context or {}),
        "values": merged,
        "env": environment,
        "namespace": namespace,
        "app": app,
    }
    return TemplateDir(directory, inputs, images).render(names, deadline=deadline)


class TemplateDir:
    """The templates at the top of a directory, in one sandbox, ready to render many times.

    Each file is read and compiled the first time it is rendered and kept, so a directory
    rendered for many apps (a platform base's, once per app on its version) is read and
    compiled once; each render has a budget of its own. Everything is read through
    ``inputs``: the caller hands what it recorded to each render's own record.
    """

    def __init__(self, directory: Path, inputs: Inputs, images: Mapping[str, str]) -> None:
        self.directory = directory
        self.inputs = inputs
        self._loader = AppLoader(directory, inputs)
        self._jinja = TemplateSandbox(self._loader, Budget(), {"tag": _tag_function(images)})
        self._files = [
            name
            for name in inputs.list_dir(directory)
            if name not in _VALUES_FILES
            and not name.startswith("values-")
            and is_template_file(name)
        ]
        self._plain: dict[str, str] = {}

    def render(self, names: Mapping[str, Any], *, deadline: float | None = None) -> list[Object]:
        """The objects the directory renders to with ``names`` (``values``, ``app``, ...);
        ``deadline`` as ``render_template_dir`` takes it."""
        self._jinja.budget.restart(deadline)
        objects: list[Object] = []
        for name in self._files:
            path = self.directory / name
            if name.endswith(TEMPLATE_SUFFIXES):
                text = _render(self._jinja, self._loader, path, dict(names))
            else:
                if name not in self._plain:
                    self._plain[name] = self.inputs.read_text(path)
                text = self._plain[name]
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
        if not isinstance(name, str) or name not in images:
            known = ", ".join(sorted(images)) or "none"
            shown = _shown(name) if isinstance(name, str) else f"a {type(name).__name__}"
            raise jinja2.UndefinedError(
                f"tag({shown}): no image of that name is declared in hakobu.yaml (images: {known})"
            )
        return images[name]

    return tag


def _render(jinja: TemplateSandbox, loader: AppLoader, path: Path, context: dict[str, Any]) -> str:
    limit = jinja.budget.limits.output_chars
    try:
        stream = cast(Generator[str, None, None], jinja.get_template(path.name).generate(context))
        chunks: list[str] = []
        chars = 0
        for chunk in stream:
            chars += len(chunk)
            if chars > limit:
                # Thrown in at the template's own yield, so the error has its line.
                stream.throw(LimitExceeded(f"the output is longer than {limit:,} characters"))
            chunks.append(chunk)
        return "".join(chunks)
    except InvalidInput:
        # Already located, by whatever read the file (a refused symlink, a bad byte).
        raise
    except jinja2.TemplateSyntaxError as e:
        raise SourceError(
            e.filename or path, f"template syntax error: {e.message}", line=e.lineno
        ) from None
    except Exception as e:  # noqa: BLE001 - any failure of a template is the template's error
        file, line = _template_frame(e, loader.files)
        raise _template_error(e, file or path, line) from None


def _template_error(error: Exception, file: Path | str, line: int | None) -> SourceError:
    if isinstance(error, jinja2.UndefinedError):
        return SourceError(
            file,
            f"template uses an undefined value: {error.message}",
            line=line,
            hint="define it in hakobu.yaml (environments.<env>.values) or the app's values.yaml",
        )
    if isinstance(error, SecurityError):
        return SourceError(
            file,
            f"template code not allowed: {error}",
            line=line,
            hint="templates run sandboxed: values, env, namespace, app, tag(), Jinja's "
            "filters, and the app's own files",
        )
    if isinstance(error, jinja2.TemplateNotFound):
        return SourceError(
            file,
            f"template not found: {_shown(error.name)} is not a file of the app directory",
            line=line,
            hint="name included, imported and extended templates by their path relative to "
            "the app directory",
        )
    if isinstance(error, LimitExceeded):
        return SourceError(
            file,
            f"template went past a bound: {error}",
            line=line,
            hint="the bounds keep a render safe on untrusted input; an honest template stays "
            "far inside them",
        )
    if isinstance(error, RecursionError):
        return SourceError(file, "template recursion too deep", line=line)
    return SourceError(
        file, f"template failed: {type(error).__name__}: {_cut(str(error))}", line=line
    )


def _template_frame(error: BaseException, files: set[str]) -> tuple[str | None, int | None]:
    """The file and line of the innermost template frame of ``error``'s traceback."""
    traceback = error.__traceback__
    found: tuple[str | None, int | None] = (None, None)
    while traceback is not None:
        name = traceback.tb_frame.f_code.co_filename
        if name in files:
            found = (name, traceback.tb_lineno)
        traceback = traceback.tb_next
    return found


def _shown(value: object) -> str:
    """A string as an error message may show it: quoted, cut short."""
    return repr(_cut(str(value)))


def _cut(text: str) -> str:
    return text if len(text) <= 120 else f"{text[:120]}…"


def _items(obj: Object) -> list[Object]:
    if obj.get("kind") == "List" and isinstance(obj.get("items"), list):
        return [item for item in obj["items"] if isinstance(item, dict)]
    return [obj]
