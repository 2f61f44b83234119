"""A randomized fault campaign against three ``hakobu controller`` replicas.

Three replicas run as Pods run them (tests/integration/controllerkit.py) and share four
Deliveries, one per environment of one bare git remote, with ``prune: true``. Every round
pushes commits (each one rewrites every environment: a ConfigMap ``base`` always declared,
and a random subset of ``item-0`` … ``item-5``, all carrying the commit's number), sends
their signed push webhooks, and injects one fault, drawn with the seed:

- ``kill -9`` of a replica while it syncs (found by the environment lock it holds; when no
  sync is caught within a few seconds, the holder of a pushed Delivery's shard), a new
  replica started in its place;
- a restart of kube-apiserver (stopped and started again with the same command line);
- the git remote unreachable (its directory moved away, commits pushed there meanwhile);
- concurrent kubectl edits: threads patching what hakobu applied, deleting some of it,
  annotating the Deliveries and editing their specs.

Each draw of four is a shuffle of the four faults, so every fault comes once in four
rounds. Once the fault stops, every round checks:

1. nothing was deleted that git still declares or that hakobu does not own: ConfigMaps
   declared by every commit since the last check keep their UID, and ConfigMaps created
   beside them that hakobu does not own keep their UID and content;
2. no two syncs of one environment overlapped, from the sync records (``end`` = the time in
   the record's name, written once the sync's lock is released; ``start`` = end minus the
   sync's total duration);
3. every Delivery converges to the newest commit within ``BOUND`` seconds: its status names
   the commit and its namespace holds exactly what the commit declares.

It prints a row per round and then a table of faults injected and invariants held; it
exits 1 when an invariant failed. The control plane is its own (``--state-dir``) unless
the caller passes one in (the test suite's short version does).

    python scripts/fault_campaign.py [--rounds 100] [--seed 1] [--state-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    # The campaign runs its replicas with the integration tests' own helpers.
    sys.path.insert(0, str(ROOT))

from tests.integration.controllerkit import (  # noqa: E402
    SYSTEM,
    Controller,
    ProjectRemote,
    create_delivery,
    install_rbac,
    push_body,
    start_controller,
    status,
)
from tests.integration.test_sync import configmap  # noqa: E402

from hakobu.cluster.client import KubeClient  # noqa: E402
from hakobu.cluster.errors import ApiError, NotFound, Unreachable  # noqa: E402
from hakobu.cluster.kubeconfig import load  # noqa: E402
from hakobu.cluster.retry import Backoff, Retrying  # noqa: E402
from hakobu.controller.delivery import API_VERSION, RECONCILE_REQUESTED_AT, DeliveryRef  # noqa: E402
from hakobu.controller.install import release_deliveries  # noqa: E402
from hakobu.controller.sharding import shard_lease_name  # noqa: E402
from hakobu.controller.shards import shard_of  # noqa: E402
from hakobu.localcluster import controlplane  # noqa: E402
from hakobu.localcluster.controlplane import ClusterInfo  # noqa: E402
from hakobu.model.usercache import cache_root  # noqa: E402
from hakobu.sync.ownership import (  # noqa: E402
    ENVIRONMENT_LABEL,
    INVENTORY_LABEL,
    PROJECT_LABEL,
    RECORD_LABEL,
)

KILL = "kill -9 of a replica mid-sync"
APISERVER = "kube-apiserver restart"
UNREACHABLE = "git remote unreachable"
EDITS = "concurrent kubectl edits"
FAULTS = (KILL, APISERVER, UNREACHABLE, EDITS)

PRESERVED = "nothing deleted that git declares or hakobu does not own"
NO_OVERLAP = "no two overlapping syncs of one Delivery"
CONVERGED = "converged to the newest commit once faults stopped"
INVARIANTS = (PRESERVED, NO_OVERLAP, CONVERGED)

ENVIRONMENTS = 4
ITEMS = 6
REPLICAS = 3
SHARDS = 32
INTERVAL = "20s"
# A sync that waits on an object deleted under it (a kubectl delete just after the apply)
# waits until this timeout: ConfigMaps are Healthy at once, so it only bounds that case.
TIMEOUT = "30s"
# Once faults stop: a killed replica's shards are free a lease duration (15 s) after its
# last renewal, its sync lock too; a Delivery whose fetches failed retries after at most
# its interval (20 s); a sync stuck as above ends after its timeout (30 s), retried 2 s
# later. Their sum, with room for a loaded machine.
BOUND = 90.0

Log = Callable[[str], None]


@dataclass
class Round:
    number: int
    fault: str
    detail: str = ""
    commits: int = 0
    converged_in: float | None = None
    violations: dict[str, list[str]] = field(default_factory=dict)

    def fail(self, invariant: str, message: str) -> None:
        self.violations.setdefault(invariant, []).append(message)


@dataclass(frozen=True)
class Commit:
    number: int
    sha: str
    # Environment -> the ConfigMaps it declares.
    declared: dict[str, frozenset[str]]


class Campaign:
    def __init__(
        self,
        info: ClusterInfo,
        workdir: Path,
        seed: int,
        *,
        faults: tuple[str, ...] = FAULTS,
        log: Log = print,
    ) -> None:
        self.info, self.workdir, self.log = info, workdir, log
        self.faults = faults
        self.rng = random.Random(seed)  # noqa: S311 (a reproducible draw, not a secret)
        self.schedule: list[str] = []
        retry = Retrying(Backoff(patience=120.0))
        self.kube = KubeClient(load(Path(info.kubeconfig)), retry=retry)
        tag = uuid.uuid4().hex[:6]
        self.namespace = f"faults-{tag}"
        self.envs = {f"e{i}": f"faults-{tag}-e{i}" for i in range(ENVIRONMENTS)}
        self.remote = ProjectRemote(workdir / "repo", self.envs)
        self.away = workdir / "repo" / "remote.away"
        self.commits: list[Commit] = []
        self.checked = 0  # index into commits of the head at the last check
        self.replicas: list[Controller] = []
        self.started = 0
        self.identity = workdir / "serviceaccount"
        self.bystanders: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
        self.uids: dict[tuple[str, str], str] = {}
        self.deleted_by_hand: set[tuple[str, str]] = set()
        self.records: dict[str, dict[str, tuple[float, float]]] = {e: {} for e in self.envs}

    # -- set-up and tear-down --------------------------------------------------------------

    def setup(self) -> None:
        kubeconfig = Path(self.info.kubeconfig)
        install_rbac(self.kube, kubeconfig, self.identity)
        for ns in (self.namespace, *self.envs.values()):
            self.kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        # What someone else put beside hakobu's objects: never to be touched.
        for ns in (self.namespace, *self.envs.values()):
            for name, labels in (("bystander", {}), ("bystander-app", {"app": "base"})):
                obj = configmap(name, owner="someone else")
                obj["metadata"].update(namespace=ns, labels=labels)
                created = self.kube.create(obj)
                self.bystanders[(ns, name)] = (created["metadata"]["uid"], obj["data"])
        self.commit()
        for env in self.envs:
            create_delivery(
                self.kube,
                self.namespace,
                env,
                repository={"url": str(self.remote.bare)},
                environment=env,
                prune=True,
                interval=INTERVAL,
                timeout=TIMEOUT,
            )
        for _ in range(REPLICAS):
            self.start_replica()
        took = self.converge(BOUND * 2)
        if took is None:
            raise AssertionError(f"the first commit was not applied: {self.describe()}")
        self.check_uids(Round(0, "set-up"))
        self.log(f"set-up: {REPLICAS} replicas, {ENVIRONMENTS} Deliveries applied in {took:.1f}s")

    def close(self) -> None:
        if self.away.exists():
            self.away.rename(self.remote.bare)
        for replica in self.replicas:  # told together: each takes seconds to hand over
            replica.process.terminate()
        for replica in self.replicas:
            replica.stop()
        # No replica is left to let the Deliveries go when their namespace is deleted.
        release_deliveries(self.kube, lambda _: None, self.namespace)
        for ns in (self.namespace, *self.envs.values()):
            try:
                self.kube.delete("v1", "Namespace", ns, propagation="Background")
            except (NotFound, ApiError, Unreachable):
                continue
        self.kube.close()

    def start_replica(self) -> Controller:
        self.started += 1
        replica = start_controller(
            self.info.server,
            self.identity,
            self.workdir / f"replica-{self.started}",
            args=("--shards", str(SHARDS)),
        )
        self.replicas.append(replica)
        return replica

    # -- the commit stream ------------------------------------------------------------------

    def commit(self, *, to: Path | None = None) -> Commit:
        number = len(self.commits) + 1
        declared = {}
        for env in self.envs:
            items = sorted(self.rng.sample(range(ITEMS), self.rng.randint(1, ITEMS)))
            names = [f"item-{k}" for k in items]
            self.remote.declare(
                env,
                {
                    "core": [configmap("base", commit=str(number), env=env)],
                    "items": [configmap(name, commit=str(number)) for name in names],
                },
            )
            declared[env] = frozenset(["base", *names])
        self.remote.git("add", "-A")
        self.remote.git("commit", "-q", "-m", f"commit {number}")
        self.remote.git("push", "-q", str(to or self.remote.bare), "main")
        done = Commit(number, self.remote.git("rev-parse", "HEAD"), declared)
        self.commits.append(done)
        return done

    def hook(self, commit: Commit) -> None:
        """The push webhook, to any live replica; a refusal is the replica's business (the
        poll is the fallback), so it is not checked here."""
        live = [r for r in self.replicas if r.process.poll() is None]
        try:
            self.rng.choice(live).hook("github", push_body(str(self.remote.bare), commit.sha))
        except Exception as e:  # noqa: BLE001 — a webhook lost in a fault is part of the fault
            self.log(f"  webhook not delivered: {e}")

    def push(self, *, to: Path | None = None) -> Commit:
        commit = self.commit(to=to)
        self.hook(commit)
        return commit

    # -- faults -----------------------------------------------------------------------------

    def next_fault(self) -> str:
        if not self.schedule:
            self.schedule = list(self.faults)
            self.rng.shuffle(self.schedule)
        return self.schedule.pop()

    def inject(self, result: Round) -> None:
        {
            KILL: self.kill,
            APISERVER: self.restart_apiserver,
            UNREACHABLE: self.unreachable,
            EDITS: self.edits,
        }[result.fault](result)

    def kill(self, result: Round) -> None:
        self.push()
        result.commits += 1
        by_pid = {r.process.pid: r for r in self.replicas if r.process.poll() is None}
        victim, result.detail = self._syncing(by_pid, seconds=4.0)
        if victim is None:
            env = self.rng.choice(sorted(self.envs))
            shard = shard_of(DeliveryRef(self.namespace, env), SHARDS)
            try:
                lease = self.kube.get(
                    "coordination.k8s.io/v1", "Lease", shard_lease_name(shard), SYSTEM
                )
            except NotFound:
                lease = {}
            holder = _pid(str((lease.get("spec") or {}).get("holderIdentity") or ""))
            victim = by_pid.get(holder or -1) or self.rng.choice(list(by_pid.values()))
            result.detail = f"no sync caught; {env}'s shard holder"
        victim.kill()
        self.replicas.remove(victim)
        # The orphaned shards stay unowned for a lease duration: commits keep coming.
        time.sleep(self.rng.uniform(0.5, 3.0))
        self.push()
        result.commits += 1
        self.start_replica()

    def _syncing(
        self, by_pid: dict[int, Controller], *, seconds: float
    ) -> tuple[Controller | None, str]:
        """A replica holding an environment's sync lock right now, and which."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for ns in self.envs.values():
                for lease in self.kube.list("coordination.k8s.io/v1", "Lease", ns).items:
                    holder = _pid(str((lease.get("spec") or {}).get("holderIdentity") or ""))
                    if holder in by_pid:
                        env = (lease["metadata"].get("labels") or {}).get(ENVIRONMENT_LABEL)
                        return by_pid[holder], f"caught syncing {env}"
            time.sleep(0.01)
        return None, ""

    def restart_apiserver(self, result: Round) -> None:
        self.push()
        result.commits += 1
        time.sleep(self.rng.uniform(0.0, 1.0))
        state_dir = Path(self.info.state_dir)
        failed: list[Exception] = []

        def restart_apiserver() -> None:
            try:
                controlplane.restart_component(state_dir, "kube-apiserver", lambda _: None)
            except Exception as e:  # noqa: BLE001 — raised again in the campaign's thread
                failed.append(e)

        restart = threading.Thread(target=restart_apiserver)
        started = time.monotonic()
        restart.start()
        time.sleep(self.rng.uniform(0.2, 1.0))
        self.push()  # its webhook meets a replica that cannot reach the API server
        result.commits += 1
        restart.join()
        if failed:
            raise failed[0]
        result.detail = f"down and back in {time.monotonic() - started:.1f}s"

    def unreachable(self, result: Round) -> None:
        self.remote.bare.rename(self.away)
        held = self.rng.uniform(2.0, 8.0)
        try:
            for _ in range(self.rng.randint(1, 2)):
                self.push(to=self.away)
                result.commits += 1
                time.sleep(held / 2)
        finally:
            self.away.rename(self.remote.bare)
        result.detail = f"for {held:.1f}s"

    def edits(self, result: Round) -> None:
        self.push()
        result.commits += 1
        counts = {"patched": 0, "deleted": 0, "annotated": 0, "spec edited": 0}
        lock = threading.Lock()
        seeds = [self.rng.random() for _ in range(3)]

        def editor(seed: float) -> None:
            rng = random.Random(seed)  # noqa: S311
            end = time.monotonic() + 3.0
            while time.monotonic() < end:
                env = rng.choice(sorted(self.envs))
                ns = self.envs[env]
                name = rng.choice(["base", *(f"item-{k}" for k in range(ITEMS))])
                action = rng.choice(["patched", "patched", "deleted", "annotated", "spec edited"])
                try:
                    if action == "patched":
                        self.kube.request(
                            "PATCH",
                            f"/api/v1/namespaces/{ns}/configmaps/{name}",
                            params={"fieldManager": "kubectl-edit"},
                            # Only a field git declares: one added beside them would stay
                            # the editor's under server-side apply, for no sync to remove.
                            body={"data": {"commit": "edited by hand"}},
                            content_type="application/merge-patch+json",
                        )
                    elif action == "deleted":
                        with lock:
                            self.deleted_by_hand.add((env, name))
                        # As kubectl deletes: in the background, no finalizer left to wait on.
                        self.kube.delete("v1", "ConfigMap", name, ns, propagation="Background")
                    else:
                        self._edit_delivery(env, action, rng)
                except NotFound:
                    continue
                with lock:
                    counts[action] += 1
                time.sleep(rng.uniform(0.05, 0.3))

        threads = [threading.Thread(target=editor, args=(seed,)) for seed in seeds]
        for thread in threads:
            thread.start()
        time.sleep(self.rng.uniform(0.5, 2.0))
        self.push()  # a commit in the middle of the edits
        result.commits += 1
        for thread in threads:
            thread.join()
        result.detail = ", ".join(f"{n} {what}" for what, n in counts.items())

    def _edit_delivery(self, env: str, action: str, rng: random.Random) -> None:
        path = f"/apis/{API_VERSION}/namespaces/{self.namespace}/deliveries/{env}"
        if action == "annotated":
            body: dict[str, Any] = {
                "metadata": {"annotations": {RECONCILE_REQUESTED_AT: datetime.now(UTC).isoformat()}}
            }
        else:
            body = {"spec": {"interval": rng.choice(["20s", "21s"])}}
        self.kube.request(
            "PATCH",
            path,
            params={"fieldManager": "kubectl-edit"},
            body=body,
            content_type="application/merge-patch+json",
        )

    # -- checks -----------------------------------------------------------------------------

    def converge(self, bound: float) -> float | None:
        """Seconds until every Delivery holds the newest commit, or None past ``bound``."""
        started = time.monotonic()
        while time.monotonic() - started < bound:
            if all(self.converged(env) for env in self.envs):
                return time.monotonic() - started
            time.sleep(0.2)
        return None

    def converged(self, env: str) -> bool:
        head = self.commits[-1]
        if status(self.kube, self.namespace, env).get("lastAppliedRevision") != head.sha:
            return False
        live = self.owned(env)
        if set(live) != head.declared[env]:
            return False
        expected = {"commit": str(head.number)}
        return all(
            obj.get("data") == ({**expected, "env": env} if name == "base" else expected)
            for name, obj in live.items()
        )

    def owned(self, env: str) -> dict[str, dict[str, Any]]:
        # What the environment declares: not the sync records, not the inventories.
        selector = (
            f"{PROJECT_LABEL}=shop,{ENVIRONMENT_LABEL}={env},!{RECORD_LABEL},!{INVENTORY_LABEL}"
        )
        found = self.kube.list("v1", "ConfigMap", self.envs[env], label_selector=selector)
        return {obj["metadata"]["name"]: obj for obj in found.items}

    def describe(self) -> str:
        head = self.commits[-1]
        lines = [f"newest commit {head.number} ({head.sha[:12]})"]
        for env in self.envs:
            shown = status(self.kube, self.namespace, env)
            ready = [c for c in shown.get("conditions") or [] if c.get("type") == "Ready"]
            live = {n: (o.get("data") or {}).get("commit") for n, o in self.owned(env).items()}
            lines.append(
                f"  {env}: applied {str(shown.get('lastAppliedRevision'))[:12]}, "
                f"Ready {ready[0].get('reason') if ready else None}: "
                f"{ready[0].get('message', '')[:160] if ready else ''}; live {live}; "
                f"declared {sorted(head.declared[env])}"
            )
        return "\n".join(lines)

    def check_uids(self, result: Round) -> None:
        for (ns, name), (uid, content) in self.bystanders.items():
            try:
                obj = self.kube.get("v1", "ConfigMap", name, ns)
            except NotFound:
                result.fail(PRESERVED, f"{ns}/{name} (not hakobu's) was deleted")
                continue
            if obj["metadata"]["uid"] != uid or obj.get("data") != content:
                result.fail(PRESERVED, f"{ns}/{name} (not hakobu's) was replaced or changed")
        since = self.commits[self.checked :]
        for env in self.envs:
            live = self.owned(env)
            steady = frozenset.intersection(*(c.declared[env] for c in since))
            for name in self.commits[-1].declared[env]:
                key = (env, name)
                now: str | None = live[name]["metadata"]["uid"] if name in live else None
                known = self.uids.get(key)
                unchanged = name in steady and key not in self.deleted_by_hand
                if known is not None and unchanged and now != known:
                    result.fail(PRESERVED, f"{env}/{name}, declared throughout, was deleted")
                if now is not None:
                    self.uids[key] = now
            for key in [k for k in self.uids if k[0] == env and k[1] not in live]:
                del self.uids[key]
        self.deleted_by_hand.clear()
        self.checked = len(self.commits) - 1

    def check_overlaps(self, result: Round) -> None:
        for env, ns in self.envs.items():
            found = self.kube.list("v1", "ConfigMap", ns, label_selector=f"{RECORD_LABEL}=true")
            seen = self.records[env]
            new = set()
            for obj in found.items:
                name = obj["metadata"]["name"]
                if name in seen:
                    continue
                end = _record_time(name)
                total = float(_result(obj).get("durations", {}).get("total", 0.0))
                seen[name] = (end - total, end)
                new.add(name)
            for a, b, by in overlapping(seen):
                if a in new or b in new:
                    result.fail(NO_OVERLAP, f"{env}: {a} and {b} overlap by {by:.3f}s")

    # -- rounds -----------------------------------------------------------------------------

    def round(self, number: int) -> Round:
        result = Round(number, self.next_fault())
        for replica in list(self.replicas):
            if replica.process.poll() is not None:
                result.fail(CONVERGED, f"a replica exited on its own: {replica.log}")
                self.replicas.remove(replica)
                self.start_replica()
        self.inject(result)
        took = self.converge(BOUND)
        if took is None:
            result.fail(CONVERGED, f"not within {BOUND:.0f}s:\n{self.describe()}")
            # Later rounds start from a converged state, or report on this one again.
            self.converge(BOUND * 3)
        result.converged_in = took
        self.check_uids(result)
        self.check_overlaps(result)
        return result


def overlapping(spans: dict[str, tuple[float, float]]) -> list[tuple[str, str, float]]:
    """Pairs of (start, end) spans that intersect, with by how much: sorted by start, each
    span is compared with the one that, of those before it, ends last."""
    found = []
    latest: tuple[str, float] | None = None
    for name, (start, end) in sorted(spans.items(), key=lambda item: item[1]):
        if latest is not None and start < latest[1]:
            found.append((latest[0], name, min(end, latest[1]) - start))
        if latest is None or end > latest[1]:
            latest = (name, end)
    return found


def _pid(identity: str) -> int | None:
    found = re.search(r" pid (\d+) ", identity)
    return int(found.group(1)) if found else None


def _record_time(name: str) -> float:
    stamp = "-".join(name.rsplit("-", 3)[1:])
    return datetime.strptime(stamp, "%Y%m%d-%H%M%S-%f").replace(tzinfo=UTC).timestamp()


def _result(obj: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((obj.get("data") or {}).get("result.json", "{}"))
    return loaded


def run(
    info: ClusterInfo,
    workdir: Path,
    *,
    seed: int,
    rounds: int,
    faults: tuple[str, ...] = FAULTS,
    log: Log = print,
) -> list[Round]:
    campaign = Campaign(info, workdir, seed, faults=faults, log=log)
    results = []
    try:
        campaign.setup()
        log(f"{'round':>5}  {'fault':<30} {'commits':>7} {'converged':>9}  detail")
        for number in range(1, rounds + 1):
            try:
                result = campaign.round(number)
            except KeyboardInterrupt:
                # Ctrl-C: the rounds done so far are still reported, this one is not.
                log(f"interrupted in round {number}")
                break
            results.append(result)
            took = "-" if result.converged_in is None else f"{result.converged_in:.1f}s"
            mark = (
                ""
                if not result.violations
                else "  FAILED: "
                + "; ".join(f"{k}: {' | '.join(v)}" for k, v in result.violations.items())
            )
            log(
                f"{number:>5}  {result.fault:<30} {result.commits:>7} {took:>9}  "
                f"{result.detail}{mark}"
            )
    finally:
        campaign.close()
    return results


def table(results: list[Round], faults: tuple[str, ...] = FAULTS) -> str:
    lines = [f"{'fault':<36} {'injected':>8}"]
    for fault in faults:
        lines.append(f"{fault:<36} {sum(r.fault == fault for r in results):>8}")
    caught = sum(r.fault == KILL and r.detail.startswith("caught") for r in results)
    lines.append(f"  (kills that caught a sync in progress: {caught})")
    lines.append("")
    lines.append(f"{'invariant':<58} {'held':>9}")
    for invariant in INVARIANTS:
        held = sum(invariant not in r.violations for r in results)
        lines.append(f"{invariant:<58} {held:>4}/{len(results):<4}")
    times = [r.converged_in for r in results if r.converged_in is not None]
    if times:
        lines.append(
            f"time to converge once faults stopped: p50 {statistics.median(times):.1f}s, "
            f"max {max(times):.1f}s (bound {BOUND:.0f}s)"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--state-dir", type=Path, default=cache_root() / "fault-cluster")
    args = parser.parse_args()
    controlplane.down(args.state_dir)
    info, _ = controlplane.up(args.state_dir, lambda m: print(f"[cluster] {m}", flush=True))
    workdir = Path(tempfile.mkdtemp(prefix="hakobu-faults-"))
    started = time.monotonic()
    try:
        results = run(
            info,
            workdir,
            seed=args.seed,
            rounds=args.rounds,
            log=lambda line: print(line, flush=True),
        )
    finally:
        controlplane.down(args.state_dir)
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(f"seed {args.seed}, {len(results)} rounds in {time.monotonic() - started:.0f}s")
    print(table(results))
    return 1 if any(r.violations for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
