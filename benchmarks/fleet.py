"""The fleet the fleet benchmarks share: one hakobu fleet of N instances and the same fleet
as kustomize is used for it.

``generate`` writes a project with one fleet (``apps/shops``: a template of a Deployment, a
Service and a ConfigMap; one instance file per shop with its own host, replica count, image
version and tier) and, for the peer, a base and one overlay per instance (name suffix,
label, replicas, image tag, a ConfigMap patch) under ``kustomize/``. Both make the same
objects in namespace ``shops`` of environment ``production``.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from timing import run

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


def shop(i: int, version: str = "1.0", replicas: int | None = None) -> Shop:
    """Instance ``i``; ``replicas`` in place of its own count (1 to 3) when given."""
    name = f"shop-{i:05d}"
    count = 1 + i % 3 if replicas is None else replicas
    return Shop(name, f"{name}.example.com", count, version, "canary" if i < 50 else "stable")


def generate(root: Path, count: int, replicas: int | None = None) -> None:
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
    for i in range(count):
        write_instance(root, shop(i, replicas=replicas))


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


def build_each(kustomize: str, root: Path, names: list[str], jobs: int) -> tuple[float, float, str]:
    """Seconds to build every overlay, one process each, ``jobs`` at a time, the CPU
    seconds of those processes, and their outputs joined by NUL."""

    def build(name: str) -> tuple[float, str]:
        done = run([kustomize, "build", f"overlays/{name}"], root / "kustomize")
        return done.cpu, done.stdout

    start = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        built = list(pool.map(build, names))
    return (
        time.perf_counter() - start,
        sum(cpu for cpu, _ in built),
        "\0".join(out for _, out in built),
    )
