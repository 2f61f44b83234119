"""Parsed manifests kept by their app directory's git tree id."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hakobu.sync.manifestcache import ManifestCache

CONFIG = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "1"}}


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HAKOBU_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_an_app_is_read_back_as_it_was_parsed(tmp_path: Path) -> None:
    cache = ManifestCache.of(tmp_path, "production")
    assert cache.get("t1") is None
    cache.put("t1", [("configmap-a.yaml", [CONFIG])])
    cache.save()
    again = ManifestCache.of(tmp_path, "production")
    assert again.get("t1") == [("configmap-a.yaml", [CONFIG])]
    # Another environment keeps a cache of its own.
    assert ManifestCache.of(tmp_path, "staging").get("t1") is None


def test_a_save_keeps_only_the_apps_read_since_loading(tmp_path: Path) -> None:
    cache = ManifestCache.of(tmp_path, "production")
    cache.put("old", [("a.yaml", [CONFIG])])
    cache.put("kept", [("b.yaml", [CONFIG])])
    cache.save()
    second = ManifestCache.of(tmp_path, "production")
    assert second.get("kept") is not None
    second.put("new", [("c.yaml", [CONFIG])])
    second.save()
    third = ManifestCache.of(tmp_path, "production")
    assert third.get("old") is None
    assert third.get("kept") is not None and third.get("new") is not None


@pytest.mark.parametrize(
    "value",
    [math.nan, b"bytes", {1: "a non-string key"}, 2**70],
    ids=["nan", "bytes", "int-key", "big-int"],
)
def test_what_json_would_change_is_not_kept(tmp_path: Path, value: object) -> None:
    cache = ManifestCache.of(tmp_path, "production")
    cache.put("t", [("a.yaml", [{**CONFIG, "data": {"k": value}}])])
    cache.save()
    assert ManifestCache.of(tmp_path, "production").get("t") is None


def test_a_cache_written_by_another_version_or_damaged_is_not_read(
    tmp_path: Path, cache_dir: Path
) -> None:
    cache = ManifestCache.of(tmp_path, "production")
    cache.put("t", [("a.yaml", [CONFIG])])
    cache.save()
    (written,) = cache_dir.rglob("production.jsonl")
    header, entry = written.read_bytes().split(b"\n")
    written.write_bytes(b"hakobu-manifests 0.0.0\n" + entry)
    assert ManifestCache.of(tmp_path, "production").get("t") is None
    written.write_bytes(header + b'\nt\t[["a.yaml", [{')
    assert ManifestCache.of(tmp_path, "production").get("t") is None
