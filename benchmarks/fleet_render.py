"""Benchmark: a fleet of N instances rendered by hakobu and by kustomize overlays per instance.

Generates a project with one fleet (``apps/shops``: a template of a Deployment, a Service
and a ConfigMap; N instance files with their own host, replica count, image version and
tier) and, for the peer, the same fleet as kustomize is used for it: a base and one overlay
per instance (name suffix, label, replicas, image tag, a ConfigMap patch), with a top
kustomization listing every overlay. Each tool runs as its own process, timed by the wall
clock, peak resident memory from ``wait4``:

- a full render (hakobu with an empty render cache) beside ``kustomize build`` of the top;
- after changing one instance: ``hakobu render`` (the cache reuses every other instance)
  and the ``git commit`` of its result, beside ``kustomize build`` of the top (what a
  pipeline that commits the rendered fleet must run) and of that one overlay alone.

kustomize's output is parsed and must equal, object for object, what hakobu wrote to
``generated/<env>/``, after the full build and again after the change.

    python benchmarks/fleet_render.py [--instances 5000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hakobu.localcluster.gobuild import ensure_tool
from hakobu.localcluster.toolchain import KUSTOMIZE

ENV = "production"
NAMESPACE = "shops"

TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ app }}
  labels: {instance: {{ instance }}}
spec:
  replicas: {{ values.replicas }}
  selector:
    matchLabels: {instance: {{ instance }}}
  template:
    metadata:
      labels: {instance: {{ instance }}}
    spec:
      containers:
      - name: shop
        image: registry.example.com/shop:{{ values.version }}
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: {{ app }}
  labels: {instance: {{ instance }}}
spec:
  selector: {instance: {{ instance }}}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ app }}
  labels: {instance: {{ instance }}}
data:
  host: {{ values.host }}
  tier: {{ tier }}
"""

BASE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shops
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: shop
        image: registry.example.com/shop:1.0
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: shops
spec:
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: shops
data:
  host: example.com
  tier: stable
"""


@dataclass(frozen=True)
class Shop:
    name: str
    host: str
    replicas: int
    version: str
    tier: str


def shop(i: int, version: str = "1.0") -> Shop:
    name = f"shop-{i:05d}"
    return Shop(name, f"{name}.example.com", 1 + i % 3, version, "canary" if i < 50 else "stable")


def generate(root: Path, count: int) -> None:
    (root / "hakobu.yaml").write_text(
        "apiVersion: hakobu.dev/v1alpha1\nkind: Project\nname: shops\n"
        f"environments:\n  {ENV}:\n    namespace: {NAMESPACE}\n"
    )
    fleet = root / "apps" / "shops"
    (fleet / "template").mkdir(parents=True)
    (fleet / "instances").mkdir()
    (fleet / "fleet.yaml").write_text(
        "tiers: [canary, stable]\nvalues:\n  host: example.com\n  replicas: 1\n  version: '1.0'\n"
    )
    (fleet / "template" / "shop.yaml.j2").write_text(TEMPLATE)
    peer = root / "kustomize"
    (peer / "base").mkdir(parents=True)
    (peer / "base" / "shop.yaml").write_text(BASE)
    (peer / "base" / "kustomization.yaml").write_text("resources:\n- shop.yaml\n")
    (peer / "all").mkdir()
    (peer / "all" / "kustomization.yaml").write_text(
        "resources:\n" + "".join(f"- ../overlays/{shop(i).name}\n" for i in range(count))
    )
    for i in range(count):
        write_instance(root, shop(i))


def write_instance(root: Path, s: Shop) -> None:
    (root / "apps" / "shops" / "instances" / f"{s.name}.yaml").write_text(
        f"tier: {s.tier}\nvalues:\n  host: {s.host}\n  replicas: {s.replicas}\n"
        f"  version: '{s.version}'\n"
    )
    overlay = root / "kustomize" / "overlays" / s.name
    overlay.mkdir(parents=True, exist_ok=True)
    (overlay / "kustomization.yaml").write_text(
        f"""\
resources:
- ../../base
nameSuffix: -{s.name}
namespace: {NAMESPACE}
labels:
- pairs: {{instance: {s.name}}}
  includeSelectors: true
  includeTemplates: true
replicas:
- name: shops
  count: {s.replicas}
images:
- name: registry.example.com/shop
  newTag: '{s.version}'
patches:
- patch: |
    apiVersion: v1
    kind: ConfigMap
    metadata: {{name: shops}}
    data: {{host: {s.host}, tier: {s.tier}}}
"""
    )


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    stdout: str


def run(command: list[str], cwd: Path) -> Run:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        # wait4 reports the peak memory of this one process, not of all children.
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            sys.exit(f"{' '.join(command)} failed:\n{err.read().decode()[-2000:]}")
        out.seek(0)
        # ru_maxrss is in KiB on Linux.
        return Run(elapsed, usage.ru_maxrss / 1024, out.read().decode())


Key = tuple[str, str, str]


def by_identity(documents: list[Any]) -> dict[Key, Any]:
    found: dict[Key, Any] = {}
    for doc in documents:
        if doc:
            meta = doc["metadata"]
            found[(doc["kind"], meta.get("namespace", ""), meta["name"])] = doc
    return found


def compare(peer_output: str, generated: Path, when: str) -> None:
    peer = by_identity(list(yaml.load_all(peer_output, Loader=yaml.CSafeLoader)))
    documents: list[Any] = []
    for file in sorted(generated.rglob("*.yaml")):
        documents.extend(yaml.load_all(file.read_text(), Loader=yaml.CSafeLoader))
    ours = by_identity(documents)
    if peer != ours:
        only = sorted(peer.keys() ^ ours.keys())
        differing = sorted(key for key in peer.keys() & ours.keys() if peer[key] != ours[key])
        sys.exit(
            f"FAIL {when}: kustomize and hakobu built different objects: {len(only)} on one "
            f"side only (e.g. {only[:2]}), {len(differing)} differing (e.g. {differing[:2]})"
        )
    print(
        f"  same objects {when}: kustomize's output parses equal to generated/{ENV}/ "
        f"({len(ours)} objects)"
    )


def git(root: Path, *words: str) -> list[str]:
    return [
        "git",
        "-C",
        str(root),
        "-c",
        "user.name=bench",
        "-c",
        "user.email=b@example.com",
        *words,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=5000)
    args = parser.parse_args()
    kustomize = str(ensure_tool(KUSTOMIZE, print).binary("kustomize"))
    hakobu = shutil.which("hakobu") or sys.exit("hakobu is not on PATH (activate .venv)")
    root = Path(tempfile.mkdtemp(prefix="hakobu-fleet-bench-"))
    # An empty render cache: the first render is cold.
    cache = Path(tempfile.mkdtemp(prefix="hakobu-fleet-cache-"))
    os.environ["HAKOBU_CACHE_DIR"] = str(cache)
    try:
        generate(root, args.instances)
        subprocess.run(git(root, "init", "-q"), check=True)
        cold = run([hakobu, "render"], root)
        peer_full = run([kustomize, "build", "all"], root / "kustomize")
        compare(peer_full.stdout, root / "generated" / ENV, "after the full render")
        subprocess.run(git(root, "add", "-A"), check=True)
        subprocess.run(git(root, "commit", "-qm", "fleet"), check=True)

        changed = shop(args.instances // 2, version="1.1")
        write_instance(root, changed)
        start = time.perf_counter()
        incremental = run([hakobu, "render"], root)
        commit = run(git(root, "commit", "-qam", f"{changed.name}: 1.1"), root)
        render_and_commit = time.perf_counter() - start
        peer_again = run([kustomize, "build", "all"], root / "kustomize")
        peer_one = run([kustomize, "build", f"overlays/{changed.name}"], root / "kustomize")
        compare(peer_again.stdout, root / "generated" / ENV, "after one instance changed")

        objects = len(by_identity(list(yaml.load_all(peer_full.stdout, Loader=yaml.CSafeLoader))))
        print(f"fleet of {args.instances} instances, {objects} objects, one environment")
        print("  hakobu:    `hakobu render` of apps/shops (template + one file per instance)")
        print(
            "  kustomize: `kustomize build` of a top kustomization listing one overlay per "
            "instance over one base"
        )
        print(
            f"  hakobu render, full (cold cache):        {cold.seconds:7.2f}s "
            f"{cold.peak_mb:5.0f} MB"
        )
        print(
            f"  kustomize build, all overlays:           {peer_full.seconds:7.2f}s "
            f"{peer_full.peak_mb:5.0f} MB"
        )
        print(
            f"  hakobu render, one instance changed:     {incremental.seconds:7.2f}s "
            f"{incremental.peak_mb:5.0f} MB (target < 1 s)"
        )
        print(
            f"  hakobu render + git commit, one changed: {render_and_commit:7.2f}s "
            f"(commit alone {commit.seconds:.2f}s)"
        )
        print(f"  kustomize build, all, one changed:       {peer_again.seconds:7.2f}s")
        print(f"  kustomize build, the changed overlay:    {peer_one.seconds:7.2f}s")
        print(
            f"ratio full: kustomize / hakobu {peer_full.seconds / cold.seconds:.1f}x; "
            f"one changed: kustomize all / hakobu {peer_again.seconds / incremental.seconds:.1f}x, "
            f"kustomize one overlay / hakobu {peer_one.seconds / incremental.seconds:.2f}x"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
