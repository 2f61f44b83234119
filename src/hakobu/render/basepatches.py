"""A platform base's patches, applied to one app's objects in the order the base writes them.

Strategic merge patches go to the objects of their kind (and name), as an app spec's
``patches`` do; JSON 6902 patches to the objects their kustomize ``target`` selects
(``hakobu.render.kustomize.selectors``), with the JSON patch semantics kustomize applies
(``hakobu.render.patch``). A patch that selects none of an app's objects is skipped: a
base's patches apply to the apps that have what they target, as kustomize skips a target
that selects nothing.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

from hakobu.model.appspec import Patch
from hakobu.model.bases import Base, BasePatch
from hakobu.model.identity import identity_problem
from hakobu.model.jsonpatches import JsonPatch, load_operations
from hakobu.model.objects import Object, object_ref
from hakobu.model.source import SourceError, format_field
from hakobu.render.appspec import apply_patch
from hakobu.render.inputs import Inputs
from hakobu.render.kustomize.selectors import Target
from hakobu.render.patch import PatchError, apply_json6902


def read_patch_files(base: Base, inputs: Inputs) -> Base:
    """``base`` with the operations of the JSON patches it keeps in files, read through
    ``inputs`` (so they are inputs of the apps on the version, as base.yaml is)."""
    if not any(isinstance(p, JsonPatch) and p.path is not None for p in base.patches):
        return base
    patches: list[BasePatch | JsonPatch] = []
    for patch in base.patches:
        if isinstance(patch, JsonPatch) and patch.path is not None:
            file = base.directory / Path(patch.path)
            try:
                text = inputs.read_text(file)
            except FileNotFoundError:
                raise patch.error(
                    f"the patch file {patch.path} does not exist",
                    hint=f"add {file}, or write the operations inline (patch: |-)",
                ) from None
            patches.append(replace(patch, operations=load_operations(file, text)))
        else:
            patches.append(patch)
    return replace(base, patches=tuple(patches))


def apply_base_patches(base: Base, objects: list[Object]) -> list[Object]:
    """``objects`` with every patch of ``base`` applied, in order."""
    result = objects
    for index, patch in enumerate(base.patches):
        if isinstance(patch, JsonPatch):
            result = _apply_json(patch, result)
        else:
            body = copy.deepcopy(patch.body)
            own = Patch(patch.kind, patch.name, body, patch.location)
            result = apply_patch(result, own, index, must_match=False)
    return result


def _apply_json(patch: JsonPatch, objects: list[Object]) -> list[Object]:
    where = f"{patch.file}:{patch.line}: {format_field((*patch.field, 'target'))}"
    matcher = Target.parse(patch.target, where).compile(where)
    operations = [operation.body for operation in patch.operations]
    result: list[Object] = []
    for obj in objects:
        if not matcher.matches(obj):
            result.append(obj)
            continue
        try:
            patched = apply_json6902(obj, operations)
        except PatchError as e:
            if e.operation is None:
                raise patch.error(e.message, hint=e.hint) from None
            failed = patch.operations[e.operation]
            raise SourceError(
                failed.file, e.message, line=failed.line, field=failed.field, hint=e.hint
            ) from None
        problem = identity_problem(patched)
        if problem is not None:
            field_path, message = problem
            raise patch.error(
                f"the patched {object_ref(obj)}'s {field_path} {message}",
                hint="a patch may change an object's fields, but its identity must stay valid",
            )
        result.append(patched)
    return result
