"""What a pass over a remote's branches decides, from the branches and the previews."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hakobu.model.previews import Previews
from hakobu.releases.previewpass import Head, Step, plan
from hakobu.releases.previews import Preview

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
PREVIEWS = Previews("dev", "feature/*", "preview-{{branch}}", "{{branch}}.example.com", 3600, 2)


def _preview(branch: str, revision: str, *, age: float = 60, terminating: bool = False) -> Preview:
    created = NOW - timedelta(seconds=age)
    return Preview(
        branch,
        PREVIEWS.namespace(branch),
        PREVIEWS.url(branch),
        created,
        created + timedelta(seconds=PREVIEWS.ttl),
        revision,
        terminating=terminating,
    )


def _head(revision: str, minutes_ago: float = 1) -> Head:
    return Head(revision, NOW - timedelta(minutes=minutes_ago))


def test_new_moved_gone_and_expired_branches() -> None:
    heads = {
        "feature/new": _head("n1"),
        "feature/moved": _head("m2"),
        "feature/old": _head("o1", minutes_ago=200),
        "main": _head("x"),
    }
    live = [
        _preview("feature/moved", "m1"),
        _preview("feature/gone", "g1"),
        _preview("feature/old", "o1", age=3600),
    ]
    assert plan(PREVIEWS, heads, live, NOW) == [
        (Step.DELETED, "feature/gone"),
        (Step.UPDATE, "feature/moved"),
        (Step.EXPIRED, "feature/old"),
        (Step.UP, "feature/new"),
    ]


def test_an_expired_branch_comes_back_only_with_a_new_push() -> None:
    assert plan(PREVIEWS, {"feature/a": _head("a1", minutes_ago=61)}, [], NOW) == []
    assert plan(PREVIEWS, {"feature/a": _head("a2")}, [], NOW) == [(Step.UP, "feature/a")]


def test_the_newest_branches_come_first_and_a_terminating_preview_is_left() -> None:
    heads = {"feature/a": _head("a", 30), "feature/b": _head("b", 5), "feature/c": _head("c")}
    live = [_preview("feature/c", "old", terminating=True)]
    assert plan(PREVIEWS, heads, live, NOW) == [(Step.UP, "feature/b"), (Step.UP, "feature/a")]
