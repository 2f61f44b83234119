"""The prune safety rules, written down once and checked here one by one."""

from __future__ import annotations

from typing import Any

import pytest

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.sync.ownership import Owner
from hakobu.sync.prune import check_not_emptying, verdict

OWNER = Owner("shop", "dev", "web")


def live(**metadata: Any) -> Object:
    meta = {"name": "settings", "namespace": "dev", "labels": dict(OWNER.labels), **metadata}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


def test_an_object_hakobu_applied_for_this_app_is_pruned() -> None:
    assert verdict(live(), OWNER).prune


def test_never_an_object_without_hakobus_labels() -> None:
    found = verdict(live(labels={"app": "settings"}), OWNER)
    assert not found.prune and "not labelled" in found.reason


@pytest.mark.parametrize(
    "other",
    [Owner("shop", "dev", "billing"), Owner("shop", "prod", "web"), Owner("blog", "dev", "web")],
)
def test_never_an_object_another_app_environment_or_project_took_over(other: Owner) -> None:
    assert not verdict(live(labels=other.labels), OWNER).prune


def test_never_an_object_with_owner_references() -> None:
    refs = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": "u"}]
    found = verdict(live(ownerReferences=refs), OWNER)
    assert not found.prune and "ReplicaSet/web-1" in found.reason


def test_never_an_object_that_opted_out() -> None:
    found = verdict(live(annotations={"hakobu.dev/prune": "false"}), OWNER)
    assert not found.prune and "hakobu.dev/prune" in found.reason


def test_not_an_object_already_being_deleted() -> None:
    assert not verdict(live(deletionTimestamp="2026-01-01T00:00:00Z"), OWNER).prune


def test_never_everything_because_git_is_empty() -> None:
    with pytest.raises(InvalidInput, match="--allow-empty"):
        check_not_emptying("dev", desired_count=0, prune_count=3, allow_empty=False)


@pytest.mark.parametrize(
    ("desired", "prunes", "allow"), [(0, 3, True), (1, 3, False), (0, 0, False)]
)
def test_emptying_is_allowed_when_asked_or_when_git_is_not_empty(
    desired: int, prunes: int, allow: bool
) -> None:
    check_not_emptying("dev", desired_count=desired, prune_count=prunes, allow_empty=allow)
