"""Benchmark: `hakobu build` against `kustomize build` on the same synthetic tree.

The tree has N services. Each service is a Deployment (env, envFrom and a volume referring
to a generated ConfigMap) and a Service, in one base. Overlays on it, by shape:

- transformers: two overlays add a namespace, a name prefix, labels, one `images` entry per
  service, replicas, a merge generator, a strategic-merge patch on every Deployment, a JSON
  6902 patch on every Service, a component and a replacement;
- patches: one strategic-merge patch file per service, in one overlay as `patches:` entries
  targeted by kind and name, in the other as `patchesStrategicMerge` (the patch's own
  identity is its target), plus a namespace, a name prefix and one `images` entry;
- workloads: one overlay with a namespace, a name prefix, labels, an annotation, one patch
  for all Deployments and one `images` entry, nothing per service, so kustomize runs none
  of the per-entry passes over all resources (one per `images` entry, one per patch) that
  make its cost grow with the square of the services. Its cost still grows faster than
  the services here: plain resources and one generator per service already do.

kustomize needs minutes for the patches shape at 800 services.

Both tools build every overlay as whole processes; outputs must be byte-identical.

Every shape runs by default, with a summary table of the ratios at the end.

    python benchmarks/kustomize_build.py [--shape patches] [--services 200 800]
                                         [--keep DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from hakobu.localcluster.gobuild import ensure_tool
from hakobu.localcluster.toolchain import KUSTOMIZE

SHAPES = ("transformers", "patches", "workloads")
# Per shape: the overlays, and the service counts measured when none are given.
OVERLAYS = {
    "transformers": ("staging", "production"),
    "patches": ("by-target", "by-identity"),
    "workloads": ("workloads",),
}
DEFAULT_SERVICES = {"transformers": (400,), "patches": (200, 800), "workloads": (200, 800)}


def generate(root: Path, services: int, shape: str = "transformers") -> None:
    _generate_base(root, services)
    if shape == "transformers":
        _generate_transformer_overlays(root, services)
    elif shape == "patches":
        _generate_patch_overlays(root, services)
    else:
        _generate_workloads_overlay(root)


def _generate_base(root: Path, services: int) -> None:
    base = root / "base"
    base.mkdir(parents=True)
    resources, generators = [], []
    for i in range(services):
        name = f"svc-{i:04d}"
        (base / f"{name}.yaml").write_text(_service_manifests(name))
        resources.append(f"- {name}.yaml")
        generators.append(
            f"- name: {name}-config\n  literals:\n  - LOG_LEVEL=info\n  - SERVICE={name}"
        )
    (base / "kustomization.yaml").write_text(
        "resources:\n"
        + "\n".join(resources)
        + "\nconfigMapGenerator:\n"
        + "\n".join(generators)
        + "\n"
    )


def _generate_transformer_overlays(root: Path, services: int) -> None:
    component = root / "components" / "tracing"
    component.mkdir(parents=True)
    (component / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        'commonAnnotations:\n  tracing.example.com/enabled: "true"\n'
    )
    for overlay in OVERLAYS["transformers"]:
        directory = root / "overlays" / overlay
        directory.mkdir(parents=True)
        images = "\n".join(
            f"- name: registry.example.com/svc-{i:04d}\n  newTag: {overlay}-{i}"
            for i in range(services)
        )
        replicas = "\n".join(
            f"- name: svc-{i:04d}\n  count: {2 + i % 3}" for i in range(0, services, 10)
        )
        (directory / "kustomization.yaml").write_text(
            f"""\
resources:
- ../../base
components:
- ../../components/tracing
namespace: shop-{overlay}
namePrefix: {overlay[:4]}-
labels:
- pairs:
    environment: {overlay}
  includeSelectors: false
  includeTemplates: true
images:
{images}
replicas:
{replicas}
configMapGenerator:
- name: svc-0000-config
  behavior: merge
  literals:
  - LOG_LEVEL=debug
- name: release
  literals:
  - VERSION={overlay}-2026.11
patches:
- target:
    kind: Deployment
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: any
    spec:
      template:
        spec:
          containers:
          - name: app
            resources:
              limits:
                memory: 256Mi
- target:
    kind: Service
  patch: |-
    - op: add
      path: /metadata/annotations
      value:
        monitoring.example.com/scrape: "true"
replacements:
- source:
    kind: ConfigMap
    name: release
    fieldPath: data.VERSION
  targets:
  - select:
      kind: Deployment
    fieldPaths:
    - spec.template.metadata.annotations.release
    options:
      create: true
"""
        )


def _generate_patch_overlays(root: Path, services: int) -> None:
    names = [f"svc-{i:04d}" for i in range(services)]
    for overlay in OVERLAYS["patches"]:
        directory = root / "overlays" / overlay
        (directory / "patches").mkdir(parents=True)
        for i, name in enumerate(names):
            (directory / "patches" / f"{name}.yaml").write_text(_deployment_patch(name, i))
        if overlay == "by-target":
            listed = "patches:\n" + "".join(
                f"- path: patches/{name}.yaml\n  target:\n    kind: Deployment\n    name: {name}\n"
                for name in names
            )
        else:
            listed = "patchesStrategicMerge:\n" + "".join(
                f"- patches/{name}.yaml\n" for name in names
            )
        (directory / "kustomization.yaml").write_text(
            f"resources:\n- ../../base\nnamespace: shop\nnamePrefix: {overlay[:2]}-\n"
            "images:\n- name: registry.example.com/svc-0000\n  newTag: release-0\n" + listed
        )


def _generate_workloads_overlay(root: Path) -> None:
    directory = root / "overlays" / "workloads"
    directory.mkdir(parents=True)
    (directory / "kustomization.yaml").write_text(
        """\
resources:
- ../../base
namespace: shop
namePrefix: wl-
labels:
- pairs:
    environment: production
  includeTemplates: true
commonAnnotations:
  owner: platform
images:
- name: registry.example.com/svc-0000
  newTag: release-0
patches:
- target:
    kind: Deployment
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: any
    spec:
      template:
        spec:
          containers:
          - name: app
            resources:
              limits:
                memory: 256Mi
"""
    )


def _deployment_patch(name: str, index: int) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {1 + index % 4}
  template:
    spec:
      containers:
      - name: app
        env:
        - name: SHARD
          value: "{index % 16}"
        resources:
          limits:
            memory: {128 * (1 + index % 4)}Mi
"""


def _service_manifests(name: str) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app: {name}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
      - name: app
        image: registry.example.com/{name}:latest
        ports:
        - containerPort: 8080
        env:
        - name: LOG_LEVEL
          valueFrom:
            configMapKeyRef:
              name: {name}-config
              key: LOG_LEVEL
        envFrom:
        - configMapRef:
            name: {name}-config
        volumeMounts:
        - name: config
          mountPath: /etc/{name}
      volumes:
      - name: config
        configMap:
          name: {name}-config
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector:
    app: {name}
  ports:
  - port: 80
    targetPort: 8080
"""


@dataclass
class Runs:
    """Repeated runs of one command: the best time is the least disturbed by other load."""

    best: float = math.inf
    peak_mb: float = 0.0
    output: str = ""


def timed(command: list[str], repeat: int) -> Runs:
    runs = Runs()
    for _ in range(repeat):
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            process = subprocess.Popen(command, stdout=out, stderr=err)
            # wait4 reports the peak memory of this one process, not of all children.
            _, status, usage = os.wait4(process.pid, 0)
            elapsed = time.perf_counter() - start
            process.returncode = os.waitstatus_to_exitcode(status)
            if process.returncode != 0:
                err.seek(0)
                sys.exit(f"{' '.join(command[:2])} failed:\n{err.read().decode()[-2000:]}")
            out.seek(0)
            runs.output = out.read().decode()
        runs.best = min(runs.best, elapsed)
        runs.peak_mb = max(runs.peak_mb, usage.ru_maxrss / 1024)
    return runs


@dataclass
class Measured:
    """Both tools' best times over every overlay of one tree."""

    kustomize: float = 0.0
    hakobu: float = 0.0
    kustomize_mb: float = 0.0
    hakobu_mb: float = 0.0


def measure(kustomize: str, hakobu: str, root: Path, shape: str, repeat: int) -> Measured:
    measured = Measured()
    for overlay in OVERLAYS[shape]:
        directory = str(root / "overlays" / overlay)
        k_runs = timed([kustomize, "build", directory], repeat)
        h_runs = timed([hakobu, "build", directory], repeat)
        if k_runs.output != h_runs.output:
            sys.exit(f"outputs differ for overlay {overlay}: hakobu is not compatible here")
        documents = k_runs.output.count("\n---\n") + 1
        print(
            f"  {overlay:<11} {documents} objects  kustomize {k_runs.best:7.2f}s  "
            f"hakobu {h_runs.best:6.2f}s  ratio {k_runs.best / h_runs.best:6.1f}x  "
            f"(peak memory: kustomize {k_runs.peak_mb:.0f} MB, hakobu {h_runs.peak_mb:.0f} MB)"
        )
        measured.kustomize += k_runs.best
        measured.hakobu += h_runs.best
        measured.kustomize_mb = max(measured.kustomize_mb, k_runs.peak_mb)
        measured.hakobu_mb = max(measured.hakobu_mb, h_runs.peak_mb)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shape",
        choices=(*SHAPES, "all"),
        default="all",
        help="the overlays to build (default: every shape, one after the other)",
    )
    parser.add_argument(
        "--services",
        type=int,
        nargs="+",
        help="service counts to measure, one tree each (default: 400 for transformers, "
        "200 and 800 for patches and workloads)",
    )
    parser.add_argument("--keep", type=Path, help="generate under here and keep the trees")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per tool and overlay; the best time counts"
    )
    args = parser.parse_args()
    kustomize = str(ensure_tool(KUSTOMIZE, print).binary("kustomize"))
    hakobu = shutil.which("hakobu") or sys.exit("hakobu is not on PATH (activate .venv)")
    print(
        f"kustomize: `kustomize build OVERLAY` ({KUSTOMIZE.version}), hakobu: `hakobu build "
        "OVERLAY`; each a new process, outputs compared byte for byte"
    )
    shapes = SHAPES if args.shape == "all" else (args.shape,)
    summary: list[tuple[str, int, Measured]] = []
    for shape in shapes:
        counts: list[int] = args.services or list(DEFAULT_SERVICES[shape])
        results = measure_shape(
            kustomize, hakobu, shape, counts, keep=args.keep, repeat=args.repeat
        )
        summary += [(shape, services, m) for services, m in results.items()]
    print(f"{'shape':<13}{'services':>8}  {'kustomize':>9}  {'hakobu':>7}  {'ratio':>6}")
    for shape, services, m in summary:
        print(
            f"{shape:<13}{services:8d}  {m.kustomize:8.2f}s  {m.hakobu:6.2f}s  "
            f"{m.kustomize / m.hakobu:5.1f}x"
        )


def measure_shape(
    kustomize: str, hakobu: str, shape: str, counts: list[int], *, keep: Path | None, repeat: int
) -> dict[int, Measured]:
    results: dict[int, Measured] = {}
    for services in counts:
        parent = keep or Path(tempfile.mkdtemp(prefix="hakobu-bench-"))
        root = parent / f"{shape}-{services}"
        generate(root, services, shape)
        print(
            f"{shape}: {services} services, {len(OVERLAYS[shape])} overlays in "
            f"{root}, best of {repeat}"
        )
        m = results[services] = measure(kustomize, hakobu, root, shape, repeat)
        print(
            f"total: kustomize {m.kustomize:.2f}s, hakobu {m.hakobu:.2f}s, "
            f"ratio {m.kustomize / m.hakobu:.1f}x; "
            f"peak memory: kustomize {m.kustomize_mb:.0f} MB, hakobu {m.hakobu_mb:.0f} MB"
        )
        if keep is None:
            shutil.rmtree(parent)
    smallest, largest = min(results), max(results)
    if largest > smallest:
        growth = largest / smallest
        print(
            f"{growth:g}x the services: kustomize "
            f"{results[largest].kustomize / results[smallest].kustomize:.1f}x the time, "
            f"hakobu {results[largest].hakobu / results[smallest].hakobu:.1f}x "
            f"(linear would be {growth:g}x)"
        )
    return results


if __name__ == "__main__":
    main()
