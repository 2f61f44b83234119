"""The revert of an aborted canary: the app back to the newest commit running the stable
template, on real git repositories."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest
import yaml

from hakobu.errors import InvalidInput
from hakobu.model.canary import template_hash
from hakobu.releases.canary.revert import RevertRequest, plan_revert
from hakobu.releases.rollback import apply_rollback
from tests.unit.releases.test_rollback import Shop

DEPLOYMENT = "generated/prod/web/deployment-web.yaml"


def digest(shop: Shop) -> str:
    return template_hash(yaml.safe_load(shop.read(DEPLOYMENT))["spec"]["template"])


def request(stable: str, failed: str) -> RevertRequest:
    return RevertRequest(
        output="generated",
        apps="apps",
        env="prod",
        app="web",
        deployment="web",
        stable=stable,
        failed=failed,
        reason="the canary aborted",
    )


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    shop = Shop(tmp_path / "shop")
    shop.render_and_commit("web 1.27")
    return shop


def test_the_revert_returns_to_the_stable_template_past_a_superseded_version(
    shop: Shop,
) -> None:
    stable, stable_digest = shop.head(), digest(shop)
    # 1.28 replaced the canary before it finished; 1.29 then aborted: 1.27 still runs.
    shop.set_image("nginx:1.28")
    shop.render_and_commit("web 1.28")
    shop.set_image("nginx:1.29")
    shop.render_and_commit("web 1.29")
    repo = pygit2.Repository(str(shop.root))
    plan = plan_revert(repo, request(stable_digest, digest(shop)))
    assert plan.target == stable
    assert plan.path == "generated/prod/web"
    assert "apps/web.yaml" in plan.inputs
    assert "Why: the canary aborted" in plan.message

    apply_rollback(repo, plan)
    assert digest(shop) == stable_digest
    assert "nginx:1.27" in shop.read("apps/web.yaml")
    # dev's output is another app's business: untouched.
    assert "nginx:1.29" in shop.read("generated/dev/web/deployment-web.yaml")


def test_no_revert_once_git_no_longer_declares_the_aborted_version(shop: Shop) -> None:
    stable_digest = digest(shop)
    shop.set_image("nginx:1.28")
    shop.render_and_commit("web 1.28")
    failed = digest(shop)
    shop.set_image("nginx:1.30")
    shop.render_and_commit("web 1.30, pushed while 1.28 aborted")
    repo = pygit2.Repository(str(shop.root))
    with pytest.raises(InvalidInput, match="no longer declares the aborted template"):
        plan_revert(repo, request(stable_digest, failed))


def test_no_revert_when_no_commit_runs_the_stable_template(shop: Shop) -> None:
    shop.set_image("nginx:1.28")
    shop.render_and_commit("web 1.28")
    repo = pygit2.Repository(str(shop.root))
    with pytest.raises(InvalidInput, match="declares the template Deployment web runs") as e:
        plan_revert(repo, request("0123456789abcdef", digest(shop)))
    assert "hakobu rollback prod --app web --inputs" in (e.value.hint or "")
