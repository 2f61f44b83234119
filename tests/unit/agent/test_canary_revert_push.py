"""The revert of an aborted canary from the agent's clone: pushed without force, and made
again on top of a branch that moved meanwhile (real git, a bare remote)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from hakobu.agent.checkout import Checkout
from hakobu.errors import OperationFailed
from hakobu.model.canary import template_hash
from hakobu.releases.canary.revert import RevertRequest
from tests.unit.releases.test_rollback import Shop

DEPLOYMENT = "generated/prod/web/deployment-web.yaml"


def digest(shop: Shop) -> str:
    return template_hash(yaml.safe_load(shop.read(DEPLOYMENT))["spec"]["template"])


def test_a_revert_refused_on_a_moved_branch_is_made_again_on_top_of_it(tmp_path: Path) -> None:
    shop = Shop(tmp_path / "shop")
    stable = shop.render_and_commit("web 1.27")
    stable_digest = digest(shop)
    shop.set_image("nginx:1.28")
    shop.render_and_commit("web 1.28")
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(shop.root), str(bare)], check=True)
    shop.git("remote", "add", "origin", str(bare))
    request = RevertRequest(
        output="generated",
        apps="apps",
        env="prod",
        app="web",
        deployment="web",
        stable=stable_digest,
        failed=digest(shop),
        reason="the canary aborted",
    )
    checkout = Checkout(str(bare), "main", tmp_path / "clone")
    checkout.fetch()

    # Someone pushes an unrelated change while the revert is made: not a fast forward.
    shop.write("README.md", "the shop\n")
    shop.git("add", "README.md")
    shop.git("commit", "-qm", "readme")
    shop.git("push", "-q", "origin", "main")
    moved = shop.head()
    with pytest.raises(OperationFailed):
        checkout.push(checkout.commit_revert(request))
    assert (
        subprocess.run(
            ["git", "-C", str(bare), "rev-parse", "main"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        == moved
    )

    # After the next fetch the revert is made on what arrived, and pushed.
    assert checkout.fetch() == moved
    revert = checkout.commit_revert(request)
    checkout.push(revert)
    shop.git("pull", "-q", "origin", "main")
    assert shop.head() == revert
    assert shop.git("rev-parse", "HEAD~1") == moved
    assert digest(shop) == stable_digest
    assert "nginx:1.27" in shop.read("apps/web.yaml")
    assert shop.read("README.md") == "the shop\n"
    assert shop.git("log", "-1", "--format=%s").startswith(f"rollback prod/web to {stable[:7]}")
