"""Release commands as a script or a tier sees them: rollback -o json, a tier's history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.releases.test_rollback import Shop, hakobu


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


def test_history_of_a_tier_follows_its_branch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = Shop(tmp_path / "shop")
    text = shop.read("hakobu.yaml").replace(
        "{namespace: shop-prod}", "{namespace: shop-prod, branch: tier-1}"
    )
    shop.write("hakobu.yaml", text)
    shop.render_and_commit("web 1.27")
    shop.git("branch", "tier-1")
    shop.set_image("nginx:1.28")
    shop.render_and_commit("web 1.28, not promoted")
    missing = str(tmp_path / "no-kubeconfig")
    capsys.readouterr()
    assert (
        hakobu("history", "prod", "-C", str(shop.root), "--kubeconfig", missing, "-o", "json") == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert [c["subject"] for c in report["commits"]] == ["web 1.27"]
