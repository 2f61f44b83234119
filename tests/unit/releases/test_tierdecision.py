"""The tiered rollout's decision: promote after the soak, wait while soaking or settling,
halt at the first Degraded instance, and a soak that starts again after any break."""

from __future__ import annotations

from hakobu.releases.tierdecision import Halt, Healthy, TierState, decide

SOAK = 600.0


def tier(name: str, version: str, *, degraded: str = "", settling: str = "") -> TierState:
    return TierState(
        name,
        version,
        ((degraded, "Degraded: Job/shop/x failed"),) if degraded else (),
        ((settling, "Synced, Progressing"),) if settling else (),
    )


def test_the_next_tier_follows_once_the_one_before_has_soaked() -> None:
    tiers = [tier("canary", "v2"), tier("stable", "v1")]
    step = decide(tiers, {"canary": Healthy("v2", 1000.0)}, now=1000.0 + SOAK, soak=SOAK)
    assert (step.verdict, step.tier, step.target) == ("promote", "canary", "stable")
    assert step.reason == "tier canary has been healthy for 10m00s"


def test_it_waits_while_the_tier_soaks_and_remembers_since_when() -> None:
    tiers = [tier("canary", "v2"), tier("stable", "v1")]
    first = decide(tiers, {}, now=1000.0, soak=SOAK)
    assert (first.verdict, first.tier, first.target) == ("wait", "canary", "stable")
    assert first.reason == "tier canary soaks 10m00s more before stable follows"
    assert first.healthy == {"canary": Healthy("v2", 1000.0), "stable": Healthy("v1", 1000.0)}
    later = decide(tiers, first.healthy, now=1000.0 + SOAK - 30, soak=SOAK)
    assert (later.verdict, later.reason) == (
        "wait",
        "tier canary soaks 30s more before stable follows",
    )
    assert later.healthy == first.healthy


def test_a_record_of_another_version_does_not_count() -> None:
    tiers = [tier("canary", "v3"), tier("stable", "v2")]
    step = decide(tiers, {"canary": Healthy("v2", 0.0)}, now=5000.0, soak=SOAK)
    assert step.verdict == "wait"
    assert step.healthy["canary"] == Healthy("v3", 5000.0)


def test_it_halts_at_the_first_tier_with_a_degraded_instance_and_moves_nothing() -> None:
    tiers = [tier("canary", "v2", degraded="berlin"), tier("stable", "v1")]
    step = decide(tiers, {"canary": Healthy("v2", 0.0)}, now=1e6, soak=SOAK)
    assert (step.verdict, step.tier, step.target) == ("halt", "canary", None)
    assert step.reason == "tier canary: instance berlin is Degraded: Job/shop/x failed"
    # The soak starts again once the instance is healthy.
    assert "canary" not in step.healthy
    again = decide([tier("canary", "v2"), tier("stable", "v1")], step.healthy, now=1e6, soak=SOAK)
    assert again.verdict == "wait"


def test_a_degraded_later_tier_halts_there() -> None:
    tiers = [tier("canary", "v2"), tier("pilot", "v2", degraded="rome"), tier("stable", "v1")]
    step = decide(tiers, {}, now=0.0, soak=0.0)
    assert (step.verdict, step.tier) == ("halt", "pilot")


def test_a_settling_tier_makes_it_wait_without_a_soak_record() -> None:
    tiers = [tier("canary", "v2", settling="berlin"), tier("stable", "v1")]
    step = decide(tiers, {"canary": Healthy("v2", 0.0)}, now=1e6, soak=SOAK)
    assert (step.verdict, step.tier) == ("wait", "canary")
    assert step.reason == "tier canary: instance berlin is Synced, Progressing"
    assert step.healthy == {"stable": Healthy("v1", 1e6)}


def test_done_when_every_tier_runs_one_version() -> None:
    step = decide([tier("canary", "v2"), tier("stable", "v2")], {}, now=0.0, soak=SOAK)
    assert (step.verdict, step.tier) == ("done", None)


def test_only_the_first_difference_moves() -> None:
    tiers = [tier("canary", "v3"), tier("pilot", "v2"), tier("stable", "v1")]
    step = decide(tiers, {}, now=0.0, soak=0.0)
    assert (step.verdict, step.tier, step.target) == ("promote", "canary", "pilot")


def test_a_halt_holds_though_the_instance_recovers_until_its_tier_changes() -> None:
    first = decide(
        [tier("canary", "v2", degraded="berlin"), tier("stable", "v1")], {}, now=0.0, soak=0.0
    )
    assert first.halted == Halt("canary", "v2", first.reason)
    recovered = [tier("canary", "v2"), tier("stable", "v1")]
    held = decide(recovered, first.healthy, now=1e6, soak=0.0, halted=first.halted)
    assert (held.verdict, held.tier, held.reason, held.halted) == (
        "halt",
        "canary",
        first.reason,
        first.halted,
    )
    # The template fixed: a new version of the tier, and the rollout goes on.
    fixed = [tier("canary", "v3"), tier("stable", "v1")]
    moved = decide(fixed, held.healthy, now=1e6, soak=0.0, halted=held.halted)
    assert (moved.verdict, moved.halted) == ("promote", None)
    # Resumed by a person (no halt passed): it goes on at the same version too.
    resumed = decide(recovered, held.healthy, now=1e6, soak=0.0)
    assert (resumed.verdict, resumed.halted) == ("promote", None)
