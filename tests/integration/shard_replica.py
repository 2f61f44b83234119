"""One controller replica's sharding, as its own process, for tests/integration/test_shards.py.

    python -m tests.integration.shard_replica KUBECONFIG NAMESPACE IDENTITY DELIVERIES

It runs ``Sharding`` against the API server of ``KUBECONFIG`` with ``DELIVERIES`` made-up
Delivery names, and prints a JSON line ``{"t": <wall clock>, "held": [...]}`` whenever the
shards it owns change, as a sync's guard would see them (polled every 10 ms). SIGTERM
stops it cleanly (its shards released, its membership left).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path

from hakobu.cluster.client import KubeClient
from hakobu.cluster.kubeconfig import load
from hakobu.controller.delivery import DeliveryRef
from hakobu.controller.sharding import Sharding


def refs(count: int) -> list[DeliveryRef]:
    return [DeliveryRef(f"team-{i % 10}", f"app-{i}") for i in range(count)]


def main(kubeconfig: str, namespace: str, identity: str, deliveries: str) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # Requests end well within a retry period, so a pass never outlives the renew deadline.
    with KubeClient(load(Path(kubeconfig)), timeout=2.0, connect_timeout=1.0) as kube:
        sharding = Sharding(
            kube,
            namespace,
            identity=identity,
            log=lambda line: print(f"[{identity}] {line}", file=sys.stderr, flush=True),
        )
        sharding.set_deliveries(refs(int(deliveries)))
        loop = threading.Thread(target=sharding.run, args=(stop,), name="sharding")
        loop.start()
        told: list[int] | None = None
        while loop.is_alive():
            held = sorted(sharding.held())
            if held != told:
                told = held
                print(json.dumps({"t": time.time(), "held": held}), flush=True)
            time.sleep(0.01)
        print(json.dumps({"t": time.time(), "held": [], "stopped": True}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
