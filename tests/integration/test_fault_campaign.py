"""The fault campaign (scripts/fault_campaign.py), short: five rounds with a fixed seed on
the session's control plane, every fault drawn at least once (the first four rounds are a
shuffle of the four), every invariant held in every round."""

from __future__ import annotations

from pathlib import Path

import pytest
from scripts.fault_campaign import FAULTS, overlapping, run, table

from hakobu.localcluster.controlplane import ClusterInfo

ROUNDS = 5
SEED = 20261203


@pytest.mark.cluster
def test_three_replicas_keep_every_invariant_through_random_faults(
    local_cluster: ClusterInfo, tmp_path: Path
) -> None:
    lines: list[str] = []
    results = run(local_cluster, tmp_path, seed=SEED, rounds=ROUNDS, log=lines.append)
    report = "\n".join([*lines, table(results)])
    assert len(results) == ROUNDS, report
    assert {r.fault for r in results} == set(FAULTS), report
    assert [r.violations for r in results] == [{}] * ROUNDS, report
    assert all(r.converged_in is not None and r.commits >= 1 for r in results), report


def test_overlapping_syncs_are_found_even_past_a_short_one_between() -> None:
    spans = {
        "long": (0.0, 10.0),
        "short": (1.0, 2.0),
        "late": (9.5, 12.0),
        "after": (12.0, 13.0),  # starts as "late" ends: not an overlap
    }
    assert overlapping(spans) == [("long", "short", 1.0), ("long", "late", 0.5)]
