"""Benchmark: a fleet of N instances synced by hakobu and by kustomize + `kubectl apply`.

The fleet of ``fleet_render.py`` (``fleet.py``: N instances of a Deployment, a Service and
a ConfigMap, one app per instance in hakobu, one overlay per instance for kustomize) in
namespace ``shops`` of a local control plane of its own. Each tool runs as its own process,
timed by the wall clock with its CPU time from ``wait4``, first into an empty namespace and
then again with nothing changed (a no-op):

- kustomize + kubectl: ``kustomize build`` of every overlay (one process each, as
  ``fleet_render.py`` runs them), the outputs fed to one ``kubectl apply --server-side -f
  -``: one apply request per object, no waiting. The build is timed once and counted in
  both the first and the no-op figure, since a pipeline builds before every apply;
- hakobu: ``hakobu sync production`` of the committed ``generated/production/`` (rendered
  beforehand, not timed): reads the project, applies only what differs from the cluster,
  waits until every object is Healthy, records the sync. The no-op is the best of three.

Before each tool's first apply the namespace is deleted and created again, so both start
from the same cluster; before each tool's no-op the controllers are left to write the status
of what was created, until no object has changed for 10 s, as a re-sync minutes later finds
the cluster (the Deployment controller takes minutes over 5,000 new Deployments). After
each tool the objects are read back from the API server and compared (``livestate.py``):
the benchmark fails if the tools leave different states.

Deployments have ``--replicas`` Pods (default 0 in place of the fleet's 1 to 3: 10,000 Pods
would share the machine's cores with the tools measured); hakobu waits for each Deployment
to be Available either way. ``--profile FILE`` runs one more no-op sync under cProfile.

    python benchmarks/fleet_sync.py [--instances 5000] [--replicas 0] [--jobs 2]
                                    [--state-dir DIR] [--profile FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from fleet import ENV, NAMESPACE, build_each, generate, git, shop
from livestate import (
    control_plane,
    create_namespaces,
    differences,
    kubectl_requests,
    read_back,
    reset_namespaces,
    settle,
    writes,
)
from timing import Run, compile_hakobu, run

from hakobu.cluster.client import KubeClient
from hakobu.cluster.kubeconfig import load
from hakobu.localcluster.gobuild import ensure_tool
from hakobu.localcluster.toolchain import KUBERNETES, KUSTOMIZE
from hakobu.model.usercache import cache_root


def kubectl_apply(kubectl: str, kubeconfig: str, manifests: Path, cwd: Path) -> tuple[Run, str]:
    done = run(
        [kubectl, "--kubeconfig", kubeconfig, "apply", "--server-side", "-v=6", "-f", "-"],
        cwd,
        stdin=manifests,
    )
    requests = kubectl_requests(done.stderr)
    return done, f"{sum(requests.values())} requests, {writes(requests)} writes"


def hakobu_sync(kubeconfig: str, root: Path, profile: Path | None = None) -> tuple[Run, str]:
    python = [sys.executable]
    if profile is not None:
        python += ["-m", "cProfile", "-o", str(profile)]
    done = run(
        [
            *python,
            "-m",
            "hakobu",
            "sync",
            ENV,
            "-C",
            str(root),
            "--kubeconfig",
            kubeconfig,
            "--timeout",
            "1800",
            "-o",
            "json",
        ],
        root,
    )
    result = json.loads(done.stdout)
    if result["result"] != "Succeeded":
        sys.exit(f"hakobu sync did not succeed: {done.stdout[-2000:]}")
    return done, f"{result['applied']} applied, {result['unchanged']} unchanged"


def figure(done: Run) -> str:
    return f"{done.seconds:8.2f}s  CPU {done.cpu:7.2f}s"


def measured(label: str, done: tuple[Run, str]) -> tuple[Run, str]:
    """``done``, said on stderr as it comes: a run of thousands of objects takes minutes."""
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"  {label}: {figure(done[0]).strip()}, {done[1]} (load {load})", file=sys.stderr)
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=5000)
    parser.add_argument("--replicas", type=int, default=0, help="Pods per Deployment")
    parser.add_argument("--jobs", type=int, default=2, help="kustomize builds run at a time")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=cache_root() / "bench-fleet-cluster",
        help="the control plane's own state directory, started here and stopped at the end "
        "(default: %(default)s)",
    )
    parser.add_argument("--profile", type=Path, help="cProfile output of one more no-op sync")
    args = parser.parse_args()
    say = lambda message: print(message, file=sys.stderr)  # noqa: E731
    kustomize = str(ensure_tool(KUSTOMIZE, say).binary("kustomize"))
    kubectl = str(ensure_tool(KUBERNETES, say).binary("kubectl"))
    compile_hakobu()
    root = Path(tempfile.mkdtemp(prefix="hakobu-fleet-sync-"))
    try:
        generate(root, args.instances, args.replicas)
        subprocess.run(git(root, "init", "-q"), check=True)
        # Rendered with a render cache of its own, thrown away with the project.
        subprocess.run(
            [sys.executable, "-m", "hakobu", "render"],
            stdout=subprocess.DEVNULL,
            cwd=root,
            env={**os.environ, "HAKOBU_CACHE_DIR": str(root / ".cache")},
            check=True,
        )
        (root / ".gitignore").write_text(".cache/\npeer.yaml\n")
        subprocess.run(git(root, "add", "-A"), check=True)
        subprocess.run(git(root, "commit", "-qm", "fleet"), check=True)
        say("building every overlay with kustomize")
        names = [shop(i).name for i in range(args.instances)]
        built, built_cpu, output = build_each(kustomize, root, names, args.jobs)
        say(f"  kustomize build, every overlay: {built:.2f}s, CPU {built_cpu:.2f}s")
        manifests = root / "peer.yaml"
        manifests.write_text("---\n".join(output.split("\0")))
        with (
            control_plane(args.state_dir) as kubeconfig,
            KubeClient(load(Path(kubeconfig))) as kube,
        ):
            create_namespaces(kube, [NAMESPACE])
            say("kubectl apply, first and no-op")
            k_first, k_first_says = measured(
                "kubectl first", kubectl_apply(kubectl, kubeconfig, manifests, root)
            )
            say(f"  settled in {settle(kube, NAMESPACE):.0f}s")
            k_again, k_again_says = measured(
                "kubectl no-op", kubectl_apply(kubectl, kubeconfig, manifests, root)
            )
            wanted = {
                (kind, NAMESPACE, f"shops-{name}")
                for name in names
                for kind in ("Deployment", "Service", "ConfigMap")
            }
            k_state = read_back(kube, wanted)
            reset = reset_namespaces(kube, [NAMESPACE])
            say("hakobu sync, first and three no-ops")
            h_first, h_first_says = measured("hakobu first", hakobu_sync(kubeconfig, root))
            say(f"  settled in {settle(kube, NAMESPACE):.0f}s")
            noops = [measured("hakobu no-op", hakobu_sync(kubeconfig, root)) for _ in range(3)]
            h_again, h_again_says = min(noops, key=lambda pair: pair[0].seconds)
            h_state = read_back(kube, wanted)
            if args.profile:
                hakobu_sync(kubeconfig, root, args.profile)
        problems = differences("hakobu", h_state, k_state)
        for problem in problems:
            print(f"FAIL: {problem}", file=sys.stderr)
        if problems:
            raise SystemExit(1)
        report(
            args,
            objects=len(k_state),
            build=(built, built_cpu),
            reset=reset,
            kubectl=(k_first, k_again, k_first_says, k_again_says),
            hakobu=(h_first, h_again, h_first_says, h_again_says),
            noops=[r for r, _ in noops],
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def report(
    args: argparse.Namespace,
    *,
    objects: int,
    build: tuple[float, float],
    reset: float,
    kubectl: tuple[Run, Run, str, str],
    hakobu: tuple[Run, Run, str, str],
    noops: list[Run],
) -> None:
    """Print the figures: wall clock and CPU of each tool, first and no-op, and the ratios."""
    load_average = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(
        f"fleet of {args.instances} instances, {objects} objects in namespace "
        f"{NAMESPACE}, {args.replicas} replicas each (load average {load_average})"
    )
    print(
        f"  kustomize build, every overlay ({args.jobs} at a time): {build[0]:.2f}s, "
        f"CPU {build[1]:.2f}s"
    )
    print(f"  namespace deleted and created again between the tools in {reset:.0f}s")
    print(f"{'':38}{'first':>10}{'':14}{'no-op':>10}")
    rows = (("kubectl apply --server-side", *kubectl), ("hakobu sync", *hakobu))
    k_first, k_again = kubectl[0], kubectl[1]
    h_first, h_again = hakobu[0], hakobu[1]
    for label, first, again, first_says, again_says in rows:
        print(
            f"  {label:<36}{figure(first)}  {figure(again)}   "
            f"first: {first_says}; no-op: {again_says}"
        )
    print(
        f"  {'kustomize build + kubectl apply':<36}"
        f"{build[0] + k_first.seconds:8.2f}s  CPU {build[1] + k_first.cpu:7.2f}s  "
        f"{build[0] + k_again.seconds:8.2f}s  CPU {build[1] + k_again.cpu:7.2f}s"
    )
    print(
        f"  hakobu sync no-op, each of three: "
        f"{' / '.join(f'{r.seconds:.2f}s' for r in noops)} (target < 2 s)"
    )
    print(f"same state: all {objects} objects read back equal after kubectl and hakobu")
    print(
        "ratio (wall) kubectl apply / hakobu sync: "
        f"first {k_first.seconds / h_first.seconds:.2f}x, "
        f"no-op {k_again.seconds / h_again.seconds:.2f}x; "
        "kustomize build + kubectl apply / hakobu sync: "
        f"first {(build[0] + k_first.seconds) / h_first.seconds:.2f}x, "
        f"no-op {(build[0] + k_again.seconds) / h_again.seconds:.2f}x"
    )


if __name__ == "__main__":
    main()
