"""Benchmark: `hakobu build` against `kustomize build` on the same synthetic tree.

The tree has N services. Each service is a Deployment (env, envFrom and a volume referring
to a generated ConfigMap) and a Service, in one base. Two overlays add a namespace, a name
prefix, labels, one `images` entry per service, replicas, a merge generator, a strategic-
merge patch on every Deployment, a JSON 6902 patch on every Service, a component and a
replacement. Both tools build both overlays; outputs must be identical.

    python benchmarks/kustomize_build.py [--services 400] [--keep DIR] [--repeat N]
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

OVERLAYS = ("staging", "production")


def generate(root: Path, services: int) -> None:
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
    component = root / "components" / "tracing"
    component.mkdir(parents=True)
    (component / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        'commonAnnotations:\n  tracing.example.com/enabled: "true"\n'
    )
    for overlay in OVERLAYS:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=400)
    parser.add_argument("--keep", type=Path, help="generate here and keep the tree")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per tool and overlay; the best time counts"
    )
    args = parser.parse_args()
    kustomize = str(ensure_tool(KUSTOMIZE, print).binary("kustomize"))
    hakobu = shutil.which("hakobu") or sys.exit("hakobu is not on PATH (activate .venv)")
    root = args.keep or Path(tempfile.mkdtemp(prefix="hakobu-bench-"))
    generate(root, args.services)
    print(f"{args.services} services, {len(OVERLAYS)} overlays in {root}, best of {args.repeat}")
    totals = {"kustomize": 0.0, "hakobu": 0.0}
    peaks = {"kustomize": 0.0, "hakobu": 0.0}
    for overlay in OVERLAYS:
        directory = str(root / "overlays" / overlay)
        k_runs = timed([kustomize, "build", directory], args.repeat)
        h_runs = timed([hakobu, "build", directory], args.repeat)
        if k_runs.output != h_runs.output:
            sys.exit(f"outputs differ for overlay {overlay}: hakobu is not compatible here")
        documents = k_runs.output.count("\n---\n") + 1
        print(
            f"  {overlay:<11} {documents} objects  kustomize {k_runs.best:7.2f}s  "
            f"hakobu {h_runs.best:6.2f}s  ratio {k_runs.best / h_runs.best:6.1f}x  "
            f"(peak memory: kustomize {k_runs.peak_mb:.0f} MB, hakobu {h_runs.peak_mb:.0f} MB)"
        )
        totals["kustomize"] += k_runs.best
        totals["hakobu"] += h_runs.best
        peaks["kustomize"] = max(peaks["kustomize"], k_runs.peak_mb)
        peaks["hakobu"] = max(peaks["hakobu"], h_runs.peak_mb)
    print(
        f"total: kustomize {totals['kustomize']:.2f}s, hakobu {totals['hakobu']:.2f}s, "
        f"ratio {totals['kustomize'] / totals['hakobu']:.1f}x (target ≥ 30x at 400 services); "
        f"peak memory: kustomize {peaks['kustomize']:.0f} MB, hakobu {peaks['hakobu']:.0f} MB"
    )
    if args.keep is None:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
