"""The ``images:`` section of ``hakobu.yaml``: container images built from this repository.

::

    images:
    - name: base
      context: images/base              # build context, relative to the project root
      registry: registry.example.com/shop
    - name: web
      context: services/web
      dockerfile: services/web/Dockerfile   # default: <context>/Dockerfile
      inputs: [libs/common]             # more paths whose content counts for the tag
      registry: registry.example.com/shop
      buildArgs: {PYTHON_VERSION: "3.12"}

Paths are relative to the project root and must stay inside it. Each image's repository
is ``<registry>/<name>``; a ``FROM`` of that repository in another image's Dockerfile makes
it an in-repository base image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from hakobu.model.source import Document, FieldPath, SourceError, load_one

PROJECT_FILE = "hakobu.yaml"
_FIELDS = ("name", "context", "dockerfile", "inputs", "registry", "buildArgs")
# A path component of an OCI repository name (distribution's reference grammar).
_NAME = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_HOST = re.compile(r"^(?:localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|\[[0-9a-fA-F:]+\])(?::\d+)?$")
_BUILD_ARG = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ImageSpec:
    """One declared image. Paths are POSIX paths relative to the project root."""

    name: str
    context: str
    dockerfile: str
    inputs: tuple[str, ...]
    registry: str
    build_args: tuple[tuple[str, str], ...]
    file: Path = field(compare=False, repr=False)
    index: int = field(compare=False, repr=False)
    lines: dict[FieldPath, int] = field(compare=False, repr=False, default_factory=dict)

    @property
    def repository(self) -> str:
        return f"{self.registry}/{self.name}"

    def error(self, field_name: str, message: str, hint: str | None = None) -> SourceError:
        """An error about one of this image's fields, located in ``hakobu.yaml``."""
        path: FieldPath = ("images", self.index, field_name)
        line = self.lines.get(path) or self.lines.get(("images", self.index))
        return SourceError(self.file, f"({self.name}) {message}", line=line, field=path, hint=hint)


def load_images(project_root: Path, text: str | None = None) -> tuple[ImageSpec, ...]:
    """The images declared in ``project_root/hakobu.yaml`` (or in ``text``, reported as
    that file); none when there is no section."""
    doc = load_one(project_root / PROJECT_FILE, text)
    if not isinstance(doc.data, dict):
        raise doc.error((), f"expected a mapping, found {type(doc.data).__name__}")
    items = doc.data.get("images")
    if items is None:
        return ()
    if not isinstance(items, list):
        raise doc.error(("images",), "expected a list of images")
    lines: dict[int, dict[FieldPath, int]] = {}
    for key, line in doc.lines.items():
        if len(key) >= 2 and key[0] == "images" and isinstance(key[1], int):
            lines.setdefault(key[1], {})[key] = line
    specs: list[ImageSpec] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        spec = _image(doc, index, item, lines.get(index, {}))
        if spec.name in seen:
            raise doc.error(
                ("images", index, "name"),
                f"image {spec.name!r} is declared twice (first as images[{seen[spec.name]}])",
                hint="image names are repository names: give each image its own",
            )
        seen[spec.name] = index
        specs.append(spec)
    return tuple(specs)


def _image(doc: Document, index: int, item: Any, lines: dict[FieldPath, int]) -> ImageSpec:
    path: FieldPath = ("images", index)
    if not isinstance(item, dict):
        raise doc.error(path, "expected a mapping with name, context and registry")
    for key in item:
        if key not in _FIELDS:
            raise doc.error((*path, key), f"unknown field; expected one of: {', '.join(_FIELDS)}")
    for required in ("name", "context", "registry"):
        if required not in item:
            raise doc.error(path, f"missing required field {required!r}")
    name = item["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise doc.error(
            (*path, "name"),
            f"expected an image name (lower-case letters, digits and . _ -), found {name!r}",
        )
    context = _relative_path(doc, (*path, "context"), item["context"])
    dockerfile = _relative_path(
        doc, (*path, "dockerfile"), item.get("dockerfile", f"{context}/Dockerfile")
    )
    inputs_data = item.get("inputs", [])
    if not isinstance(inputs_data, list):
        raise doc.error((*path, "inputs"), "expected a list of paths")
    inputs = tuple(
        _relative_path(doc, (*path, "inputs", i), value) for i, value in enumerate(inputs_data)
    )
    registry = _registry(doc, (*path, "registry"), item["registry"])
    build_args = _build_args(doc, (*path, "buildArgs"), item.get("buildArgs", {}))
    return ImageSpec(
        name, context, dockerfile, inputs, registry, build_args, doc.file, index, lines
    )


def _relative_path(doc: Document, path: FieldPath, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise doc.error(path, f"expected a path inside the project, found {value!r}")
    pure = PurePosixPath(value)
    if pure.is_absolute() or ".." in pure.parts:
        raise doc.error(
            path,
            f"expected a path inside the project, found {value!r}",
            hint="write it relative to the directory of hakobu.yaml, without '..'",
        )
    return "." if str(pure) == "." else str(pure)


def _registry(doc: Document, path: FieldPath, value: Any) -> str:
    text = value.rstrip("/") if isinstance(value, str) else ""
    host, _, rest = text.partition("/")
    if not _HOST.match(host) or not all(_NAME.match(part) for part in rest.split("/") if rest):
        raise doc.error(
            path,
            f"expected a registry host and optional path (for example "
            f"registry.example.com/shop), found {value!r}",
            hint="the first part must be a host name with a dot or a port, or localhost",
        )
    return text


def _build_args(doc: Document, path: FieldPath, value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise doc.error(path, "expected a mapping of build argument names to values")
    args = []
    for key in sorted(value):
        item = value[key]
        if not _BUILD_ARG.match(key):
            raise doc.error((*path, key), "expected a build argument name (letters, digits, _)")
        if isinstance(item, str | int | float):
            # As written: `3.10` stays "3.10" and `0755` stays "0755", as a shell would pass it.
            text = doc.text_of((*path, key)) or str(item)
        else:
            raise doc.error((*path, key), f"expected a string, found {type(item).__name__}")
        args.append((key, text))
    return tuple(args)
