"""Controller replicas as separate processes sharing Deliveries through Leases on the real
API server: they split the shards, a replica killed with ``kill -9`` is taken over about a
lease duration later, one cut off from the API server stops owning its shards before
another takes them, and at no moment do two replicas own one shard."""

from __future__ import annotations

import contextlib
import itertools
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.cluster.lease import LEASE_DURATION, RENEW_DEADLINE, RETRY_PERIOD
from hakobu.controller.membership import FORGET_AFTER, ROLE_LABEL
from hakobu.controller.shards import SHARDS, loads, weights
from hakobu.localcluster.controlplane import ClusterInfo
from tests.integration.shard_replica import refs

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
DELIVERIES = 300


class Replica:
    """A ``shard_replica`` process and the shards it said it owned, with when."""

    def __init__(self, identity: str, kubeconfig: str, namespace: str, logs: Path) -> None:
        self.identity = identity
        self.log = logs / f"{identity}.log"
        self.changes: list[tuple[float, frozenset[int]]] = []
        self.ended: float | None = None
        with self.log.open("w") as stderr:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.integration.shard_replica",
                    kubeconfig,
                    namespace,
                    identity,
                    str(DELIVERIES),
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            change = json.loads(line)
            self.changes.append((change["t"], frozenset(change["held"])))

    def held(self) -> frozenset[int]:
        return self.changes[-1][1] if self.changes else frozenset()

    def since(self, shard: int) -> float | None:
        """When it last started to own ``shard``, if it owns it now."""
        start = None
        for at, held in self.changes:
            if shard in held and start is None:
                start = at
            elif shard not in held:
                start = None
        return start

    def intervals(self, now: float) -> dict[int, list[tuple[float, float]]]:
        """Per shard, the times it owned it; a killed process owned nothing after death."""
        spans: dict[int, list[tuple[float, float]]] = {}
        open_at: dict[int, float] = {}
        for at, held in self.changes:
            for shard in held - set(open_at):
                open_at[shard] = at
            for shard in set(open_at) - held:
                spans.setdefault(shard, []).append((open_at.pop(shard), at))
        for shard, at in open_at.items():
            spans.setdefault(shard, []).append((at, self.ended or now))
        return spans

    def kill(self) -> float:
        self.process.send_signal(signal.SIGKILL)
        self.ended = time.time()
        self.process.wait()
        return self.ended

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=LEASE_DURATION)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tail(self) -> str:
        return "\n".join(self.log.read_text().splitlines()[-15:])


class Proxy:
    """A TCP relay to the API server; ``stop`` cuts every connection and refuses new ones,
    as when a replica loses its network path to the API server."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if self.stopped:
                    client.close()
                    return
                server = socket.create_connection(self.upstream)
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            # Closing alone would not wake a thread blocked in accept(); shutting down does.
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()


def wait_for(what: str, condition: Callable[[], bool], timeout: float, *replicas: Replica) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {r.identity}\n{r.tail()}" for r in replicas)
            raise AssertionError(f"{what}: not within {timeout:g}s\n{logs}")
        time.sleep(0.02)


def split(replicas: list[Replica]) -> bool:
    sets = [r.held() for r in replicas]
    return all(sets) and sum(len(s) for s in sets) == SHARDS == len(frozenset().union(*sets))


def taken_over(shards: frozenset[int], replicas: list[Replica]) -> tuple[float, float]:
    """When the first and the last of ``shards`` were taken by one of ``replicas``."""
    taken = [min(t for r in replicas if (t := r.since(s)) is not None) for s in shards]
    return min(taken), max(taken)


def members(kube: KubeClient, namespace: str) -> list[str]:
    found = kube.list(
        "coordination.k8s.io/v1", "Lease", namespace, label_selector=f"{ROLE_LABEL}=member"
    ).items
    return sorted(m["spec"]["holderIdentity"] for m in found)


def settle(replicas: list[Replica]) -> None:
    """Wait for the same split for a few passes (joining hands shards around)."""
    wait_for(
        "the split to settle",
        lambda: (
            split(replicas)
            and all(time.time() - r.changes[-1][0] > 3 * RETRY_PERIOD for r in replicas)
        ),
        60,
        *replicas,
    )


def assert_never_two_owners(replicas: list[Replica]) -> None:
    now = time.time()
    spans: dict[int, list[tuple[float, float, str]]] = {}
    for replica in replicas:
        for shard, owned in replica.intervals(now).items():
            spans.setdefault(shard, []).extend((a, b, replica.identity) for a, b in owned)
    for shard, held in spans.items():
        held.sort()
        for (_, end, before), (start, _, after) in itertools.pairwise(held):
            assert start >= end, f"shard {shard}: {after} from {start} while {before} till {end}"


def kubeconfig_through(info: ClusterInfo, proxy: Proxy, path: Path) -> str:
    config = yaml.safe_load(Path(info.kubeconfig).read_text())
    for cluster in config["clusters"]:
        server = urlsplit(cluster["cluster"]["server"])
        cluster["cluster"]["server"] = f"https://{server.hostname}:{proxy.port}"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def upstream(info: ClusterInfo) -> tuple[str, int]:
    config = yaml.safe_load(Path(info.kubeconfig).read_text())
    server = urlsplit(config["clusters"][0]["cluster"]["server"])
    assert server.hostname and server.port
    return server.hostname, server.port


def report(line: str) -> None:
    print(f"[shards] {line}", file=sys.stderr, flush=True)


def test_replicas_split_shards_and_take_over_a_killed_one(
    local_cluster: ClusterInfo, kube: KubeClient, namespace: str, tmp_path: Path
) -> None:
    replicas = [
        Replica(f"replica-{i}", local_cluster.kubeconfig, namespace, tmp_path) for i in range(3)
    ]
    try:
        wait_for("three replicas split the shards", lambda: split(replicas), 60, *replicas)
        settle(replicas)
        w = weights(refs(DELIVERIES), SHARDS)
        before = {s: r.identity for r in replicas for s in r.held()}
        per_replica = [sum(w[s] for s in r.held()) for r in replicas]
        ratio = max(per_replica) / min(per_replica)
        report(f"{DELIVERIES} Deliveries over 3 replicas: {per_replica}, max/min {ratio:.3f}")
        assert ratio <= 1.2

        # A fourth joins: it takes a share, and few other Deliveries change hands.
        replicas.append(Replica("replica-3", local_cluster.kubeconfig, namespace, tmp_path))
        wait_for("four replicas split the shards", lambda: split(replicas), 60, *replicas)
        settle(replicas)
        after = {s: r.identity for r in replicas for s in r.held()}
        moved = sum(w[s] for s in before if before[s] != after[s])
        load_before, load_after = loads(before, w), loads(after, w)
        least = DELIVERIES - sum(min(n, load_after[m]) for m, n in load_before.items())
        per_replica = [load_after[r.identity] for r in replicas]
        report(
            f"a 4th replica joined: {moved} Deliveries changed hands (the least possible "
            f"{least}); now {per_replica}, max/min {max(per_replica) / min(per_replica):.3f}"
        )
        assert moved <= 2 * least
        assert max(per_replica) / min(per_replica) <= 1.2

        victim = next(r for r in replicas if 0 in r.held())
        survivors = [r for r in replicas if r is not victim]
        orphaned = victim.held()
        killed = victim.kill()
        wait_for(
            "the survivors take over the killed replica's shards",
            lambda: all(any(s in r.held() for r in survivors) for s in orphaned),
            LEASE_DURATION + 4 * RETRY_PERIOD + 10,
            *replicas,
        )
        first, last = (t - killed for t in taken_over(orphaned, survivors))
        report(
            f"kill -9 of the holder of {len(orphaned)} shards: taken over after "
            f"{first:.1f}s to {last:.1f}s (lease duration {LEASE_DURATION}s, "
            f"pass every {RETRY_PERIOD:g}s)"
        )
        # Its last renewal was at most a pass before the kill; the Leases expire a lease
        # duration after the others saw that renewal, and are taken on their next pass.
        assert first >= LEASE_DURATION - RETRY_PERIOD
        assert last <= LEASE_DURATION + 2 * RETRY_PERIOD + 1
        assert_never_two_owners(replicas)

        # A replica stopped cleanly releases at once: the others take over after the
        # drain and their next pass, not after the Leases' duration.
        leaving, staying = survivors[0], survivors[1:]
        handed = leaving.held()
        stopping = time.time()
        leaving.stop()
        assert leaving.process.returncode == 0, leaving.tail()
        wait_for(
            "the others take over the stopped one's shards",
            lambda: all(any(s in r.held() for r in staying) for s in handed),
            LEASE_DURATION,
            *replicas,
        )
        handover = taken_over(handed, staying)[1] - stopping
        report(f"SIGTERM of the holder of {len(handed)} shards: taken over after {handover:.1f}s")
        assert handover <= (LEASE_DURATION - RENEW_DEADLINE) + 2 * RETRY_PERIOD + 1
        assert_never_two_owners(replicas)

        # The killed replica's member Lease is deleted once it has been left unchanged
        # for FORGET_AFTER lease durations; the stopped one deleted its own.
        assert members(kube, namespace) == sorted(r.identity for r in [victim, *staying])
        wait_for(
            "the killed replica's member Lease is deleted",
            lambda: members(kube, namespace) == sorted(r.identity for r in staying),
            killed + FORGET_AFTER * LEASE_DURATION + 2 * RETRY_PERIOD + 5 - time.time(),
            *replicas,
        )
        report(f"the killed replica's member Lease deleted {time.time() - killed:.0f}s after")
    finally:
        for replica in replicas:
            replica.stop()
    assert members(kube, namespace) == []


def test_a_replica_cut_off_from_the_api_server_stops_before_another_takes_over(
    local_cluster: ClusterInfo, namespace: str, tmp_path: Path
) -> None:
    proxy = Proxy(upstream(local_cluster))
    direct = Replica("direct", local_cluster.kubeconfig, namespace, tmp_path)
    cut = Replica(
        "cut",
        kubeconfig_through(local_cluster, proxy, tmp_path / "through-proxy.kubeconfig"),
        namespace,
        tmp_path,
    )
    replicas = [direct, cut]
    try:
        wait_for("two replicas split the shards", lambda: split(replicas), 60, *replicas)
        settle(replicas)
        lost = cut.held()

        cut_at = time.time()
        proxy.stop()
        wait_for("the cut-off replica gives up", lambda: not cut.held(), 30, *replicas)
        gave_up = cut.changes[-1][0] - cut_at
        wait_for(
            "the other replica takes the shards over",
            lambda: lost <= direct.held(),
            LEASE_DURATION + 4 * RETRY_PERIOD + 10,
            *replicas,
        )
        first, last = (t - cut_at for t in taken_over(lost, [direct]))
        report(
            f"API server cut off: the replica stopped owning its {len(lost)} shards after "
            f"{gave_up:.1f}s; the other took them over after {first:.1f}s to {last:.1f}s"
        )
        assert gave_up <= RENEW_DEADLINE + 1
        assert first - gave_up >= LEASE_DURATION - RENEW_DEADLINE - RETRY_PERIOD
        assert last <= LEASE_DURATION + 2 * RETRY_PERIOD + 1
        assert_never_two_owners(replicas)
        assert cut.process.poll() is None  # it keeps trying, holding nothing
    finally:
        proxy.stop()
        for replica in replicas:
            replica.stop()
