"""The receiver the notifications guide shows accepts what the notifier sends, and refuses
a forged, a stale and a repeated request."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from hakobu.controller.notify import EventKind, signature
from tests.unit.controller.notify.receivers import receiving
from tests.unit.controller.notify.test_notifier import (
    KEY,
    Secrets,
    event,
    notifier,
    settings,
    target,
)

GUIDE = Path(__file__).resolve().parents[4] / "docs" / "guide" / "notifications.md"
Accept = Callable[[bytes, dict[str, str], bytes, set[str]], dict[str, Any]]


def guide_receiver() -> Accept:
    [code] = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.DOTALL)
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 - the guide's own example, run as written
    return cast(Accept, namespace["accept"])


def test_the_guides_receiver() -> None:
    accept = guide_receiver()
    with receiving() as hook:
        secrets = Secrets(audit={"url": hook.url.encode(), "key": KEY})
        with notifier(secrets) as (notify, _):
            notify.notify(event(EventKind.DRIFT_REPAIRED), settings(target("audit", "webhook")))
            [request] = hook.wait_for(1)
    headers = {"X-Hakobu-Signature-256": request.headers["x-hakobu-signature-256"]}
    seen: set[str] = set()
    assert accept(request.body, headers, KEY, seen)["kind"] == "drift-repaired"
    assert seen == {json.loads(request.body)["id"]}
    with pytest.raises(PermissionError, match="bad signature"):
        accept(request.body, headers, b"not the key", set())
    stale = json.loads(request.body) | {"sentAt": 1_000_000_000}
    body = json.dumps(stale).encode()
    with pytest.raises(PermissionError, match="too old"):
        accept(body, {"X-Hakobu-Signature-256": signature(KEY, body)}, KEY, set())
