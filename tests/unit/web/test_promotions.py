from __future__ import annotations

from typing import Any

from hakobu.web.promotions import PromotePreview, promotion_changes


def preview(revision: str, *apps: dict[str, Any]) -> PromotePreview:
    return PromotePreview("dev", "prod", None, revision, apps, (), (), "promote", revision)


def test_what_changed_since_a_promotion_preview_is_named() -> None:
    web = {"app": "web", "changes": [{"field": "image", "before": "a:1", "after": "a:2"}]}
    old = preview("a" * 40, web)
    assert promotion_changes(old, preview("b" * 40)) == [
        f"dev now runs {'b' * 12}, not {'a' * 12}",
        "what prod would receive changed",
    ]
    assert promotion_changes(old, preview("a" * 40, web)) == ["the promotion's commit would differ"]
    assert "not known" in promotion_changes(None, old)[0]
