"""A kustomize-compatible build: the same documents, in the same order, as `kustomize build`.

``build(directory, load_restrictor=...)`` returns the objects; ``hakobu.render.yamlout``
writes them out as kustomize does.
"""

from hakobu.render.kustomize.build import build
from hakobu.render.kustomize.loader import NONE as LOAD_RESTRICTIONS_NONE
from hakobu.render.kustomize.loader import ROOT_ONLY as LOAD_RESTRICTIONS_ROOT_ONLY

__all__ = ["LOAD_RESTRICTIONS_NONE", "LOAD_RESTRICTIONS_ROOT_ONLY", "build"]
