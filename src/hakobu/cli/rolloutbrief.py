"""A rollout as ``hakobu status`` shows it beside its app: ``hakobu rollout status``'s
reading and wording, with only the latest measurement, so a page of apps stays short."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from hakobu.cli.rollout import rollout_text
from hakobu.releases.canary.strategy import AnyRollout
from hakobu.releases.canary.summary import rollout_json
from hakobu.sync.status import AppStatus


def latest(rollout: AnyRollout) -> AnyRollout:
    """``rollout`` with only its latest measurement: the one that decided, or will."""
    if rollout.state is None:
        return rollout
    return replace(
        rollout, state=replace(rollout.state, measurements=rollout.state.measurements[-1:])
    )


def app_json(status: AppStatus, rollout: AnyRollout | None) -> dict[str, Any]:
    """An app of ``hakobu status -o json``: its status, and ``rollout`` (null without one)."""
    return {**asdict(status), "rollout": None if rollout is None else rollout_json(latest(rollout))}


def rollout_lines(rollout: AnyRollout) -> list[str]:
    """``rollout`` in a few lines, the first naming it as a rollout."""
    first, *rest = rollout_text(latest(rollout)).splitlines()
    return [f"rollout {first}", *rest]
