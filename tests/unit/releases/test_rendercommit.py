"""``render_project``: render everything first, then write, then commit output with inputs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from hakobu.errors import InvalidInput
from hakobu.model.project import load_project
from hakobu.releases.rendercommit import RenderRequest, render_project
from hakobu.render.environment import EnvironmentResult
from tests.unit.releases.test_rollback import Shop

DEPLOYMENT = "generated/dev/web/deployment-web.yaml"


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    shop = Shop(tmp_path / "shop")
    shop.render_and_commit("web 1.27")
    shop.set_image("nginx:1.28")
    return shop


def test_a_check_reports_stale_output_and_writes_nothing(shop: Shop) -> None:
    before = shop.read(DEPLOYMENT)
    rendered = render_project(load_project(shop.root), RenderRequest(check=True, commit=True))
    assert rendered.stale and rendered.commit is None
    assert [r.env for r in rendered.results if r.has_changes] == ["dev", "prod"]
    assert shop.read(DEPLOYMENT) == before


def test_nothing_is_written_when_the_report_cannot_be_made(shop: Shop) -> None:
    before = shop.read(DEPLOYMENT)

    def refuse(results: Sequence[EnvironmentResult]) -> None:
        assert len(results) == 2
        raise InvalidInput("the report cannot be made")

    with pytest.raises(InvalidInput, match="the report cannot be made"):
        render_project(load_project(shop.root), RenderRequest(), before_write=refuse)
    assert shop.read(DEPLOYMENT) == before


def test_the_commit_holds_the_output_and_the_inputs_it_came_from(shop: Shop) -> None:
    rendered = render_project(load_project(shop.root), RenderRequest(commit=True))
    assert rendered.commit == shop.head()
    assert "nginx:1.28" in shop.read(DEPLOYMENT)
    message = shop.git("log", "-1", "--format=%B")
    assert message.startswith("render: dev +0 ~2 -0, prod +0 ~2 -0")
    assert "with the inputs it was rendered from:\n  apps/web.yaml" in message
    assert shop.git("status", "--porcelain") == ""
    again = render_project(load_project(shop.root), RenderRequest(commit=True))
    assert again.commit is None and not again.stale


def test_a_partial_render_does_not_commit_inputs_it_leaves_stale(shop: Shop) -> None:
    before = shop.read(DEPLOYMENT)
    with pytest.raises(InvalidInput, match=r"cannot commit a partial render: apps/web\.yaml"):
        render_project(load_project(shop.root), RenderRequest(envs=["dev"], commit=True))
    assert shop.read(DEPLOYMENT) == before
