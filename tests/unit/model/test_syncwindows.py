"""``syncWindows:`` in hakobu.yaml: what is accepted, and errors naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.model.project import load_project
from hakobu.model.source import SourceError
from hakobu.model.syncwindows import WindowKind

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
environments:
  production:
    namespace: shop
    syncWindows:
{windows}
"""


def load(tmp_path: Path, windows: str) -> list[object]:
    (tmp_path / "hakobu.yaml").write_text(PROJECT.format(windows=windows))
    return list(load_project(tmp_path).environment("production").sync_windows)


def test_windows_with_their_defaults(tmp_path: Path) -> None:
    windows = load(
        tmp_path,
        '    - {kind: deny, schedule: "0 22 * * 1-5", duration: 10h, timeZone: Europe/Berlin,'
        " manualSync: true}\n"
        '    - {kind: allow, schedule: "0 2 * * *", duration: 1h30m}',
    )
    deny, allow = windows
    assert (deny.kind, deny.seconds, deny.time_zone, deny.manual_sync) == (  # type: ignore[attr-defined]
        WindowKind.DENY,
        36000.0,
        "Europe/Berlin",
        True,
    )
    assert (allow.kind, allow.seconds, allow.time_zone, allow.manual_sync) == (  # type: ignore[attr-defined]
        WindowKind.ALLOW,
        5400.0,
        "UTC",
        False,
    )
    assert allow.describe() == "allow window syncWindows[1] ('0 2 * * *' for 1h30m)"  # type: ignore[attr-defined]


def test_no_windows_is_an_empty_tuple(tmp_path: Path) -> None:
    (tmp_path / "hakobu.yaml").write_text(PROJECT.split("    syncWindows:", maxsplit=1)[0])
    assert load_project(tmp_path).environment("production").sync_windows == ()


@pytest.mark.parametrize(
    ("windows", "expected"),
    [
        (
            "      kind: deny",
            "hakobu.yaml:7: environments.production.syncWindows: expected a list of windows",
        ),
        (
            '    - {kind: block, schedule: "0 22 * * *", duration: 1h}',
            "hakobu.yaml:8: environments.production.syncWindows[0].kind: expected allow or deny",
        ),
        (
            '    - {kind: deny, schedule: "0 0 22 * * *", duration: 1h}',
            "syncWindows[0].schedule: expected a cron schedule of five fields "
            "(minute hour day month weekday); '0 0 22 * * *' has 6",
        ),
        (
            '    - {kind: deny, schedule: "61 22 * * *", duration: 1h}',
            "syncWindows[0].schedule: '61 22 * * *': bad minute field",
        ),
        (
            '    - {kind: deny, schedule: "0 0 30 2 *", duration: 1h}',
            "syncWindows[0].schedule: '0 0 30 2 *': bad day-of-month field",
        ),
        (
            '    - {kind: deny, schedule: "0 22 * * *", duration: "60"}',
            "syncWindows[0].duration: '60' is not a duration",
        ),
        (
            '    - {kind: deny, schedule: "0 22 * * *", duration: 30s}',
            "syncWindows[0].duration: expected a duration from 1m to 366 days",
        ),
        (
            '    - {kind: deny, schedule: "0 22 * * *", duration: 1h, timeZone: Mars/Olympus}',
            "syncWindows[0].timeZone: 'Mars/Olympus' is not a time zone of the IANA database",
        ),
        (
            '    - {kind: deny, schedule: "0 22 * * *", duration: 1h, timeZone: ../../etc/passwd}',
            "syncWindows[0].timeZone: '../../etc/passwd' is not a time zone",
        ),
        (
            '    - {kind: deny, schedule: "0 22 * * *", duration: 1h, manualSync: "yes"}',
            "syncWindows[0].manualSync: expected true or false, found 'yes'",
        ),
        (
            '    - {kind: deny, schedule: "0 22 * * *", duration: 1h, apps: [web]}',
            "syncWindows[0].apps: unknown field; expected one of: kind, schedule, duration",
        ),
    ],
)
def test_errors_name_the_line_and_field(tmp_path: Path, windows: str, expected: str) -> None:
    with pytest.raises(SourceError) as caught:
        load(tmp_path, windows)
    assert expected in caught.value.message
    assert caught.value.exit_code == 2
    # The list's own line when it is not a list, else the window's.
    assert caught.value.line == (7 if windows.startswith("      kind") else 8)
