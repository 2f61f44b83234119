"""How evenly shards spread Deliveries over controller replicas, and how much moves when a
replica joins or leaves, for the assignment every replica computes (hakobu.controller.shards).

For each size, over many random sets of Delivery names and replica identities, it prints
the worst max/min load (in Deliveries), and the Deliveries moved when a replica joins or
leaves, as a multiple of the least any assignment must move (1.0 is perfect; rehashing
everything would move about ``members / (members + 1)`` of all Deliveries).

    .venv/bin/python benchmarks/shard_balance.py [--shards 32] [--trials 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from hakobu.controller.delivery import DeliveryRef
from hakobu.controller.shards import assign, loads, weights

SIZES = ((300, 3), (50, 3), (100, 3), (300, 4), (1000, 5), (2000, 7))


def trial(count: int, members: int, shards: int, seed: int) -> tuple[float, float, float]:
    rng = random.Random(seed)  # noqa: S311 - reproducible cases, not secrets
    refs = [
        DeliveryRef(f"team-{rng.randrange(12)}", f"app-{rng.random():.9f}") for _ in range(count)
    ]
    group = [f"replica-{rng.getrandbits(48):012x}" for _ in range(members + 1)]
    w = weights(refs, shards)
    before = assign(group[:-1], w)
    load = loads(before, w)
    ratio = max(load.values()) / max(1, min(load.get(m, 0) for m in group[:-1]))

    joined = assign(group, w)
    load_joined = loads(joined, w)
    least = count - sum(min(load[m], load_joined.get(m, 0)) for m in group[:-1])
    moved = sum(w[s] for s in before if before[s] != joined[s])

    gone = group[0]
    left = assign(group[1:-1], w)
    moved_left = sum(w[s] for s in before if before[s] != left[s])
    return ratio, moved / max(1, least), moved_left / max(1, load[gone])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=32)
    parser.add_argument("--trials", type=int, default=200)
    args = parser.parse_args()
    print(f"{args.shards} shards, {args.trials} trials per size")
    print(
        f"{'deliveries':>10} {'replicas':>8} {'max/min worst':>13} "
        f"{'join churn mean/worst':>22} {'leave churn mean/worst':>23} {'ms/assign':>9}"
    )
    for count, members in SIZES:
        started = time.perf_counter()
        results = [trial(count, members, args.shards, seed) for seed in range(args.trials)]
        elapsed = (time.perf_counter() - started) / (3 * args.trials) * 1000
        ratios, joins, leaves = zip(*results, strict=True)
        print(
            f"{count:>10} {members:>8} {max(ratios):>13.3f} "
            f"{statistics.mean(joins):>11.2f} / {max(joins):<8.2f} "
            f"{statistics.mean(leaves):>11.2f} / {max(leaves):<9.2f} {elapsed:>9.2f}"
        )


if __name__ == "__main__":
    main()
