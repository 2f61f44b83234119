"""The replica split of a canary, as Argo Rollouts rounds it (each side up)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hakobu.releases.canary.replicas import Split, split


@pytest.mark.parametrize(
    ("replicas", "weight", "expected"),
    [
        (10, 41, Split(5, 6)),
        (10, 50, Split(5, 5)),
        (10, 10, Split(1, 9)),
        (10, 70, Split(7, 3)),
        (10, 0, Split(0, 10)),
        (10, 100, Split(10, 0)),
        (1, 5, Split(1, 1)),
        (1, 95, Split(1, 1)),
        (3, 33, Split(1, 3)),
        (4, 25, Split(1, 3)),
        (0, 50, Split(0, 0)),
    ],
)
def test_each_side_is_rounded_up(replicas: int, weight: int, expected: Split) -> None:
    assert split(replicas, weight) == expected


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=100))
def test_the_split_covers_the_replicas_and_surges_by_at_most_one(
    replicas: int, weight: int
) -> None:
    result = split(replicas, weight)
    assert result.canary == math.ceil(replicas * weight / 100)
    assert replicas <= result.canary + result.stable <= replicas + 1
    exact = replicas * weight % 100 == 0
    assert (result.canary + result.stable == replicas) is exact
    if replicas and 0 < weight < 100:
        assert result.canary >= 1 and result.stable >= 1


@pytest.mark.parametrize(("replicas", "weight"), [(-1, 10), (10, 101), (10, -1)])
def test_impossible_inputs_are_refused(replicas: int, weight: int) -> None:
    with pytest.raises(ValueError, match="expected replicas"):
        split(replicas, weight)
