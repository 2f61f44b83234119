"""Patches: strategic merge (with Kubernetes merge keys) and JSON 6902, as kustomize applies them.

- ``strategic_merge(target, patch)``: a strategic merge patch, following kustomize's kyaml
  merge and the OpenAPI schema it embeds (``strategicmerge``, ``schema``).
- ``apply_json6902(target, operations)``: RFC 6902 operations, following the JSON-patch
  library kustomize uses (``jsonpatch``).
- ``PatchError``: a patch that does not apply (an ``InvalidInput``, exit code 2).

Both functions are pure: they return new objects and never modify their arguments.
"""

from hakobu.render.patch.errors import PatchError
from hakobu.render.patch.jsonpatch import apply_json6902
from hakobu.render.patch.strategicmerge import strategic_merge

__all__ = ["PatchError", "apply_json6902", "strategic_merge"]
