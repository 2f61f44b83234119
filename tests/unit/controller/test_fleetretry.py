"""Which Deliveries appeared or moved since the last look: the causes a FleetInstance
that could not be written waits for."""

from __future__ import annotations

from typing import Any

from hakobu.controller.delivery import DeliveryRef
from hakobu.controller.fleetretry import DeliveryChanges

SHOP, OTHER = DeliveryRef("shops", "shop"), DeliveryRef("shops", "other")


def delivery(attempted: str | None = None, applied: str | None = None) -> dict[str, Any]:
    status = {"lastAttemptedRevision": attempted, "lastAppliedRevision": applied}
    return {"status": {k: v for k, v in status.items() if v}}


def test_a_delivery_appearing_and_its_repository_moving_are_told_once() -> None:
    found: dict[DeliveryRef, dict[str, Any]] = {}
    changes = DeliveryChanges()
    first = changes.look([SHOP, OTHER], found.get)
    assert not first.appeared and not first.moved

    found[SHOP] = delivery()
    appeared = changes.look([SHOP, OTHER], found.get)
    assert appeared.appeared == {SHOP} and not appeared.moved
    assert changes.look([SHOP, OTHER], found.get).moved == set()

    found[SHOP] = delivery(attempted="abc")
    moved = changes.look([SHOP], found.get)
    assert moved.moved == {SHOP} and not moved.appeared
    # A pass that applied what it fetched moves nothing further.
    found[SHOP] = delivery(attempted="abc", applied="abc")
    assert changes.look([SHOP], found.get).moved == set()


def test_a_delivery_first_seen_counts_as_moved() -> None:
    # After a restart, each refusal is tried once more.
    changes = DeliveryChanges()
    seen = changes.look([SHOP], {SHOP: delivery(applied="abc")}.get)
    assert seen.moved == {SHOP} and seen.appeared == {SHOP}


def test_a_delivery_deleted_and_created_again_appears_again() -> None:
    changes = DeliveryChanges()
    changes.look([SHOP], {SHOP: delivery(applied="abc")}.get)
    gone: dict[DeliveryRef, dict[str, Any]] = {}
    changes.look([SHOP], gone.get)
    assert changes.look([SHOP], {SHOP: delivery(applied="abc")}.get).appeared == {SHOP}
