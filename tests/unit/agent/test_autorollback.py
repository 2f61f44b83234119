"""When a deployed revision becomes known good, and when it is rolled back."""

from __future__ import annotations

from hakobu.agent.autorollback import (
    Good,
    NoRollback,
    Problem,
    RollBack,
    Watch,
    health_problem,
    sync_problem,
)
from hakobu.health import HealthStatus
from hakobu.sync.run import AppResult, Outcome, SyncResult
from hakobu.sync.status import AppStatus, SyncState

WINDOW = 60
BROKEN = Problem("web", "Deployment/shop/web Degraded: progress deadline exceeded")


def good_watch(revision: str = "good", tree: str = "tree-good") -> Watch:
    watch = Watch()
    watch.deployed(revision, tree, 0, WINDOW)
    assert isinstance(watch.check(None, WINDOW), Good)
    return watch


def test_a_revision_is_good_once_it_stayed_healthy_through_its_window() -> None:
    watch = Watch()
    watch.deployed("a", "tree-a", 100, WINDOW)
    assert watch.check(None, 100) is None
    assert watch.check(None, 159) is None
    assert watch.good is None
    decision = watch.check(None, 160)
    assert isinstance(decision, Good)
    assert decision.revision.revision == "a"
    assert watch.good == decision.revision
    assert watch.check(None, 161) is None


def test_a_problem_in_the_window_rolls_back_to_the_good_revision() -> None:
    watch = good_watch()
    watch.deployed("bad", "tree-bad", 100, WINDOW)
    decision = watch.check(BROKEN, 130)
    assert isinstance(decision, RollBack)
    assert (decision.bad.revision, decision.to.revision) == ("bad", "good")
    assert decision.problem == BROKEN


def test_a_revision_is_judged_once() -> None:
    watch = good_watch()
    watch.deployed("bad", "tree-bad", 100, WINDOW)
    assert isinstance(watch.check(BROKEN, 101), RollBack)
    assert watch.check(BROKEN, 102) is None
    # Healthy again later: still not good, it failed once.
    assert watch.check(None, 200) is None
    assert watch.good is not None
    assert watch.good.revision == "good"


def test_after_the_window_a_problem_is_no_reason_to_roll_back() -> None:
    watch = good_watch()
    watch.deployed("b", "tree-b", 100, WINDOW)
    assert watch.check(BROKEN, 161) is None
    assert watch.good is not None
    assert watch.good.revision == "good"


def test_without_a_good_revision_nothing_is_rolled_back() -> None:
    watch = Watch()
    watch.deployed("first", "tree-first", 0, WINDOW)
    decision = watch.check(BROKEN, 1)
    assert isinstance(decision, NoRollback)
    assert "no revision is known to have stayed healthy through its window" in decision.why


def test_a_rollback_that_fails_is_not_rolled_back() -> None:
    watch = good_watch()
    watch.deployed("bad", "tree-bad", 100, WINDOW)
    assert isinstance(watch.check(BROKEN, 101), RollBack)
    watch.deployed("rollback", "tree-good", 102, WINDOW, rolls_back="bad")
    decision = watch.check(BROKEN, 103)
    assert isinstance(decision, NoRollback)
    assert decision.why == "it is itself the automatic rollback of bad"


def test_commits_that_keep_the_tree_keep_the_watch() -> None:
    watch = good_watch()
    watch.deployed("b", "tree-b", 100, WINDOW)
    watch.deployed("c", "tree-b", 150, WINDOW)
    decision = watch.check(None, 160)
    assert isinstance(decision, Good)
    assert decision.revision.revision == "b"


def test_returning_to_the_good_tree_by_hand_needs_no_watch() -> None:
    watch = good_watch()
    watch.deployed("b", "tree-b", 100, WINDOW)
    watch.deployed("revert", "tree-good", 110, WINDOW)
    assert watch.current is None
    assert watch.check(BROKEN, 111) is None


def result(*apps: tuple[str, Outcome, tuple[str, ...]]) -> SyncResult:
    return SyncResult(
        project="shop",
        env="dev",
        revision="r",
        started="",
        dry_run=False,
        result=Outcome.SUCCEEDED
        if all(a[1] is Outcome.SUCCEEDED for a in apps)
        else Outcome.FAILED,
        applied=0,
        pruned=0,
        unchanged=0,
        apps=tuple(AppResult(name, res, 0, 0, 0, 0, 0, messages) for name, res, messages in apps),
    )


def test_the_first_failed_app_of_a_sync_is_the_problem() -> None:
    assert sync_problem(result(("api", Outcome.SUCCEEDED, ()))) is None
    failed = result(
        ("api", Outcome.SUCCEEDED, ()), ("web", Outcome.FAILED, ("Job/x failed", "more"))
    )
    assert sync_problem(failed) == Problem("web", "Job/x failed; more")


def test_only_a_degraded_app_is_a_health_problem() -> None:
    progressing = AppStatus(
        "api", SyncState.SYNCED, HealthStatus.PROGRESSING, (), ("Deployment/api Progressing",)
    )
    degraded = AppStatus(
        "web",
        SyncState.SYNCED,
        HealthStatus.DEGRADED,
        (),
        ("Ingress/web Progressing: no address", "HorizontalPodAutoscaler/web Degraded: no cpu"),
    )
    assert health_problem([progressing]) is None
    assert health_problem([progressing, degraded]) == Problem(
        "web", "HorizontalPodAutoscaler/web Degraded: no cpu"
    )


def test_an_aborted_canary_is_left_to_its_revert_when_the_controller_reverts_them() -> None:
    line = "Deployment/shop/web canary step 2/4 Degraded: aborted: [0.5] meets failureCondition"
    aborted = AppStatus(
        "web", SyncState.SYNCED, HealthStatus.DEGRADED, (), (line,), aborted_rollouts=(line,)
    )
    assert health_problem([aborted]) == Problem("web", line)
    assert health_problem([aborted], rollouts_reverted=True) is None
    # Anything else Degraded in the app is still the revision's problem.
    crashing = "Pod/shop/web-1 Degraded: CrashLoopBackOff"
    both = AppStatus(
        "web",
        SyncState.SYNCED,
        HealthStatus.DEGRADED,
        (),
        (line, crashing),
        aborted_rollouts=(line,),
    )
    assert health_problem([both], rollouts_reverted=True) == Problem("web", f"{line}; {crashing}")
