"""Promotion of app specs: the text edit, and ``hakobu promote`` on real repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.cluster.client import KubeClient
from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.appspec import load_app
from hakobu.model.project import load_project
from hakobu.releases import PromotionRequest, promote
from hakobu.repo.overrides import set_override
from hakobu.repo.promote import promote_spec
from tests.unit.test_repo_rollback import Shop, hakobu

FILE = Path("apps/web.yaml")
DIGEST = "sha256:" + "ab" * 32

SPEC = f"""\
# the storefront
name: web
image: nginx:1.27  # base
replicas: 1
environments:
  dev:
    image: nginx:1.28@{DIGEST}   # under test
    replicas: 1
  prod:
    # production runs more
    replicas: 3
    env: {{MODE: live}}
"""


def test_promotion_writes_only_the_target_image_and_keeps_comments() -> None:
    promotion = promote_spec("web", FILE, SPEC, "dev", "prod")

    assert promotion is not None
    assert (promotion.before, promotion.after) == ("nginx:1.27", f"nginx:1.28@{DIGEST}")
    assert promotion.text == SPEC.replace("  prod:\n", f"  prod:\n    image: nginx:1.28@{DIGEST}\n")
    spec = load_app(FILE, promotion.text)
    assert spec.for_environment("prod").replicas == 3
    assert spec.image.reference == "nginx:1.27"


def test_promoting_what_already_runs_is_nothing() -> None:
    promotion = promote_spec("web", FILE, SPEC, "dev", "prod")
    assert promotion is not None
    assert promote_spec("web", FILE, promotion.text, "dev", "prod") is None


def test_pull_policy_and_a_digest_without_tag_travel_exactly() -> None:
    text = (
        "name: web\nimage: {repository: nginx, tag: '1.27'}\nenvironments:\n"
        f"  dev: {{image: {{repository: nginx, tag: null, digest: '{DIGEST}', "
        "pullPolicy: Always}}\n"
    )
    promotion = promote_spec("web", FILE, text, "dev", "prod")

    assert promotion is not None
    spec = load_app(FILE, promotion.text)
    assert spec.for_environment("prod").image == spec.for_environment("dev").image
    assert "  prod:\n    image: {repository: nginx, tag: null, digest: " in promotion.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: a\n", "name: a\nenvironments:\n  prod:\n    image: x:1\n"),
        ("name: a\nenvironments:\n  prod:\n", "name: a\nenvironments:\n  prod: {image: x:1}\n"),
        (
            "name: a\nenvironments:\n  prod: {replicas: 2}  # keep\n",
            "name: a\nenvironments:\n  prod: {image: x:1, replicas: 2}  # keep\n",
        ),
        (
            "name: a\nenvironments:\n  dev:\n    replicas: 2\n",
            "name: a\nenvironments:\n  prod:\n    image: x:1\n  dev:\n    replicas: 2\n",
        ),
        (
            "name: a\nenvironments:\n  prod:\n    image:\n      repository: x\n"
            "      tag: '0'\n    # after\n    replicas: 2\n",
            "name: a\nenvironments:\n  prod:\n    image: x:1\n    # after\n    replicas: 2\n",
        ),
    ],
)
def test_set_override_edits_only_what_it_must(text: str, expected: str) -> None:
    assert set_override(text, FILE, "prod", "image", "x:1") == expected


def test_an_edit_that_would_change_more_is_refused() -> None:
    # An anchor shared with another environment: editing it would change both.
    text = (
        "name: web\nimage: nginx:1.27\nenvironments:\n"
        "  dev: &same {image: nginx:1.28}\n  staging: *same\n  prod: {}\n"
    )
    with pytest.raises(OperationFailed, match="more than"):
        promote_spec("web", FILE, text, "prod", "dev")


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    shop = Shop(tmp_path / "shop")
    shop.write(
        "apps/api.yaml",
        "name: api\nimage: api:1  # base\nports: [{name: http, port: 8080}]\n"
        "environments:\n  dev: {image: 'api:2', replicas: 2}\n",
    )
    spec = shop.read("apps/web.yaml").replace(
        "environments:\n", "environments:\n  dev:\n    image: nginx:1.28\n"
    )
    shop.write("apps/web.yaml", spec)
    shop.render_and_commit("dev runs web 1.28 and api 2")
    return shop


def test_promote_carries_images_renders_and_commits(shop: Shop) -> None:
    web_before = shop.read("apps/web.yaml")
    before = shop.head()

    assert hakobu("promote", "dev", "prod", "-C", str(shop.root), "--force") == 0

    assert shop.git("rev-parse", "HEAD~1") == before
    web = shop.read("apps/web.yaml")
    assert web == web_before.replace("  prod:\n", "  prod:\n    image: nginx:1.28\n")
    api = shop.read("apps/api.yaml")
    assert api.endswith(
        "environments:\n  prod:\n    image: api:2\n  dev: {image: 'api:2', replicas: 2}\n"
    )
    prod = shop.read("generated/prod/web/deployment-web.yaml")
    assert "image: nginx:1.28" in prod and "replicas: 2" in prod
    assert "image: api:2" in shop.read("generated/prod/api/deployment-api.yaml")
    # api's replicas in dev are not an image: prod keeps its own.
    assert "replicas: 2" not in shop.read("generated/prod/api/deployment-api.yaml")
    changed = shop.git("show", "--name-only", "--format=", "HEAD").splitlines()
    assert all(p.startswith(("apps/", "generated/prod/")) for p in changed)
    assert not shop.stale("prod") and not shop.stale("dev")
    assert shop.git("status", "--porcelain") == ""
    message = shop.git("log", "-1", "--format=%B")
    assert "promote dev → prod: api, web" in message
    assert "web: nginx:1.27 → nginx:1.28" in message

    assert hakobu("promote", "dev", "prod", "-C", str(shop.root), "--force") == 0
    assert shop.git("rev-parse", "HEAD~1") == before


def test_promote_onto_a_review_branch_leaves_the_current_one_alone(shop: Shop) -> None:
    before = shop.head()
    web = shop.read("apps/web.yaml")
    root = str(shop.root)

    assert (
        hakobu("promote", "dev", "prod", "-C", root, "--app", "web", "--branch", "r1", "--force")
        == 0
    )

    assert shop.head() == before
    assert shop.read("apps/web.yaml") == web
    assert shop.git("status", "--porcelain") == ""
    assert shop.git("rev-parse", "r1~1") == before
    changed = shop.git("show", "--name-only", "--format=", "r1").splitlines()
    assert "apps/web.yaml" in changed and "apps/api.yaml" not in changed
    assert all(p == "apps/web.yaml" or p.startswith("generated/prod/web/") for p in changed)
    assert "image: nginx:1.28" in shop.at("r1", "generated/prod/web/deployment-web.yaml")


def test_promote_errors(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(shop.root)
    before = shop.head()

    assert hakobu("promote", "dev", "staging", "-C", root, "--force") == 2
    assert "no environment named 'staging'" in capsys.readouterr().out

    shop.write("apps/extra.yaml", "name: extra\nimage: x:1\n")
    project = shop.render_and_commit("extra app")
    shop.git("rm", "-q", "-r", "generated/prod/extra")
    shop.git("commit", "-q", "-m", "prod without extra")
    assert hakobu("promote", "dev", "prod", "-C", root, "--force") == 2
    assert "run different apps (only in dev: extra" in capsys.readouterr().out
    assert project != before

    shop.git("reset", "-q", "--hard", before)
    shop.write("apps/web.yaml", shop.read("apps/web.yaml") + "# local\n")
    assert hakobu("promote", "dev", "prod", "-C", root, "--force", "--app", "web") == 2
    assert "local changes" in capsys.readouterr().out
    shop.git("checkout", "--", "apps/web.yaml")

    shop.write("apps/web.yaml", shop.read("apps/web.yaml").replace("replicas: 2", "replicas: 5"))
    shop.git("commit", "-q", "-am", "inputs changed, prod not rendered")
    assert hakobu("promote", "dev", "prod", "-C", root, "--force") == 2
    assert "not what its inputs render" in capsys.readouterr().out
    assert shop.git("log", "-1", "--format=%s") == "inputs changed, prod not rendered"


def test_promote_reports_what_it_committed(shop: Shop) -> None:
    before = shop.head()

    result = promote(load_project(shop.root), PromotionRequest("dev", "prod"), connect=None)

    assert (result.source, result.target, result.revision) == ("dev", "prod", before)
    assert result.commit == shop.head() and result.branch is None and result.advance is None
    assert [(p.app, p.before, p.after) for p in result.apps] == [
        ("api", "api:1", "api:2"),
        ("web", "nginx:1.27", "nginx:1.28"),
    ]
    again = promote(load_project(shop.root), PromotionRequest("dev", "prod"), connect=None)
    assert again.commit is None and again.apps == ()


def test_the_cluster_is_asked_only_about_a_request_that_applies(shop: Shop) -> None:
    project = load_project(shop.root)
    before = shop.head()
    asked: list[str] = []

    def connect() -> KubeClient:
        asked.append("connect")
        raise InvalidInput("no cluster here", hint="point at one")

    with pytest.raises(InvalidInput, match="no app named 'shop'"):
        promote(project, PromotionRequest("dev", "prod", app="shop"), connect=connect)
    assert asked == []

    with pytest.raises(OperationFailed, match="cannot tell whether dev is healthy") as failed:
        promote(project, PromotionRequest("dev", "prod"), connect=connect)
    assert asked == ["connect"]
    assert failed.value.hint == "point at one; or pass --force to promote unchecked"
    assert shop.head() == before
