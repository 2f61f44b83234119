"""``-o json`` of rollback: what a script reading it expects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.test_repo_rollback import Shop, hakobu


def test_rollback_of_one_app_names_the_app_not_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = Shop(tmp_path / "shop")
    shop.render_and_commit("web 1.27")
    shop.set_image("nginx:1.28")
    shop.render_and_commit("web 1.28")
    capsys.readouterr()
    assert hakobu("rollback", "dev", "-C", str(shop.root), "--app", "web", "-o", "json") == 0
    report = json.loads(capsys.readouterr().out)
    assert [change["apps"] for change in report["undone"]] == [["web"]]
    assert report["path"] == "generated/dev/web"
