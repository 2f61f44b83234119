"""Patches targeted by name cost the same per patch however many resources the build holds.

A kustomization with one patch per service is common (one file per service, listed under
``patches`` with a target, or under ``patchesStrategicMerge``). Finding each patch's
target by scanning all resources made such a build grow with the square of the services.
"""

from __future__ import annotations

import time
from pathlib import Path

from hakobu.model.objects import Object
from hakobu.render.inputs import REAL_FILES
from hakobu.render.kustomize import kustomization, patches
from hakobu.render.kustomize.loader import ROOT_ONLY, Loader

SMALL, LARGE = 50, 400


def _resources(services: int) -> list[Object]:
    objects: list[Object] = []
    for i in range(services):
        name = f"svc-{i:04d}"
        objects.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}})
        objects.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}})
    return objects


def _patch(kind: str, api_version: str, name: str, indent: str) -> str:
    lines = [
        f"apiVersion: {api_version}",
        f"kind: {kind}",
        "metadata:",
        f"  name: {name}",
        "  annotations:",
        '    patched: "yes"',
    ]
    return "".join(f"{indent}{line}\n" for line in lines)


def _kustomization(root: Path, services: int) -> kustomization.Kustomization:
    by_target = "".join(
        f"- target:\n    kind: Deployment\n    name: svc-{i:04d}\n  patch: |-\n"
        + _patch("Deployment", "apps/v1", "any", "    ")
        for i in range(services)
    )
    by_identity = "".join(
        "- |-\n" + _patch("Service", "v1", f"svc-{i:04d}", "  ") for i in range(services)
    )
    directory = root / str(services)
    directory.mkdir()
    (directory / "kustomization.yaml").write_text(
        f"patches:\n{by_target}patchesStrategicMerge:\n{by_identity}"
    )
    return kustomization.load(directory, REAL_FILES)


def _patch_seconds(root: Path, services: int) -> float:
    k = _kustomization(root, services)
    loader = Loader.top(k.file.parent, ROOT_ONLY, REAL_FILES)
    best = float("inf")
    for _ in range(3):
        resources = _resources(services)
        start = time.process_time()
        patches.apply_strategic_merge_entries(resources, k, loader)
        patches.apply_patch_entries(resources, k, loader)
        best = min(best, time.process_time() - start)
        assert all(obj["metadata"]["annotations"] == {"patched": "yes"} for obj in resources)
    return best


def test_patches_targeted_by_name_grow_linearly(tmp_path: Path) -> None:
    small, large = _patch_seconds(tmp_path, SMALL), _patch_seconds(tmp_path, LARGE)
    growth = LARGE // SMALL
    # Linear is 8x; a scan per patch is 64x. Three times linear leaves room for noise.
    assert large < 3 * growth * small, f"{LARGE} services took {large / small:.1f}x {SMALL}"
