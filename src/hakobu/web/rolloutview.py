"""An app's rollouts as its page shows them: ``hakobu rollout status``'s JSON for each of
its Deployments that holds a rollout's state.

A measurement's message can quote the analysis address, and an address may carry a user
and password (``https://user:secret@prometheus…``): those are cut out before the message
reaches the browser.
"""

from __future__ import annotations

import re
from typing import Any

from hakobu.cluster.api import KubeApi
from hakobu.model.canary import ROLLOUT_ANNOTATION, STATE_ANNOTATION
from hakobu.model.objects import Object
from hakobu.releases.canary.strategy import status
from hakobu.releases.canary.summary import rollout_json

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def app_rollouts(kube: KubeApi, live: list[Object]) -> list[dict[str, Any]]:
    """The rollout of each Deployment in ``live`` that holds a rollout's state."""
    found = []
    for obj in live:
        meta = obj.get("metadata") or {}
        annotations = meta.get("annotations") or {}
        if obj.get("kind") != "Deployment" or STATE_ANNOTATION not in annotations:
            continue
        if ROLLOUT_ANNOTATION not in annotations:
            continue
        found.append(
            _without_credentials(rollout_json(status(kube, meta["namespace"], meta["name"])))
        )
    return found


def _without_credentials(shown: dict[str, Any]) -> dict[str, Any]:
    def scrubbed(measurements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**m, "message": without_userinfo(m["message"])} for m in measurements]

    return {
        **shown,
        "message": without_userinfo(shown["message"]),
        "measurements": scrubbed(shown["measurements"]),
        "backgroundMeasurements": scrubbed(shown.get("backgroundMeasurements", [])),
    }


def without_userinfo(text: str) -> str:
    """``text`` with the user and password of every URL in it cut out."""
    return _USERINFO.sub(r"\g<scheme>", text)
