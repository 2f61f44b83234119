#!/usr/bin/env python3
"""Derive the strategic-merge schema table from the OpenAPI data kustomize embeds.

kustomize (through kyaml) decides how to merge each field from the Kubernetes OpenAPI
schema compiled into it: which lists are merged by key (``x-kubernetes-patch-strategy``,
``x-kubernetes-patch-merge-key``, ``x-kubernetes-list-map-keys``), and which types have a
schema at all. This script reads that same data from the kyaml module and writes the part
that merging needs, without descriptions, to ``src/hakobu/render/patch/openapi_merge.json``.

Usage: scripts/gen_merge_keys.py [KYAML_MODULE_DIR]
(default: the kyaml version that the pinned kustomize uses, in the Go module cache).
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

KYAML_VERSION = "v0.21.2"
BUNDLE = "openapi/kubernetesapi/data/kubernetes-openapi-union-v1.21.2.bundle-v1.json.gz"
KUSTOMIZATION_SWAGGER = "openapi/kustomizationapi/swagger.json"
OUTPUT = Path(__file__).resolve().parent.parent / "src/hakobu/render/patch/openapi_merge.json"


def compact(schema: dict[str, Any]) -> dict[str, Any]:
    """Keep what kyaml's walker reads from one schema node; drop the rest."""
    ref = schema.get("$ref")
    if ref:
        # kyaml replaces a referencing schema by its target, siblings included.
        return {"$ref": ref.removeprefix("#/definitions/")}
    out: dict[str, Any] = {}
    properties = schema.get("properties")
    if properties:
        out["properties"] = {name: compact(sub) for name, sub in sorted(properties.items())}
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        out["additionalProperties"] = compact(additional)
    if schema.get("type") in ("array", ["array"]):
        out["array"] = True
        items = schema.get("items")
        if isinstance(items, dict):
            out["items"] = compact(items)
    strategy = schema.get("x-kubernetes-patch-strategy")
    if strategy is not None:
        out["strategy"] = strategy
        # The precedence of kyaml's ResourceSchema.PatchStrategyAndKeyList.
        if "x-kubernetes-list-map-keys" in schema:
            out["keys"] = list(schema["x-kubernetes-list-map-keys"])
        elif "x-kubernetes-patch-merge-key" in schema:
            out["keys"] = [schema["x-kubernetes-patch-merge-key"]]
        else:
            out["keys"] = []
    return out


def resource_types(definitions: dict[str, Any]) -> dict[str, dict[str, str]]:
    """apiVersion → kind → definition, from ``x-kubernetes-group-version-kind``."""
    types: dict[str, dict[str, str]] = {}
    for name in sorted(definitions):
        for gvk in definitions[name].get("x-kubernetes-group-version-kind", []):
            group, version = gvk.get("group", ""), gvk["version"]
            api_version = f"{group}/{version}" if group else version
            types.setdefault(api_version, {})[gvk["kind"]] = name
    return {v: dict(sorted(kinds.items())) for v, kinds in sorted(types.items())}


def main(argv: list[str]) -> int:
    kyaml = (
        Path(argv[1])
        if len(argv) > 1
        else Path.home() / f"go/pkg/mod/sigs.k8s.io/kustomize/kyaml@{KYAML_VERSION}"
    )
    with gzip.open(kyaml / BUNDLE, "rt") as f:
        definitions: dict[str, Any] = json.load(f)["definitions"]
    kustomization = json.loads((kyaml / KUSTOMIZATION_SWAGGER).read_text())
    definitions = {**definitions, **kustomization["definitions"]}
    table = {
        "source": f"sigs.k8s.io/kustomize/kyaml@{KYAML_VERSION}",
        "definitions": {name: compact(definitions[name]) for name in sorted(definitions)},
        "resources": resource_types(definitions),
    }
    OUTPUT.write_text(json.dumps(table, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
