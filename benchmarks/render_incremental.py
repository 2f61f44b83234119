"""Benchmark: re-rendering one changed app of 1,000 against a full `kustomize build`.

Generates a project of N app specs and three environments, renders it once (cold), then
again with nothing changed, then after changing one app. For the peer, the same objects
are laid out as a kustomize tree: a base holding the manifests hakobu rendered for the
first environment, another with production's (whose autoscaling differs), and one overlay
per environment setting its namespace. (One `images` entry per app, or even one patch
targeting every HorizontalPodAutoscaler for production's override, makes kustomize take
minutes per overlay, so the peer is given the easy shape: it only reads and re-namespaces
finished manifests.) Every tool runs as its own process, timed by the wall clock, its
peak resident memory read with ``wait4`` for exactly that process. kustomize's output for
each environment is parsed and must equal, object for object, what hakobu wrote to
``generated/<env>/``: both sides build the same objects.

    python benchmarks/render_incremental.py [--apps 1000]
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

ENVIRONMENTS = ("development", "evaluation", "production")


def generate(root: Path, apps: int) -> None:
    environments = "".join(f"  {env}:\n    namespace: shop-{env}\n" for env in ENVIRONMENTS)
    (root / "hakobu.yaml").write_text(
        f"apiVersion: hakobu.dev/v1alpha1\nkind: Project\nname: shop\nenvironments:\n{environments}"
    )
    (root / "apps").mkdir()
    for i in range(apps):
        write_app(root, i, "1.0.0")


def write_app(root: Path, i: int, tag: str) -> None:
    (root / "apps" / f"app-{i:04d}.yaml").write_text(
        f"""\
name: app-{i:04d}
image: registry.example.com/shop/app-{i:04d}:{tag}
ports:
- name: http
  port: 80
  targetPort: 8080
env:
  LOG_LEVEL: info
resources:
  requests: {{cpu: 100m, memory: 128Mi}}
autoscaling: {{minReplicas: 2, maxReplicas: 6}}
environments:
  production:
    autoscaling: {{minReplicas: 3, maxReplicas: 12}}
"""
    )


def kustomize_tree(root: Path, rendered: Path) -> Path:
    """A base of pre-rendered manifests per distinct rendering (production's autoscaling
    differs), one overlay per environment setting its namespace."""
    tree = root / "kustomize"
    for base, env in (("base", ENVIRONMENTS[0]), ("base-production", "production")):
        directory = tree / base
        directory.mkdir(parents=True)
        resources = []
        for app_dir in sorted((rendered / env).iterdir()):
            for file in sorted(app_dir.iterdir()):
                target = directory / f"{app_dir.name}-{file.name}"
                shutil.copyfile(file, target)
                resources.append(f"- {target.name}")
        (directory / "kustomization.yaml").write_text("resources:\n" + "\n".join(resources) + "\n")
    for env in ENVIRONMENTS:
        overlay = tree / env
        overlay.mkdir()
        base = "base-production" if env == "production" else "base"
        (overlay / "kustomization.yaml").write_text(
            f"resources:\n- ../{base}\nnamespace: shop-{env}\n"
        )
    return tree


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
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
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


def rendered_objects(directory: Path) -> dict[Key, Any]:
    documents: list[Any] = []
    for file in sorted(directory.rglob("*.yaml")):
        documents.extend(yaml.safe_load_all(file.read_text()))
    return by_identity(documents)


def compare(env: str, peer_output: str, generated: Path) -> list[str]:
    peer = by_identity(list(yaml.safe_load_all(peer_output)))
    ours = rendered_objects(generated / env)
    if peer == ours:
        return []
    only = sorted(peer.keys() ^ ours.keys())
    differing = sorted(key for key in peer.keys() & ours.keys() if peer[key] != ours[key])
    return [
        f"{env}: kustomize and hakobu built different objects: {len(only)} on one side only "
        f"(e.g. {only[:2]}), {len(differing)} differing (e.g. {differing[:2]})"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=1000)
    args = parser.parse_args()
    kustomize = str(ensure_tool(KUSTOMIZE, print).binary("kustomize"))
    hakobu = shutil.which("hakobu") or sys.exit("hakobu is not on PATH (activate .venv)")
    root = Path(tempfile.mkdtemp(prefix="hakobu-render-bench-"))
    try:
        generate(root, args.apps)
        cold = run([hakobu, "render"], root)
        warm = run([hakobu, "render"], root)
        write_app(root, args.apps // 2, "1.0.1")
        incremental = run([hakobu, "render"], root)
        tree = kustomize_tree(root, root / "generated")
        builds = {env: run([kustomize, "build", str(tree / env)], root) for env in ENVIRONMENTS}
        full = sum(build.seconds for build in builds.values())
        problems = [
            problem
            for env, build in builds.items()
            for problem in compare(env, build.stdout, root / "generated")
        ]
        hakobu_mb = max(r.peak_mb for r in (cold, warm, incremental))
        kustomize_mb = max(build.peak_mb for build in builds.values())
        print(f"{args.apps} apps x {len(ENVIRONMENTS)} environments")
        print(
            "  hakobu:    `hakobu render`: turns each app spec into a Deployment, Service and "
            "HPA per environment, re-rendering only apps whose inputs changed"
        )
        print(
            f"  kustomize: `kustomize build` of each overlay: reads the {3 * args.apps} "
            "manifests hakobu rendered (its base), sets the namespace"
        )
        print(f"  hakobu render, cold:              {cold.seconds:7.2f}s  {cold.peak_mb:5.0f} MB")
        print(f"  hakobu render, nothing changed:   {warm.seconds:7.2f}s  {warm.peak_mb:5.0f} MB")
        print(
            f"  hakobu render, one app changed:   {incremental.seconds:7.2f}s  "
            f"{incremental.peak_mb:5.0f} MB"
        )
        print(f"  kustomize build, all overlays:    {full:7.2f}s  {kustomize_mb:5.0f} MB (peak)")
        for problem in problems:
            print(f"FAIL: {problem}", file=sys.stderr)
        if problems:
            sys.exit(1)
        print(
            f"same objects: kustomize's output parses equal to generated/<env>/ for all "
            f"{len(ENVIRONMENTS)} environments"
        )
        print(
            f"ratio kustomize full / hakobu incremental: {full / incremental.seconds:.0f}x "
            f"(target ≥ 100x); kustomize full / hakobu cold: {full / cold.seconds:.1f}x; "
            f"hakobu's peak memory {hakobu_mb:.0f} MB (target < 500 MB)"
        )
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
