"""Benchmark: a fleet of N instances rendered by hakobu and by kustomize overlays per instance.

Generates a project with one fleet (``apps/shops``: a template of a Deployment, a Service
and a ConfigMap; N instance files with their own host, replica count, image version and
tier) and, for the peer, the same fleet as kustomize is used for it: a base and one overlay
per instance (name suffix, label, replicas, image tag, a ConfigMap patch). Each tool runs
as its own process, timed by the wall clock, peak resident memory from ``wait4``:

- a full render (hakobu with an empty render cache) beside ``kustomize build`` of every
  overlay, one process each (one top kustomization listing 5,000 overlays takes kustomize
  far longer: its cost grows faster than the number of overlays);
- after changing one instance: ``hakobu render --commit`` (the cache reuses every other
  instance, the output record spares reading the environment back, the commit stages the
  changed files), beside ``kustomize build`` of that one overlay. Three instances are
  changed one after the other, each checked; the best of the three is the figure, all
  three are printed.

Wall clock and CPU time (user + system, from ``wait4``) are printed with the load average:
on a shared machine the CPU time is the steadier figure.

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
from pathlib import Path
from typing import Any

import yaml
from fleet import ENV, build_each, generate, git, shop, write_instance
from timing import compile_hakobu, run

from hakobu.localcluster.gobuild import ensure_tool
from hakobu.localcluster.toolchain import KUSTOMIZE

Key = tuple[str, str, str]


def by_identity(documents: list[Any]) -> dict[Key, Any]:
    found: dict[Key, Any] = {}
    for doc in documents:
        if doc:
            meta = doc["metadata"]
            found[(doc["kind"], meta.get("namespace", ""), meta["name"])] = doc
    return found


def compare(peer_output: str, generated: Path, when: str) -> None:
    peer = by_identity(
        [
            doc
            for part in peer_output.split("\0")
            for doc in yaml.load_all(part, Loader=yaml.CSafeLoader)
        ]
    )
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=5000)
    parser.add_argument(
        "--jobs", type=int, default=1, help="kustomize builds run at a time (hakobu uses one)"
    )
    args = parser.parse_args()
    kustomize = str(ensure_tool(KUSTOMIZE, print).binary("kustomize"))
    hakobu = shutil.which("hakobu") or sys.exit("hakobu is not on PATH (activate .venv)")
    compile_hakobu()
    root = Path(tempfile.mkdtemp(prefix="hakobu-fleet-bench-"))
    # An empty render cache: the first render is cold.
    cache = Path(tempfile.mkdtemp(prefix="hakobu-fleet-cache-"))
    os.environ["HAKOBU_CACHE_DIR"] = str(cache)
    try:
        generate(root, args.instances)
        subprocess.run(git(root, "init", "-q"), check=True)
        cold = run([hakobu, "render"], root)
        names = [shop(i).name for i in range(args.instances)]
        peer_full, _, peer_output = build_each(kustomize, root, names, args.jobs)
        compare(peer_output, root / "generated" / ENV, "after the full render")
        subprocess.run(git(root, "add", "-A"), check=True)
        subprocess.run(git(root, "commit", "-qm", "fleet"), check=True)
        subprocess.run(git(root, "config", "user.name", "bench"), check=True)
        subprocess.run(git(root, "config", "user.email", "b@example.com"), check=True)
        # One render after the commit, as a user's next render after a clone: it records
        # what the output holds (the first render of a work tree reads it all).
        run([hakobu, "render"], root)

        # Three changes, each of another instance, as a person makes them one after the
        # other; the best is the figure (the machine's speed varies from run to run).
        others = peer_output.split("\0")
        incremental = []
        for n, index in enumerate((args.instances // 2, args.instances // 3, args.instances // 5)):
            changed = shop(index, version=f"1.{n + 1}")
            write_instance(root, changed)
            incremental.append(run([hakobu, "render", "--commit"], root))
            committed = subprocess.run(
                git(root, "show", "--name-only", "--format=", "HEAD"),
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            if len(committed) != 2:
                sys.exit(f"FAIL: the commit holds {committed}, not the instance and its output")
            peer_one = run([kustomize, "build", f"overlays/{changed.name}"], root / "kustomize")
            others[index] = peer_one.stdout
            compare("\0".join(others), root / "generated" / ENV, "after one instance changed")
        best = min(incremental, key=lambda r: r.seconds)

        objects = 3 * args.instances
        load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
        print(
            f"fleet of {args.instances} instances, {objects} objects, one environment "
            f"(load average {load})"
        )
        print("  hakobu:    `hakobu render` of apps/shops (template + one file per instance)")
        print(
            "  kustomize: `kustomize build` of each instance's overlay over one base, one "
            f"process per overlay, {args.jobs} at a time"
        )
        print(
            f"  hakobu render, full (cold cache):        {cold.seconds:7.2f}s "
            f"{cold.peak_mb:5.0f} MB"
        )
        print(f"  kustomize build, every overlay:          {peer_full:7.2f}s")
        print(
            f"  hakobu render --commit, one changed:     {best.seconds:7.2f}s "
            f"{best.peak_mb:5.0f} MB, CPU {best.cpu:.2f}s (target < 1 s; best of "
            f"{' / '.join(f'{r.seconds:.2f}s CPU {r.cpu:.2f}s' for r in incremental)})"
        )
        print(
            f"  kustomize build, the changed overlay:    {peer_one.seconds:7.2f}s "
            "(a pipeline must know which one changed)"
        )
        print(
            f"ratio full: kustomize / hakobu {peer_full / cold.seconds:.1f}x; "
            f"one changed: kustomize every overlay / hakobu "
            f"{peer_full / best.seconds:.1f}x, kustomize the one overlay / hakobu "
            f"{peer_one.seconds / best.seconds:.2f}x"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
