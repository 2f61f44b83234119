"""When a FleetInstance that could not be written is tried again: when what stopped it
changed, as a Kubernetes controller requeues an object when an object it depends on does.

- ``DeliveryNotFound``: when the Delivery it names appears;
- ``Refused`` (the fleet in git does not accept it: a tier it lacks, a value its template
  does not take, an instance someone else declared): when the repository moved — the
  Delivery's fetched revision changed, so a commit may have added the tier or the value,
  or removed the other instance;
- ``WriteFailed``: after a pause doubling from the first retry up to a cap, as client-go's
  per-item exponential rate limiter does (``FleetController._retry``);
- ``InvalidSpec``: only a new spec can change it.

``DeliveryChanges`` tells the first two from the Deliveries the manager's watch keeps. A
Delivery first seen counts as moved, so after a restart each refusal is tried once more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hakobu.controller.delivery import DeliveryRef


@dataclass(frozen=True)
class Changed:
    # Deliveries that exist now and did not when last looked at.
    appeared: frozenset[DeliveryRef]
    # Deliveries whose repository moved (a new fetched revision), or first seen.
    moved: frozenset[DeliveryRef]


class DeliveryChanges:
    """What changed of the named Deliveries since the last look."""

    def __init__(self) -> None:
        # Per Delivery: whether it existed, and the revision last fetched.
        self._seen: dict[DeliveryRef, tuple[bool, str | None]] = {}

    def look(
        self,
        refs: Iterable[DeliveryRef],
        delivery: Callable[[DeliveryRef], dict[str, Any] | None],
    ) -> Changed:
        appeared: set[DeliveryRef] = set()
        moved: set[DeliveryRef] = set()
        current: dict[DeliveryRef, tuple[bool, str | None]] = {}
        for ref in set(refs):
            obj = delivery(ref)
            now = (obj is not None, fetched_revision(obj) if obj is not None else None)
            current[ref] = now
            before = self._seen.get(ref)
            if now[0] and (before is None or not before[0]):
                appeared.add(ref)
            if now[0] and (before is None or before[1] != now[1]):
                moved.add(ref)
        # Deliveries no FleetInstance names any more are forgotten.
        self._seen = current
        return Changed(frozenset(appeared), frozenset(moved))


def fetched_revision(delivery: dict[str, Any]) -> str | None:
    """The revision the Delivery's last pass fetched (applied or not), else the one it
    last applied."""
    status = delivery.get("status") or {}
    found = status.get("lastAttemptedRevision") or status.get("lastAppliedRevision")
    return str(found) if found else None
