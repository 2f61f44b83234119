"""What the controller tells people about: an ``Event`` of one Delivery at one revision."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hakobu.model.notifications import EventKind

__all__ = ["TITLES", "Event", "EventKind"]

# The first words of a message, per kind.
TITLES = {
    EventKind.SYNC_STARTED: "Sync started",
    EventKind.SYNC_SUCCEEDED: "Synced",
    EventKind.SYNC_FAILED: "Sync failed",
    EventKind.HEALTH_DEGRADED: "Degraded",
    EventKind.HEALTH_RECOVERED: "Healthy again",
    EventKind.DRIFT_REPAIRED: "Drift repaired",
    EventKind.ROLLBACK_COMMITTED: "Rolled back",
    EventKind.PROMOTED: "Promoted",
    EventKind.PREVIEW_UP: "Preview up",
    EventKind.PREVIEW_UPDATED: "Preview updated",
    EventKind.PREVIEW_DOWN: "Preview down",
    EventKind.PREVIEW_FAILED: "Preview failed",
    EventKind.FLEET_HALTED: "Fleet rollout halted",
}
SHORT_REVISION = 12
# Kinds whose news is about one thing among several at a revision, which the message names:
# a preview's branch, a halted fleet.
_NAMED_KINDS = frozenset(
    {
        EventKind.PREVIEW_UP,
        EventKind.PREVIEW_UPDATED,
        EventKind.PREVIEW_DOWN,
        EventKind.PREVIEW_FAILED,
        EventKind.FLEET_HALTED,
    }
)


@dataclass(frozen=True)
class Event:
    kind: EventKind
    # ``namespace/name`` of the Delivery.
    delivery: str
    environment: str
    # The full commit id the event is about.
    revision: str
    # What happened, in a sentence or a few lines (a sync's error, the apps that degraded).
    message: str
    apps: tuple[str, ...] = ()
    # A link to the commit; when None, the notifier fills it from ``commitUrl``.
    commit_url: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def namespace(self) -> str:
        return self.delivery.partition("/")[0]

    @property
    def short(self) -> str:
        return self.revision[:SHORT_REVISION]

    @property
    def title(self) -> str:
        return TITLES[self.kind]

    @property
    def key(self) -> tuple[str, str, EventKind, str]:
        """What makes two events the same news: one is sent, the other is not. A preview's
        news is about one branch, which its message names: two branches at one commit are
        two previews, while one branch failing the same way on every pass is told once. So
        is a halted fleet's: two fleets halted at one commit are two pieces of news."""
        about = self.message if self.kind in _NAMED_KINDS else ""
        return (self.delivery, self.revision, self.kind, about)

    def fields(self) -> dict[str, Any]:
        """The event as templates see it and the webhook sends it (JSON-ready values)."""
        return {
            "kind": self.kind.value,
            "title": self.title,
            "delivery": self.delivery,
            "environment": self.environment,
            "revision": self.revision,
            "short": self.short,
            "message": self.message,
            "apps": list(self.apps),
            "commit_url": self.commit_url or "",
            "at": self.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }
