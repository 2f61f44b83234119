"""Benchmark: ``hakobu controller``'s resident memory while it holds 50 Deliveries with
10,000 objects in all, and the time until all 50 are Ready.

One replica runs as a Pod runs it (tests/integration/controllerkit.py) on its own local
control plane, with the default 4 workers. One bare remote declares 50 environments, each
in its own namespace with 200 ConfigMaps (four apps of 50); one Delivery follows each.
Timed from the Deliveries created until every one is Ready at the commit; then the
replica keeps holding them (watching for drift) for ``--hold`` seconds. Memory is read from
``/proc/<pid>/status`` of the controller process: ``VmHWM`` (peak resident) and ``VmRSS``
(now), before the Deliveries exist and at the end. Every object is read back and compared
with what the commit declares. Target: peak < 250 MB (measured: 143 MB; 318 MB while
each Delivery's clone stayed open between passes, see docs/architecture.md).

    python benchmarks/controller_memory.py [--environments 50] [--objects 200]
                                           [--hold 30] [--state-dir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    # The controller is started with the integration tests' own helpers.
    sys.path.insert(0, str(ROOT))

from tests.integration.controllerkit import (  # noqa: E402
    ProjectRemote,
    create_delivery,
    install_rbac,
    start_controller,
    status,
    wait_until,
)
from tests.integration.test_sync import configmap  # noqa: E402

from hakobu.cluster.client import KubeClient  # noqa: E402
from hakobu.cluster.errors import NotFound  # noqa: E402
from hakobu.cluster.kubeconfig import load  # noqa: E402
from hakobu.localcluster import controlplane  # noqa: E402
from hakobu.model.usercache import cache_root  # noqa: E402
from hakobu.sync.ownership import ENVIRONMENT_LABEL, INVENTORY_LABEL, PROJECT_LABEL  # noqa: E402
from hakobu.sync.record import RECORD_LABEL  # noqa: E402

APPS = 4
TARGET_MB = 250


def memory(pid: int) -> dict[str, float]:
    """VmHWM and VmRSS of ``pid``, in MB."""
    found = {}
    for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            found[key] = int(value.split()[0]) / 1024  # kB
    return found


def ready(kube: KubeClient, home: str, names: list[str], sha: str) -> list[str]:
    """The Deliveries not yet Ready at ``sha``."""
    waiting = []
    for name in names:
        shown = status(kube, home, name)
        conditions = {c["type"]: c for c in shown.get("conditions") or []}
        if (
            shown.get("lastAppliedRevision") != sha
            or conditions.get("Ready", {}).get("status") != "True"
        ):
            waiting.append(name)
    return waiting


def check(kube: KubeClient, envs: dict[str, str], objects: int) -> int:
    """Every declared ConfigMap read back with exactly its declared data; how many."""
    checked = 0
    for env, ns in envs.items():
        selector = (
            f"{PROJECT_LABEL}=shop,{ENVIRONMENT_LABEL}={env},!{RECORD_LABEL},!{INVENTORY_LABEL}"
        )
        found = {
            o["metadata"]["name"]: o.get("data")
            for o in kube.list("v1", "ConfigMap", ns, label_selector=selector).items
        }
        expected = {f"c{k:03d}": {"env": env, "k": str(k)} for k in range(objects)}
        if found != expected:
            wrong = sorted(n for n in set(found) | set(expected) if found.get(n) != expected.get(n))
            raise SystemExit(f"{ns}: {len(wrong)} ConfigMaps differ from git, e.g. {wrong[:3]}")
        checked += len(found)
    return checked


def measure(
    kube: KubeClient, info: controlplane.ClusterInfo, tmp: Path, args: argparse.Namespace
) -> None:
    tag = uuid.uuid4().hex[:6]
    envs = {f"m{i:02d}": f"memory-{tag}-{i:02d}" for i in range(args.environments)}
    identity = install_rbac(kube, Path(info.kubeconfig), tmp / "serviceaccount")
    remote = ProjectRemote(tmp / "repo", envs)
    per_app = args.objects // APPS
    for env in envs:
        remote.declare(
            env,
            {
                f"app{a}": [
                    configmap(f"c{k:03d}", env=env, k=str(k))
                    for k in range(a * per_app, (a + 1) * per_app)
                ]
                for a in range(APPS)
            },
        )
    sha = remote.push("50 environments")
    home = f"memory-{tag}"
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": home}})
    controller = start_controller(info.server, identity, tmp / "controller")
    pid = controller.process.pid
    try:
        time.sleep(2)
        idle = memory(pid)
        started = time.monotonic()
        for env in envs:
            create_delivery(kube, home, env, repository={"url": str(remote.bare)}, environment=env)
        wait_until(
            "every Delivery is Ready",
            lambda: not ready(kube, home, list(envs), sha),
            seconds=1800,
        )
        took = time.monotonic() - started
        at_ready = memory(pid)
        time.sleep(args.hold)
        held = memory(pid)
        checked = check(kube, envs, APPS * per_app)
    finally:
        controller.stop()
        for ns in (*envs.values(), home):
            try:
                kube.delete("v1", "Namespace", ns, propagation="Background")
            except NotFound:  # an environment never synced has no namespace
                continue
    print(
        f"{len(envs)} Deliveries, {checked} ConfigMaps applied and checked; "
        f"all Ready {took:.1f}s after the Deliveries were created"
    )
    print(f"controller RSS before any Delivery: {idle['VmRSS']:.0f} MB")
    print(f"controller RSS when all were Ready: {at_ready['VmRSS']:.0f} MB")
    print(f"controller RSS after holding them {args.hold:.0f}s more: {held['VmRSS']:.0f} MB")
    print(f"controller peak RSS (VmHWM): {held['VmHWM']:.0f} MB (target < {TARGET_MB} MB)")
    if held["VmHWM"] >= TARGET_MB:
        raise SystemExit(f"peak {held['VmHWM']:.0f} MB misses the {TARGET_MB} MB target")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environments", type=int, default=50)
    parser.add_argument("--objects", type=int, default=200, help="ConfigMaps per environment")
    parser.add_argument("--hold", type=float, default=30.0)
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=cache_root() / "controller-memory-cluster",
        help="the control plane's own state directory, started here and stopped at the end",
    )
    args = parser.parse_args()
    controlplane.down(args.state_dir)
    info, _ = controlplane.up(args.state_dir, lambda m: print(f"[cluster] {m}", file=sys.stderr))
    tmp = Path(tempfile.mkdtemp(prefix="hakobu-memory-"))
    try:
        with KubeClient(load(Path(info.kubeconfig))) as kube:
            measure(kube, info, tmp, args)
    finally:
        controlplane.down(args.state_dir)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
