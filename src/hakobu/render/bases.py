"""Apply a platform base (``hakobu.model.bases``) to an app spec's render.

A base's files are read through the render's ``Inputs``, so they are recorded as inputs of
exactly the apps whose render used that version: an edit to ``platform/bases/web/2/``
invalidates the cache of the apps on web@2 and of no other.

Within one render each version is read, parsed and compiled once (``RenderBases``) and
shared by every app on it; what was read for it is copied into each of those apps' record.

Its templates are repository content like any template app's, and run in the same sandbox
and bounds (``hakobu.render.templates``), with a budget of their own for each app. They see:

- ``app``, ``env``, ``namespace``: as template apps do;
- ``values``: the app's ``baseValues`` in the environment;
- ``labels``: the labels of the app's objects; ``selector``: those its pods are selected by;
- ``ports``: the app's ports (``name``, ``port``), ``hosts``: its ingress hosts,
  ``workload``: its workload kind.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hakobu.errors import InvalidInput
from hakobu.model.appspec import AppSpec
from hakobu.model.bases import (
    BASE_FILE,
    TEMPLATES_DIR,
    VALUES_SCHEMA_FILE,
    Base,
    BaseRef,
    parse_base,
    parse_ref,
)
from hakobu.model.identity import identity_problem
from hakobu.model.objects import Object, ObjectId, object_id, object_ref
from hakobu.model.source import Document, SourceError
from hakobu.render.appspec import common_labels, selector_labels
from hakobu.render.basepatches import apply_base_patches, read_patch_files
from hakobu.render.inputs import Inputs
from hakobu.render.templates import TemplateDir


@dataclass(frozen=True)
class Chosen:
    """The base an app's render uses, and where that choice was written."""

    ref: BaseRef
    file: Path
    line: int | None
    field: tuple[str, ...]


def chosen_base(
    document: Document, env_name: str, env_base: str | None, project_file: Path
) -> Chosen | None:
    """The spec's own ``base``, else the environment's default; None when neither sets one."""
    data = document.data if isinstance(document.data, dict) else {}
    written = data.get("base")
    if isinstance(written, str):
        try:
            return Chosen(parse_ref(written), document.file, document.line_of(("base",)), ("base",))
        except ValueError:
            # The spec's schema says what a base reference looks like, at its line.
            return None
    if env_base is not None:
        return Chosen(parse_ref(env_base), project_file, None, ("environments", env_name, "base"))
    return None


def load_base(chosen: Chosen, root: Path, inputs: Inputs) -> Base:
    """The base ``chosen`` names, read through ``inputs``; an unknown one is an error at
    the line that names it."""
    ref = chosen.ref
    directory = ref.directory(root)
    # Read straight away (a missing file is recorded as absent): one read per file, since
    # every app on the version reads them.
    text = _read_if_there(directory / BASE_FILE, inputs)
    if text is None and not inputs.is_dir(directory):
        versions_dir = directory.parent
        known = (
            [v for v in inputs.list_dir(versions_dir) if v.isdigit()]
            if inputs.is_dir(versions_dir)
            else []
        )
        if known:
            hint = f"base {ref.name} has versions: {', '.join(sorted(known, key=int))}"
            message = f"base {ref.name} has no version {ref.version}"
        else:
            bases_dir = directory.parent.parent
            names = inputs.list_dir(bases_dir) if inputs.is_dir(bases_dir) else []
            hint = (
                f"the project's bases: {', '.join(names)}"
                if names
                else f"the project has no bases: add {ref.directory(Path())}/"
            )
            message = f"unknown base {ref.name!r}"
        raise SourceError(
            chosen.file,
            f"{message} (no {ref.directory(Path())}/ in the project)",
            line=chosen.line,
            field=chosen.field,
            hint=hint,
        )
    schema_text = _read_if_there(directory / VALUES_SCHEMA_FILE, inputs)
    return read_patch_files(_parsed(ref, directory, text or "", schema_text), inputs)


def _read_if_there(path: Path, inputs: Inputs) -> str | None:
    try:
        return inputs.read_text(path)
    except FileNotFoundError:
        return None


# The same files parse to the same base: every app on a version reads them (so each app's
# render records them as its inputs), and only the first one parses them. A Base is never
# changed by its users (defaults and patches are copied where they are used).
_parsed = functools.lru_cache(maxsize=64)(parse_base)


class RenderBases:
    """The platform bases of one render, each version read, parsed and compiled once.

    Every app on a version shares its ``Base`` and its compiled templates; each app's own
    record of inputs still gets every file read for the version (``load`` and ``apply`` copy
    it there), so the render cache sees a base's files as inputs of exactly the apps on it.
    A template the version includes for one app only is recorded for the apps after it too:
    a record a little wider than needed, never one that misses an input.
    """

    def __init__(self, root: Path, images: Mapping[str, str]) -> None:
        self._root = root
        self._images = images
        self._loaded: dict[BaseRef, tuple[Base, Inputs]] = {}
        self._templates: dict[BaseRef, TemplateDir | None] = {}

    def load(self, chosen: Chosen, inputs: Inputs) -> Base:
        """The base ``chosen`` names, as ``load_base`` reads it, its files recorded in
        ``inputs``."""
        found = self._loaded.get(chosen.ref)
        if found is None:
            reads = Inputs().within(self._root)
            found = (load_base(chosen, self._root, reads), reads)
            self._loaded[chosen.ref] = found
        base, reads = found
        inputs.recorded.update(reads.recorded)
        return base

    def apply(
        self,
        base: Base,
        spec: AppSpec,
        objects: list[Object],
        *,
        environment: str,
        namespace: str,
        inputs: Inputs,
        deadline: float | None = None,
    ) -> list[Object]:
        """``objects`` (the app's own) with the base's patches applied (``basepatches``) and
        its templates' objects added after them."""
        env_spec = spec.for_environment(environment)
        patched = apply_base_patches(base, objects)
        templates = self._compiled(base)
        if templates is None:
            inputs.recorded.update(self._loaded[base.ref][1].recorded)
            return patched
        names = {
            "labels": common_labels(env_spec),
            "selector": selector_labels(env_spec),
            "ports": [{"name": p.name, "port": p.port} for p in env_spec.ports],
            "hosts": [rule.host for rule in env_spec.ingress.rules] if env_spec.ingress else [],
            "workload": env_spec.workload,
            "values": dict(env_spec.base_values),
            "env": environment,
            "namespace": namespace,
            "app": spec.name,
        }
        try:
            added = templates.render(names, deadline=deadline)
        finally:
            # What the templates read, this app's render included.
            inputs.recorded.update(templates.inputs.recorded)
        return patched + _checked_added(base, templates.directory, added, patched, namespace)

    def _compiled(self, base: Base) -> TemplateDir | None:
        if base.ref not in self._templates:
            reads = self._loaded[base.ref][1]
            directory = base.directory / TEMPLATES_DIR
            try:
                self._templates[base.ref] = TemplateDir(directory, reads, self._images)
            except FileNotFoundError:
                self._templates[base.ref] = None
        return self._templates[base.ref]


def _checked_added(
    base: Base, templates: Path, added: list[Object], own: list[Object], namespace: str
) -> list[Object]:
    def identity(obj: Object) -> ObjectId:
        found = object_id(obj)
        return found._replace(namespace=found.namespace or namespace)

    seen = {identity(obj) for obj in own}
    for obj in added:
        problem = identity_problem(obj)
        if problem is not None:
            field_path, message = problem
            raise InvalidInput(
                f"{templates}: base {base.ref} renders an object whose {field_path} {message}",
                hint="a base's templates must render Kubernetes objects with a valid identity",
            )
        found = identity(obj)
        if found in seen:
            raise InvalidInput(
                f"{templates}: base {base.ref} renders {object_ref(obj)}, which the app "
                "already has",
                hint="name the base's objects after the app ({{ app }}-...) so they never "
                "collide with its own",
            )
        seen.add(found)
    return added
