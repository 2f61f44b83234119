"""maxSurge and maxUnavailable, against rows of Argo Rollouts' own table
(``TestCalculateReplicaCountsForCanary`` in utils/replicaset/canary_test.go).

Only rows whose weight divides the replicas are taken: for the others Argo now
approximates the weight with the closest counts, where hakobu (and Argo before it)
rounds each side up; rows with older ReplicaSets or setCanaryScale have no counterpart.
"""

from __future__ import annotations

from typing import Any

import pytest

from hakobu.releases.canary.replicas import Split
from hakobu.releases.canary.surge import Side, at_split, limits, next_split, resolve

# name, replicas, weight, maxSurge, maxUnavailable, stable (replicas, available),
# canary (replicas, available), expected stable, expected canary
ARGO_ROWS = [
    ("extra available replicas are not counted", 10, 100, 3, 0, (7, 8), (6, 3), 7, 6),
    ("max surge int scales up the canary", 10, 20, 2, 0, (10, 10), (0, 0), 10, 2),
    ("max surge percentage scales up the canary", 10, 20, "20%", 0, (10, 10), (0, 0), 10, 2),
    ("extra stable replicas go", 10, 20, "20%", 0, (10, 10), (2, 2), 8, 2),
    ("not past max surge", 10, 30, 2, 0, (10, 10), (0, 0), 10, 2),
    ("max unavailable int scales down the stable", 10, 20, 0, 2, (10, 10), (0, 0), 8, 0),
    ("max unavailable percentage", 10, 20, 0, "20%", (10, 10), (0, 0), 8, 0),
    ("not past max unavailable", 10, 30, 0, 2, (10, 10), (0, 0), 8, 0),
    ("max surge and max unavailable", 10, 50, 2, 1, (10, 10), (0, 0), 9, 2),
    ("canary to zero at weight 0", 10, 0, 1, 1, (10, 10), (1, 1), 10, 0),
    ("stable to zero at weight 100", 10, 100, 1, 1, (1, 1), (10, 10), 0, 10),
    ("canary and stable scale down", 10, 30, 0, 3, (8, 5), (4, 4), 7, 3),
    ("stable and canary available", 10, 100, 1, 0, (10, 2), (10, 8), 2, 9),
    ("both limits zero: one unavailable", 10, 10, "0%", "0%", (10, 10), (0, 0), 9, 0),
    ("max surge while the stable is unavailable", 4, 100, 1, 0, (4, 1), (0, 0), 4, 1),
    ("max unavailable while the stable is unavailable", 4, 100, 1, 0, (4, 1), (1, 1), 3, 1),
    ("abort: the stable surges first", 4, 0, 1, 0, (0, 0), (4, 4), 1, 4),
]


@pytest.mark.parametrize("row", ARGO_ROWS, ids=[row[0] for row in ARGO_ROWS])
def test_argo_rows(row: tuple[Any, ...]) -> None:
    _, replicas, weight, surge, unavailable, stable, canary, want_stable, want_canary = row
    got = next_split(
        replicas, weight, surge, unavailable, stable=Side(*stable), canary=Side(*canary)
    )
    assert (got.stable, got.canary) == (want_stable, want_canary)


def test_percentages_round_surge_up_and_unavailable_down() -> None:
    assert resolve("25%", 10, round_up=True) == 3
    assert resolve("25%", 10, round_up=False) == 2
    assert limits(10, "0%", "0%") == (0, 1)
    assert limits(2, 0, 5) == (0, 2)


def walk(replicas: int, weight: int, surge: int | str, unavailable: int | str) -> list[Split]:
    """The splits of successive passes from every replica on the stable side, each pass's
    pods all available before the next."""
    stable, canary, seen = replicas, 0, []
    for _ in range(50):
        got = next_split(
            replicas,
            weight,
            surge,
            unavailable,
            stable=Side(stable, stable),
            canary=Side(canary, canary),
        )
        seen.append(got)
        if (got.stable, got.canary) == (stable, canary):
            return seen
        stable, canary = got.stable, got.canary
    raise AssertionError(f"no rest within 50 passes: {seen}")


@pytest.mark.parametrize(
    ("surge", "unavailable"), [("100%", 0), (1, 0), (0, 1), ("25%", "25%"), (2, 3)]
)
def test_passes_reach_the_split_within_the_limits(surge: int | str, unavailable: int) -> None:
    replicas, weight = 10, 41
    passes = walk(replicas, weight, surge, unavailable)
    high, low = limits(replicas, surge, unavailable)
    assert passes[-1] == Split(canary=5, stable=6)
    assert at_split(Split(5, 6), Side(6, 6), Side(5, 5))
    before = Split(canary=0, stable=replicas)
    for got in passes:
        assert got.stable + got.canary <= replicas + high + 1
        # While a pass's changes take effect, a side that shrank has only its new count up
        # and a side that grew only its old one.
        up = min(before.stable, got.stable) + min(before.canary, got.canary)
        assert up >= replicas - low
        before = got


def test_the_default_limits_keep_every_replica_while_the_canary_starts() -> None:
    # maxSurge 100%, maxUnavailable 0: the canary comes up beside the stable side first.
    first = next_split(10, 41, "100%", 0, stable=Side(10, 10), canary=Side(0, 0))
    assert first == Split(canary=5, stable=10)
    ready = next_split(10, 41, "100%", 0, stable=Side(10, 10), canary=Side(5, 5))
    assert ready == Split(canary=5, stable=6)
