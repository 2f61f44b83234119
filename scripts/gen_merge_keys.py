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

from hakobu.render.patch.schema import compact, resource_types

KYAML_VERSION = "v0.21.2"
BUNDLE = "openapi/kubernetesapi/data/kubernetes-openapi-union-v1.21.2.bundle-v1.json.gz"
KUSTOMIZATION_SWAGGER = "openapi/kustomizationapi/swagger.json"
OUTPUT = Path(__file__).resolve().parent.parent / "src/hakobu/render/patch/openapi_merge.json"


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
