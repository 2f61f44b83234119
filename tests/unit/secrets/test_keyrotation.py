"""Renewing the sealing key as the controller does, and noticing a backup that lacks it."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from hakobu.secrets.documents import dump_object
from hakobu.secrets.keystore import KeyStore, SealingKey, backup_list, new_key, stale_backup
from tests.fakes.kube import FakeKube

DAY = datetime.timedelta(days=1)
START = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def made() -> list[SealingKey]:
    return [new_key("unit", key_size=2048, now=START + i * DAY) for i in range(2)]


def store() -> KeyStore:
    kube = FakeKube()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}})
    return KeyStore(kube, "kube-system")


def test_a_recent_key_is_kept_an_old_one_renewed(made: list[SealingKey]) -> None:
    keys = store()
    first = keys.rotate(lambda: made[0], 30 * DAY, START)
    assert first.created is not None and first.before == ()
    recent = keys.rotate(lambda: made[1], 30 * DAY, START + 29 * DAY)
    assert recent.created is None and [k.fingerprint for k in recent.before] == [
        made[0].fingerprint
    ]
    due = keys.rotate(lambda: made[1], 30 * DAY, START + 30 * DAY)
    assert due.created is not None and due.created.fingerprint == made[1].fingerprint
    assert len(keys.read()) == 2


def test_force_renews_a_recent_key(made: list[SealingKey]) -> None:
    keys = store()
    keys.rotate(lambda: made[0], 30 * DAY, START)
    assert keys.rotate(lambda: made[1], 30 * DAY, START, force=True).created is not None


def test_the_newest_backup_is_stale_once_a_newer_key_seals(
    made: list[SealingKey], tmp_path: Path
) -> None:
    keys = store()
    keys.add(made[0])
    old = tmp_path / "old.yaml"
    old.write_text(dump_object(backup_list(keys.read())))
    assert stale_backup([old], keys.read()) is None
    keys.add(made[1])
    assert stale_backup([old], keys.read()) == old
    new = tmp_path / "new.yaml"
    new.write_text(dump_object(backup_list(keys.read())))
    assert stale_backup([old, new], keys.read()) is None
    assert stale_backup([], keys.read()) is None
