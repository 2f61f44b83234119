"""Which replica holds which shard: a pure function every replica computes alike.

A Delivery belongs to the shard its key (``namespace/name``) hashes to; there is a fixed
number of shards, so each replica renews a few Leases rather than one per Delivery. Shards
go to the live replicas by rendezvous hashing with bounded loads (Mirrokni, Thorup and
Zadimoghaddam's consistent hashing with bounded loads, over rendezvous rather than ring
ranks): each shard ranks the replicas by a hash of (replica, shard) and goes to the first
whose load, counted in Deliveries, stays within ``(1 + slack)`` times the mean. A shard
whose favourite replica is alive and has room stays put, so a replica that joins takes
mostly the shards that rank it first and a replica that leaves hands its shards to their
next choices. Shards are coarse (a shard of 30 Deliveries cannot be split), so a final
pass moves shards from the most to the least loaded replica (the shard that ranks that
replica highest among those that narrow the gap), or swaps one for a smaller one when none
is small enough, until ``max / min <= 1 + slack`` or nothing helps.

Replicas also pass who holds each shard now, as the shards' Leases say: shards held by a
live member stay with it, the rest are placed around them as above, and shards move only
when a member holds none (one just joined) or max/min passes ``BOUND`` — then as few as it
takes, down to the slack. So a Delivery more or less moves nothing while the split stays
within bounds, a joining replica takes about its share, and a leaving one hands over its
own shards. Only when that cannot reach the bound is the assignment computed afresh.

Nothing here depends on time or on a replica's own history: any two replicas that see the
same members, holders and Deliveries compute the same assignment.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence

from hakobu.controller.delivery import DeliveryRef

SHARDS = 32
# 1.1 leaves room under the 1.2 that a balanced split must meet when shards are coarse.
SLACK = 0.1
# How uneven the current split may grow before it is computed afresh.
BOUND = 1.2


def _hash(text: str) -> int:
    # Stable across processes and versions, unlike ``hash()``.
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def shard_of(ref: DeliveryRef, shards: int) -> int:
    return _hash(f"{ref.namespace}/{ref.name}") % shards


def weights(refs: Iterable[DeliveryRef], shards: int) -> tuple[int, ...]:
    """How many of ``refs`` each shard holds."""
    counts = [0] * shards
    for ref in set(refs):
        counts[shard_of(ref, shards)] += 1
    return tuple(counts)


def _rank(member: str, shard: int) -> int:
    return _hash(f"{member}\x00{shard}")


def assign(
    members: Iterable[str],
    weights: Sequence[int],
    *,
    holders: Mapping[int, str] | None = None,
    slack: float = SLACK,
) -> dict[int, str]:
    """Shard → member, for every shard; empty without members.

    With ``holders`` (who holds each shard now, as every replica reads from the shards'
    Leases), shards held by a live member stay with it and the others are placed around
    them, as long as that keeps every member holding a shard and ``max / min <= BOUND``;
    else the assignment is computed afresh. So a Delivery more or less moves no shard
    while the split stays within bounds, and a member that leaves hands over only its own
    shards."""
    ordered = sorted(set(members))
    if not ordered:
        return {}
    if holders:
        kept = _around(ordered, weights, holders, slack)
        if kept is not None:
            return kept
    owner: dict[int, str] = {}
    load = dict.fromkeys(ordered, 0)
    _place(range(len(weights)), owner, load, weights, slack)
    _even_out(owner, load, weights, slack)
    return owner


def _around(
    members: list[str], weights: Sequence[int], holders: Mapping[int, str], slack: float
) -> dict[int, str] | None:
    owner = {s: m for s, m in holders.items() if m in members and 0 <= s < len(weights)}
    load = dict.fromkeys(members, 0)
    for shard, member in owner.items():
        load[member] += weights[shard]
    _place([s for s in range(len(weights)) if s not in owner], owner, load, weights, slack)
    if not _within(owner, load, members):
        # Past the bound (or a member without a shard, as one that just joined): move as
        # few shards as it takes, down to the slack, so the next Deliveries fit again.
        _even_out(owner, load, weights, slack)
        if not _within(owner, load, members):
            return None
    return owner


def _within(owner: dict[int, str], load: dict[str, int], members: list[str]) -> bool:
    if set(owner.values()) != set(members):
        return False
    return max(load.values()) <= min(load.values()) * BOUND


def _place(
    shards: Iterable[int],
    owner: dict[int, str],
    load: dict[str, int],
    weights: Sequence[int],
    slack: float,
) -> None:
    """Give each of ``shards`` to the first member in its ranking with room to spare."""
    capacity = math.ceil(sum(weights) / len(load) * (1 + slack))
    for shard in shards:
        weight = weights[shard]
        ranked = sorted(load, key=lambda m: _rank(m, shard), reverse=True)
        fits = [m for m in ranked if load[m] + weight <= capacity]
        chosen = fits[0] if fits else min(ranked, key=lambda m: (load[m], m))
        owner[shard] = chosen
        load[chosen] += weight


def _even_out(
    owner: dict[int, str], load: dict[str, int], weights: Sequence[int], slack: float
) -> None:
    """Move shards from the most to the least loaded member until within ``slack``.

    Every move or swap shifts less than the gap between the two, so the sum of squared
    loads falls with each one and the loop ends."""
    while True:
        heaviest = max(load, key=lambda m: (load[m], m))
        lightest = min(load, key=lambda m: (load[m], m))
        gap = load[heaviest] - load[lightest]
        if load[heaviest] <= load[lightest] * (1 + slack):
            return
        movable = [s for s, m in owner.items() if m == heaviest and 0 < weights[s] < gap]
        if movable:
            shard = max(movable, key=lambda s: (_rank(lightest, s), s))
            owner[shard] = lightest
            load[heaviest] -= weights[shard]
            load[lightest] += weights[shard]
            continue
        # No shard is small enough to move: swap one for a smaller one, if any narrows it.
        swaps = [
            (a, b)
            for a, m in owner.items()
            if m == heaviest
            for b, n in owner.items()
            if n == lightest and 0 < weights[a] - weights[b] < gap
        ]
        if not swaps:
            return
        a, b = max(swaps, key=lambda p: (_rank(lightest, p[0]) ^ _rank(heaviest, p[1]), p))
        owner[a], owner[b] = lightest, heaviest
        shifted = weights[a] - weights[b]
        load[heaviest] -= shifted
        load[lightest] += shifted


def loads(owner: Mapping[int, str], weights: Sequence[int]) -> dict[str, int]:
    """Deliveries per member under ``owner``."""
    counted: dict[str, int] = {}
    for shard, member in owner.items():
        counted[member] = counted.get(member, 0) + weights[shard]
    return counted
