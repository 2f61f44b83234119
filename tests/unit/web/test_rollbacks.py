from __future__ import annotations

from hakobu.web.rollbacks import RollbackPreview, rollback_changes


def preview(head: str, replaced: str, target: str) -> RollbackPreview:
    return RollbackPreview(
        "dev", None, target, "generated/dev", target, replaced, head, (), "rollback", head
    )


def test_what_changed_since_a_rollback_preview_is_named() -> None:
    old = preview("a" * 40, "b" * 40, "c" * 40)
    assert rollback_changes(old, preview("a" * 40, "b" * 40, "c" * 40)) == [
        "the rollback's commit would differ"
    ]
    assert rollback_changes(old, preview("d" * 40, "e" * 40, "c" * 40)) == [
        f"the branch moved from {'a' * 12} to {'d' * 12}",
        f"generated/dev was last changed by {'e' * 12}, not {'b' * 12}",
    ]
    assert "not known" in rollback_changes(None, old)[0]
