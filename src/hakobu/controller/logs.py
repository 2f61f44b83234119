"""The controller's log: one JSON object a line, carrying the Delivery, revision and app it
is about, so a log pipeline can filter by them; never a Secret's value (callers pass
messages that never hold one: URLs with credentials are not logged)."""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime
from typing import TextIO

import orjson

_lock = threading.Lock()


def log(
    message: str,
    *,
    level: str = "info",
    stream: TextIO | None = None,
    **fields: str | int | float | None,
) -> None:
    record: dict[str, object] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": level,
        "msg": message,
    }
    record.update({key: value for key, value in fields.items() if value is not None})
    line = orjson.dumps(record).decode()
    with _lock:
        print(line, file=stream or sys.stderr, flush=True)
