"""Benchmark: re-rendering one changed app of 1,000 against a full `kustomize build`.

Generates a project of N app specs and three environments, renders it once (cold), then
again with nothing changed, then after changing one app. For the peer, the same objects
are laid out as a kustomize tree (a base holding the rendered manifests, one overlay per
environment setting its namespace) and built by kustomize. (One `images` entry per app
would make kustomize quadratic — minutes per overlay — so the peer is given the easy shape.)

    python benchmarks/render_incremental.py [--apps 1000]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    tree = root / "kustomize"
    base = tree / "base"
    base.mkdir(parents=True)
    resources = []
    for app_dir in sorted((rendered / ENVIRONMENTS[0]).iterdir()):
        for file in sorted(app_dir.iterdir()):
            target = base / f"{app_dir.name}-{file.name}"
            shutil.copyfile(file, target)
            resources.append(f"- {target.name}")
    (base / "kustomization.yaml").write_text("resources:\n" + "\n".join(resources) + "\n")
    for env in ENVIRONMENTS:
        overlay = tree / env
        overlay.mkdir()
        (overlay / "kustomization.yaml").write_text(
            f"resources:\n- ../base\nnamespace: shop-{env}\n"
        )
    return tree


def run(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return time.perf_counter() - start


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
        full = sum(run([kustomize, "build", str(tree / env)], root) for env in ENVIRONMENTS)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"{args.apps} apps x {len(ENVIRONMENTS)} environments")
        print(f"  hakobu render, cold:              {cold:7.2f}s")
        print(f"  hakobu render, nothing changed:   {warm:7.2f}s")
        print(f"  hakobu render, one app changed:   {incremental:7.2f}s")
        print(f"  kustomize build, all overlays:    {full:7.2f}s")
        print(
            f"ratio kustomize full / hakobu incremental: {full / incremental:.0f}x "
            f"(target ≥ 100x); peak memory of the largest child {peak_mb:.0f} MB "
            "(target < 500 MB)"
        )
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
