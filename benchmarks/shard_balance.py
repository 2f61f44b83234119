"""How evenly shards spread Deliveries over controller replicas, and how much moves when a
replica joins or leaves or Deliveries are added, for the assignment every replica computes
(hakobu.controller.shards).

For each size, over many random sets of Delivery names and replica identities, it prints
the worst max/min load (in Deliveries) computed afresh and after each change; the
Deliveries moved when a replica joins or leaves, as a multiple of the least any
assignment must move (1.0 is perfect; rehashing everything would move about
``members / (members + 1)`` of all Deliveries); and the shards moved while 100 Deliveries
are added one by one. Changes start from what is held, as replicas do; ``--afresh``
ignores it, for comparison.

    .venv/bin/python benchmarks/shard_balance.py [--shards 32] [--trials 200] [--afresh]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import dataclass

from hakobu.controller.delivery import DeliveryRef
from hakobu.controller.shards import assign, loads, weights

SIZES = ((300, 3), (50, 3), (100, 3), (300, 4), (1000, 5), (2000, 7))
ADDED = 100


@dataclass(frozen=True)
class Trial:
    ratio: float  # worst max/min: afresh, after the join, the leave and every addition
    join: float
    leave: float
    shard_moves: int  # over the additions


def ratio_of(owner: dict[int, str], w: tuple[int, ...]) -> float:
    load = loads(owner, w)
    return max(load.values()) / max(1, min(load.values()))


def trial(count: int, members: int, shards: int, seed: int, *, afresh: bool) -> Trial:
    rng = random.Random(seed)  # noqa: S311 - reproducible cases, not secrets
    refs = [
        DeliveryRef(f"team-{rng.randrange(12)}", f"app-{rng.random():.9f}") for _ in range(count)
    ]
    group = [f"replica-{rng.getrandbits(48):012x}" for _ in range(members + 1)]
    w = weights(refs, shards)
    before = assign(group[:-1], w)
    held = None if afresh else before
    load = loads(before, w)

    joined = assign(group, w, holders=held)
    load_joined = loads(joined, w)
    least = count - sum(min(load[m], load_joined.get(m, 0)) for m in group[:-1])
    moved = sum(w[s] for s in before if before[s] != joined[s])

    gone = group[0]
    left = assign(group[1:-1], w, holders=held)
    moved_left = sum(w[s] for s in before if before[s] != left[s])

    ratios = [ratio_of(before, w), ratio_of(joined, w), ratio_of(left, w)]
    owner, shard_moves = before, 0
    for i in range(ADDED):
        refs.append(DeliveryRef("added", f"app-{i}"))
        w = weights(refs, shards)
        after = assign(group[:-1], w, holders=None if afresh else owner)
        shard_moves += sum(1 for s in after if after[s] != owner[s])
        ratios.append(ratio_of(after, w))
        owner = after
    return Trial(max(ratios), moved / max(1, least), moved_left / max(1, load[gone]), shard_moves)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=32)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--afresh", action="store_true", help="ignore what is held")
    args = parser.parse_args()
    how = "afresh" if args.afresh else "from what is held"
    print(f"{args.shards} shards, {args.trials} trials per size, changes {how}")
    print(
        f"{'deliveries':>10} {'replicas':>8} {'max/min worst':>13} "
        f"{'join churn mean/worst':>22} {'leave churn mean/worst':>23} "
        f"{f'shards moved by {ADDED} added':>26} {'ms/trial':>8}"
    )
    for count, members in SIZES:
        started = time.perf_counter()
        results = [
            trial(count, members, args.shards, seed, afresh=args.afresh)
            for seed in range(args.trials)
        ]
        elapsed = (time.perf_counter() - started) / args.trials * 1000
        joins, leaves = [r.join for r in results], [r.leave for r in results]
        moves = [r.shard_moves for r in results]
        print(
            f"{count:>10} {members:>8} {max(r.ratio for r in results):>13.3f} "
            f"{statistics.mean(joins):>11.2f} / {max(joins):<8.2f} "
            f"{statistics.mean(leaves):>11.2f} / {max(leaves):<9.2f} "
            f"{statistics.mean(moves):>16.1f} mean / {max(moves):<3} {elapsed:>8.0f}"
        )


if __name__ == "__main__":
    main()
