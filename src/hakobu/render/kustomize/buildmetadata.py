"""``buildMetadata``: where each object came from and what changed it, as kustomize records it.

- ``originAnnotations``: ``config.kubernetes.io/origin`` names the file an object was read
  from (its path from the built directory), or the kustomization file and generator kind
  that made it.
- ``transformerAnnotations``: ``alpha.config.kubernetes.io/transformations`` lists, in
  order, every built-in transformer a kustomization ran while the object was in its
  resources: kustomize records a transformer on all of them, changed or not.
- ``managedByLabel``: ``app.kubernetes.io/managed-by: kustomize-v5.8.2``. hakobu writes the
  kustomize version it builds like (``KUSTOMIZE_VERSION``), so switching between
  ``kustomize build`` and ``hakobu build`` neither changes the output nor relabels objects
  in the cluster.

Only the top-level kustomization's ``buildMetadata`` counts (kustomize hands it down to
bases and components); tracking is on when it lists anything.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import yaml

from hakobu.model.objects import Object
from hakobu.render.kustomize.kustomization import BUILD_METADATA_OPTIONS
from hakobu.render.kustomize.resource import (
    annotations_of,
    metadata,
    set_annotation,
    set_annotations,
)
from hakobu.render.yamlout import dump_object

ORIGIN = "config.kubernetes.io/origin"
TRANSFORMATIONS = "alpha.config.kubernetes.io/transformations"
MANAGED_BY = "app.kubernetes.io/managed-by"
# The kustomize release hakobu's build matches byte for byte (the differential tests run it).
KUSTOMIZE_VERSION = "v5.8.2"

ORIGIN_ANNOTATIONS, TRANSFORMER_ANNOTATIONS, MANAGED_BY_LABEL = BUILD_METADATA_OPTIONS


def join(base: str, path: str) -> str:
    """Go's filepath.Join: the two joined and cleaned, empty parts ignored."""
    joined = posixpath.join(base, path) if base else path
    return posixpath.normpath(joined) if joined else ""


@dataclass(frozen=True)
class Origin:
    """kustomize's resource.Origin: a file path, or the file and kind that configured it."""

    path: str = ""
    configured_in: str = ""
    configured_by: tuple[str, ...] = ()  # apiVersion, kind, and name and namespace if any

    def lines(self) -> list[str]:
        lines = []
        if self.path:
            lines.append(f"path: {_scalar(self.path)}")
        if self.configured_in:
            lines.append(f"configuredIn: {_scalar(self.configured_in)}")
        by = [
            f"  {key}: {_scalar(value)}"
            for key, value in zip(_IDENTIFIER, self.configured_by, strict=False)
            if value
        ]
        if by:
            lines.extend(("configuredBy:", *by))
        return lines

    def text(self) -> str:
        return "".join(f"{line}\n" for line in self.lines())


_IDENTIFIER = ("apiVersion", "kind", "name", "namespace")


def plugin_origin(config: Object, configured_in: str | None) -> Origin:
    """kustomize's OriginFromCustomPlugin: where a plugin's configuration came from.

    ``configured_in`` is given for an inline configuration; one read from a file carries
    its origin annotation already.
    """
    if configured_in is None:
        recorded = yaml.safe_load(annotations_of(config).get(ORIGIN, "")) or {}
        configured_in = str(recorded.get("path", "")) if isinstance(recorded, dict) else ""
    meta = config.get("metadata") or {}
    return Origin(
        configured_in=configured_in,
        configured_by=(
            str(config.get("apiVersion") or ""),
            str(config.get("kind") or ""),
            str(meta.get("name") or ""),
            str(meta.get("namespace") or ""),
        ),
    )


def builtin_origin(directory: str, file_name: str, kind: str) -> Origin:
    """The origin of what a built-in generator or transformer of a kustomization made."""
    return Origin(configured_in=join(directory, file_name), configured_by=("builtin", kind))


def _scalar(value: str) -> str:
    # The one emitter, so quoting follows kustomize's rules.
    return dump_object({"v": value})[len("v: ") : -1]


def set_origin(objects: Iterable[Object], origin: Origin, *, keep_existing: bool) -> None:
    """Mark ``objects`` with ``origin``.

    A file's objects are marked whatever they say; what a generator made keeps an origin it
    already has, as in kustomize.
    """
    text = origin.text()
    for obj in objects:
        if not keep_existing or ORIGIN not in annotations_of(obj):
            set_annotation(obj, ORIGIN, text)


def record_transformations(objects: Iterable[Object], origins: Sequence[Origin]) -> None:
    """Append the transformers that ran to each object's list (or make the first its origin)."""
    if not origins:
        return
    items = "".join(
        "".join(("- " if i == 0 else "  ") + line + "\n" for i, line in enumerate(o.lines()))
        for o in origins
    )
    for obj in objects:
        annotations = annotations_of(obj)
        if ORIGIN not in annotations:
            set_annotation(obj, ORIGIN, origins[0].text())
            if len(origins) > 1:
                record_transformations([obj], origins[1:])
            continue
        set_annotation(obj, TRANSFORMATIONS, annotations.get(TRANSFORMATIONS, "") + items)


def finish(objects: Iterable[Object], options: Sequence[str]) -> None:
    """The managed-by label, and the annotations the top-level build did not ask for removed."""
    for obj in objects:
        if MANAGED_BY_LABEL in options:
            labels = metadata(obj).get("labels")
            if not isinstance(labels, dict):
                labels = metadata(obj)["labels"] = {}
            labels[MANAGED_BY] = f"kustomize-{KUSTOMIZE_VERSION}"
        annotations = annotations_of(obj)
        unwanted = [
            key for key, option in _ANNOTATIONS if option not in options and key in annotations
        ]
        if unwanted:
            set_annotations(obj, {k: v for k, v in annotations.items() if k not in unwanted})


_ANNOTATIONS = ((ORIGIN, ORIGIN_ANNOTATIONS), (TRANSFORMATIONS, TRANSFORMER_ANNOTATIONS))
