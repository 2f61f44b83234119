from __future__ import annotations

from typing import Any

from hakobu.web.actions import SyncPreview, what_changed


def preview(revision: str, *diffs: dict[str, Any]) -> SyncPreview:
    return SyncPreview("dev", None, False, False, revision, diffs, 0, revision)


def diff(ref: str, text: str) -> dict[str, Any]:
    return {"app": "web", "ref": ref, "change": "update", "text": text, "note": ""}


def test_what_changed_names_the_revision_and_each_object() -> None:
    old = preview("a" * 40, diff("ConfigMap/ns/a", "x"), diff("ConfigMap/ns/b", "y"))
    new = preview("b" * 40, diff("ConfigMap/ns/b", "z"), diff("ConfigMap/ns/c", "w"))
    assert what_changed(old, new) == [
        f"git moved from {'a' * 12} to {'b' * 12}",
        "ConfigMap/ns/a no longer differs",
        "ConfigMap/ns/c now differs (update)",
        "ConfigMap/ns/b differs otherwise than shown",
    ]


def test_an_unknown_preview_is_said_to_be_unknown() -> None:
    assert "not known" in what_changed(None, preview("a" * 40))[0]
