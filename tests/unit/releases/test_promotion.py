"""Promotion of app specs: the text edit, and ``hakobu promote`` on real repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.errors import InvalidInput, OperationFailed
from hakobu.localcluster.toolchain import KUBERNETES_VERSION
from hakobu.model.appspec import load_app
from hakobu.model.clusters import Cluster
from hakobu.model.project import load_project
from hakobu.model.source import SourceError, load_one
from hakobu.releases import (
    BranchMove,
    HealthCheck,
    PromotionRequest,
    apply_promotion,
    plan_promotion,
    promote,
)
from hakobu.releases.appspec import FieldChange, promote_spec
from hakobu.releases.overrides import inline, set_override
from hakobu.render.environment import render_environment, write_environment
from hakobu.render.helm import Helm
from tests.unit.releases.test_rollback import Shop, hakobu
from tests.unit.render.charts import write_chart

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
    assert promotion.changes == (FieldChange("image", "nginx:1.27", f"nginx:1.28@{DIGEST}"),)
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
    assert set_override(text, FILE, "prod", ("image",), "x:1") == expected


def test_an_edit_that_would_change_more_is_refused() -> None:
    # An anchor shared with another environment: editing it would change both.
    text = (
        "name: web\nimage: nginx:1.27\nenvironments:\n"
        "  dev: &same {image: nginx:1.28}\n  staging: *same\n  prod: {}\n"
    )
    with pytest.raises(OperationFailed, match="more than"):
        promote_spec("web", FILE, text, "prod", "dev")


# --- values declared promotable ---------------------------------------------------------

FEATURES = """\
name: web
image: nginx:1.27
promote: [image, env.FEATURE, resources.limits]
env:
  LOG: info
  FEATURE: "off"  # dark launch
resources:
  limits: {cpu: 500m, memory: 256Mi}
environments:
  dev:
    image: nginx:1.28
    env: {FEATURE: "on"}
    resources:
      limits: {cpu: "1", memory: null}
    replicas: 2
  prod:
    # production runs more
    replicas: 3
    env:
      REGION: eu  # prod only
"""


def test_promotion_moves_exactly_the_declared_values() -> None:
    promotion = promote_spec("web", FILE, FEATURES, "dev", "prod")

    assert promotion is not None
    assert promotion.changes == (
        FieldChange("image", "nginx:1.27", "nginx:1.28"),
        FieldChange("env.FEATURE", '"off"', '"on"'),
        FieldChange("resources.limits", "{cpu: 500m, memory: 256Mi}", '{cpu: "1"}'),
    )
    # New fields first, in the declared order; a new key inside a field last. The base's
    # memory limit is written as null: prod's limits become exactly dev's.
    assert promotion.text == FEATURES.replace(
        "  prod:\n",
        '  prod:\n    image: nginx:1.28\n    resources:\n      limits: {cpu: "1", memory: null}\n',
    ).replace(
        "      REGION: eu  # prod only\n", '      REGION: eu  # prod only\n      FEATURE: "on"\n'
    )
    spec = load_app(FILE, promotion.text)
    dev, prod = spec.for_environment("dev"), spec.for_environment("prod")
    assert (prod.image, prod.resources) == (dev.image, dev.resources)
    assert [(v.name, v.value) for v in prod.env] == [
        ("LOG", "info"),
        ("FEATURE", "on"),
        ("REGION", "eu"),
    ]
    # Not declared: prod keeps its own.
    assert (prod.replicas, dev.replicas) == (3, 2)
    assert load_app(FILE, FEATURES).for_environment("dev") == dev


def test_a_mapping_becomes_exactly_froms_down_to_keys_only_the_base_has() -> None:
    text = (
        "name: web\nimage: nginx:1.27\npromote: [resources]\n"
        "resources: {requests: {cpu: 100m}, limits: {cpu: 1, memory: 1Gi}}\n"
        "environments:\n"
        "  dev: {resources: {limits: {memory: null}}}\n"
        "  prod: {resources: {requests: {cpu: 200m}}}\n"
    )
    promotion = promote_spec("web", FILE, text, "dev", "prod")

    assert promotion is not None
    assert promotion.text.endswith(
        "  prod: {resources: {requests: {cpu: 100m}, limits: {cpu: 1, memory: null}}}\n"
    )
    spec = load_app(FILE, promotion.text)
    assert spec.for_environment("prod").resources == spec.for_environment("dev").resources


def test_a_path_from_lacks_is_removed_in_to() -> None:
    text = (
        "name: web\nimage: nginx:1.27\npromote: [env.FEATURE]\nenv: {LOG: info}\n"
        "environments:\n  prod: {env: {FEATURE: 'on'}}\n"
    )
    promotion = promote_spec("web", FILE, text, "dev", "prod")

    assert promotion is not None
    assert promotion.changes == (FieldChange("env.FEATURE", '"on"', "null"),)
    assert promotion.text.endswith("  prod: {env: {FEATURE: null}}\n")
    assert [v.name for v in load_app(FILE, promotion.text).for_environment("prod").env] == ["LOG"]


def test_equal_values_are_no_change_but_a_different_type_is() -> None:
    text = (
        "name: web\nimage: nginx:1.27\npromote: [env.X]\nenvironments:\n"
        "  dev: {env: {X: 1}, replicas: 2}\n  prod: {env: {X: 1}}\n"
    )
    assert promote_spec("web", FILE, text, "dev", "prod") is None

    # true and 1 are equal in Python, not in the Deployment ("true" and "1").
    promotion = promote_spec(
        "web", FILE, text.replace("prod: {env: {X: 1}}", "prod: {env: {X: true}}"), "dev", "prod"
    )
    assert promotion is not None
    assert promotion.changes == (FieldChange("env.X", "true", "1"),)


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        pytest.param(
            "name: a\n",
            ("env", "F"),
            "name: a\nenvironments:\n  prod:\n    env:\n      F: x\n",
            id="no-environments",
        ),
        pytest.param(
            "name: a\nenvironments:\n  # dev first\n  dev: {}\n",
            ("env", "F"),
            "name: a\nenvironments:\n  prod:\n    env:\n      F: x\n  # dev first\n  dev: {}\n",
            id="missing-environment",
        ),
        pytest.param(
            "name: a\nenvironments:\n  prod:\n    replicas: 2\n",
            ("env", "F"),
            "name: a\nenvironments:\n  prod:\n    env:\n      F: x\n    replicas: 2\n",
            id="missing-field",
        ),
        pytest.param(
            "name: a\nenvironments:\n  prod:\n    env:  # vars\n      A: a  # first\n\n"
            "    replicas: 2\n",
            ("env", "F"),
            "name: a\nenvironments:\n  prod:\n    env:  # vars\n      A: a  # first\n"
            "      F: x\n\n    replicas: 2\n",
            id="into-an-existing-override",
        ),
        pytest.param(
            "name: a\nenvironments:\n  prod: {env: {A: a}}  # keep\n",
            ("env", "F"),
            "name: a\nenvironments:\n  prod: {env: {A: a, F: x}}  # keep\n",
            id="flow-mapping",
        ),
        pytest.param(
            "name: a\nenvironments:\n  prod: {env: {}}\n",
            ("env", "F"),
            "name: a\nenvironments:\n  prod: {env: {F: x}}\n",
            id="empty-flow-mapping",
        ),
        pytest.param(
            "name: a\nenvironments:\n  prod:\n    env:\n    replicas: 2\n",
            ("env", "F"),
            "name: a\nenvironments:\n  prod:\n    env: {F: x}\n    replicas: 2\n",
            id="null-on-the-way",
        ),
        pytest.param(
            "name: a\nenvironments:\n  prod:\n    env:\n      F: 'old'  # was\n      B: b\n",
            ("env", "F"),
            "name: a\nenvironments:\n  prod:\n    env:\n      F: x  # was\n      B: b\n",
            id="replace",
        ),
        pytest.param(
            "name: a\nenvironments:\n  prod:\n    configFiles:\n      files:\n"
            "        F: |\n          old\n\n        # after\n        G: g\n",
            ("configFiles", "files", "F"),
            "name: a\nenvironments:\n  prod:\n    configFiles:\n      files:\n"
            "        F: x\n\n        # after\n        G: g\n",
            id="replace-a-block-scalar",
        ),
        pytest.param(
            "name: a\nenvironments:\n  prod:\n    env:\n      A: |\n        text\n\n"
            "    replicas: 2\n",
            ("env", "F"),
            "name: a\nenvironments:\n  prod:\n    env:\n      A: |\n        text\n"
            "      F: x\n\n    replicas: 2\n",
            id="after-a-block-scalar",
        ),
    ],
)
def test_set_override_creates_and_descends_mappings(
    text: str, path: tuple[str, ...], expected: str
) -> None:
    assert set_override(text, FILE, "prod", path, "x") == expected


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("on", '"on"'),
        ("0o17", '"0o17"'),
        ("a,b", '"a,b"'),
        ("x: y", '"x: y"'),
        ("two\nlines", '"two\\nlines"'),
        ({"app.conf": "k = v", "yes": None}, '{app.conf: k = v, "yes": null}'),
        ([1, "a", True, {"b": 0.5}], "[1, a, true, {b: 0.5}]"),
    ],
)
def test_values_are_written_as_one_line_that_reads_back_the_same(
    value: object, written: str
) -> None:
    assert inline(value) == written
    text = set_override("name: web\nimage: nginx:1\n", FILE, "prod", ("env", "X"), value)
    assert text.endswith(f"      X: {written}\n")
    assert load_one(FILE, text).data["environments"]["prod"]["env"]["X"] == value


def test_a_scalar_on_the_way_is_an_error_with_its_line() -> None:
    with pytest.raises(
        SourceError, match=r"web.yaml:4: expected environments.prod.env to be a mapping"
    ):
        set_override(
            "name: a\nenvironments:\n  prod:\n    env: x\n", FILE, "prod", ("env", "F"), "y"
        )


def test_promoting_into_a_value_that_is_no_mapping_is_refused() -> None:
    text = (
        "name: web\nimage: nginx:1.27\npromote: [image.tag]\nenvironments:\n"
        "  dev: {image: {repository: nginx, tag: '1.28'}}\n"
    )
    with pytest.raises(OperationFailed, match="image is not a mapping in prod") as refused:
        promote_spec("web", FILE, text, "dev", "prod")
    assert refused.value.hint == "promote image instead (in promote:)"


def test_a_result_that_is_not_a_valid_spec_is_refused() -> None:
    # dev renamed its port and routed its ingress to it; promoting the ports alone would
    # leave prod's ingress pointing at a port that no longer exists.
    text = (
        "name: web\nimage: nginx:1.27\npromote: [ports]\nports: [{name: http, port: 80}]\n"
        "ingress: {host: web.example.test, port: http}\n"
        "environments:\n  dev: {ports: [{name: web, port: 80}], ingress: {port: web}}\n"
    )
    with pytest.raises(
        OperationFailed, match=r"would make the spec invalid: .*no port is named 'http'"
    ) as refused:
        promote_spec("web", FILE, text, "dev", "prod")
    assert refused.value.hint == (
        "edit environments.prod by hand so that prod gets ports: [{name: web, port: 80}]"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param(
            # prod removed env altogether: writing env.F into it brings the base's back.
            "name: web\nimage: nginx:1.27\npromote: [env.F]\nenv: {A: a}\n"
            "environments:\n  dev: {env: {F: x}}\n  prod:\n    env: null\n",
            "would change prod other than by taking dev's env.F (its env would differ)",
            id="to",
        ),
        pytest.param(
            # prod's env is the base's, by alias: writing into it writes the base.
            "name: web\nimage: nginx:1.27\npromote: [env.F]\nenv: &vars {A: a}\n"
            "environments:\n  dev: {env: {F: x}}\n  prod:\n    env: *vars\n",
            "would change more than prod's env.F: also env of the base spec",
            id="base",
        ),
    ],
)
def test_an_edit_that_changes_anything_else_is_refused(text: str, problem: str) -> None:
    with pytest.raises(OperationFailed) as refused:
        promote_spec("web", FILE, text, "dev", "prod")
    assert refused.value.message == f"{FILE}: writing environments.prod.env.F {problem}"
    assert refused.value.hint == "edit environments.prod by hand so that prod gets env.F: x"


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
    assert "  web:\n    image: nginx:1.27 → nginx:1.28" in message

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
    assert [(p.app, p.changes) for p in result.apps] == [
        ("api", (FieldChange("image", "api:1", "api:2"),)),
        ("web", (FieldChange("image", "nginx:1.27", "nginx:1.28"),)),
    ]
    again = promote(load_project(shop.root), PromotionRequest("dev", "prod"), connect=None)
    assert again.commit is None and again.apps == ()


def test_the_cluster_is_asked_only_about_a_request_that_applies(shop: Shop) -> None:
    project = load_project(shop.root)
    before = shop.head()
    asked: list[str] = []

    def connect(cluster: Cluster | None) -> KubeClient:
        assert cluster is None
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


def test_a_plan_changes_nothing_and_applying_it_makes_exactly_its_commit(shop: Shop) -> None:
    project = load_project(shop.root)
    before = shop.head()

    plan = plan_promotion(project, PromotionRequest("dev", "prod", keys_namespace="keys"))

    assert shop.head() == before and shop.git("status", "--porcelain") == ""
    assert plan.health == HealthCheck("dev", before, None, "keys")
    assert plan.move is None and plan.branch is None
    assert [(p.app, p.changes) for p in plan.apps] == [
        ("api", (FieldChange("image", "api:1", "api:2"),)),
        ("web", (FieldChange("image", "nginx:1.27", "nginx:1.28"),)),
    ]
    assert plan.commit is not None
    assert (plan.commit.parent, plan.commit.ref) == (before, "HEAD")
    assert [r.path for r in plan.commit.replacements] == [
        "apps/api.yaml",
        "apps/web.yaml",
        "generated/prod",
    ]
    output = plan.commit.replacements[-1].files
    assert b"image: nginx:1.28" in output["generated/prod/web/deployment-web.yaml"].data
    assert plan.commit.message.startswith("promote dev → prod: api, web\n")

    result = apply_promotion(project, plan, connect=None)

    assert result.commit == shop.head() and shop.git("rev-parse", "HEAD~1") == before
    assert shop.git("log", "-1", "--format=%B") + "\n" == plan.commit.message
    assert shop.git("status", "--porcelain") == ""
    changed = shop.git("show", "--name-only", "--format=", "HEAD").splitlines()
    assert {p for p in changed if not p.startswith("generated/prod/")} == {
        "apps/api.yaml",
        "apps/web.yaml",
    }
    for path, file in output.items():
        assert shop.read(path).encode() == file.data


def test_a_plan_is_not_applied_over_a_commit_made_since(shop: Shop) -> None:
    project = load_project(shop.root)
    plan = plan_promotion(project, PromotionRequest("dev", "prod"))
    shop.write("README.md", "the shop\n")
    shop.git("add", "README.md")
    shop.git("commit", "-q", "-m", "a readme")
    moved = shop.head()

    with pytest.raises(OperationFailed, match="may have moved"):
        apply_promotion(project, plan, connect=None)

    assert shop.head() == moved and shop.git("status", "--porcelain") == ""


def test_a_plan_for_review_names_its_branch_and_one_with_nothing_to_do_no_commit(
    shop: Shop,
) -> None:
    project = load_project(shop.root)

    review = plan_promotion(project, PromotionRequest("dev", "prod", app="web", branch="r1"))

    assert review.commit is not None and review.commit.ref == "refs/heads/r1"
    assert review.health == HealthCheck("dev", shop.head(), "web", None)
    assert [r.path for r in review.commit.replacements] == ["apps/web.yaml", "generated/prod/web"]
    assert shop.git("branch", "--list", "r1") == ""

    promote(project, PromotionRequest("dev", "prod"), connect=None)
    done = plan_promotion(load_project(shop.root), PromotionRequest("dev", "prod"))
    assert done.commit is None and done.apps == () and done.values == ()


def test_a_plan_between_tier_branches_moves_the_source_branchs_commit(shop: Shop) -> None:
    shop.write(
        "hakobu.yaml",
        shop.read("hakobu.yaml")
        .replace("{namespace: shop-dev}", "{namespace: shop-dev, branch: main}")
        .replace("{namespace: shop-prod}", "{namespace: shop-prod, branch: tier-1}"),
    )
    first = shop.render_and_commit("tiers")
    shop.git("branch", "tier-1")
    shop.set_image("nginx:1.29")
    tested = shop.render_and_commit("web 1.29")
    project = load_project(shop.root)

    plan = plan_promotion(project, PromotionRequest("dev", "prod", push="origin"))

    assert plan.commit is None and plan.branch == "tier-1"
    assert plan.health == HealthCheck("dev", tested, None, None)
    assert plan.move is not None
    assert plan.move == BranchMove("main", "tier-1", tested, plan.move.message, "origin")
    assert plan.move.message.startswith(f"promote dev → prod: {tested[:7]}")
    assert shop.git("rev-parse", "tier-1") == first

    local = plan_promotion(project, PromotionRequest("dev", "prod"))
    result = apply_promotion(project, local, connect=None)

    assert result.advance is not None and result.advance.how == "fast-forward"
    assert shop.git("rev-parse", "tier-1") == tested


def test_the_command_reports_each_apps_changed_fields(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    web = shop.read("apps/web.yaml").replace(
        "environments:\n", "promote: [image, env.FEATURE]\nenvironments:\n"
    )
    shop.write(
        "apps/web.yaml",
        web.replace("    image: nginx:1.28\n", "    image: nginx:1.28\n    env: {FEATURE: 'on'}\n"),
    )
    shop.render_and_commit("web declares FEATURE promotable")
    root = str(shop.root)

    assert hakobu("promote", "dev", "prod", "-C", root, "--force", "--branch", "r1") == 0
    assert capsys.readouterr().out.endswith(
        "  api:\n    image: api:1 → api:2\n"
        '  web:\n    image: nginx:1.27 → nginx:1.28\n    env.FEATURE: null → "on"\n'
    )
    assert hakobu("promote", "dev", "prod", "-C", root, "--force", "-o", "json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["apps"] == [
        {"app": "api", "changes": [{"field": "image", "before": "api:1", "after": "api:2"}]},
        {
            "app": "web",
            "changes": [
                {"field": "image", "before": "nginx:1.27", "after": "nginx:1.28"},
                # Values, not their YAML text: absent is null, "on" the string.
                {"field": "env.FEATURE", "before": None, "after": "on"},
            ],
        },
    ]
    message = shop.git("log", "-1", "--format=%B")
    assert '  web:\n    image: nginx:1.27 → nginx:1.28\n    env.FEATURE: null → "on"' in message


def test_promote_carries_the_environment_values_hakobu_yaml_declares(shop: Shop) -> None:
    shop.write(
        "hakobu.yaml",
        "apiVersion: hakobu.dev/v1alpha1\nkind: Project\nname: shop\n"
        "# What travels between environments besides the apps' own promote: lists.\n"
        "promote:\n  values: [release]\n"
        "environments:\n"
        "  dev:\n    namespace: shop-dev\n    values: {release: '2.1', queue: jobs-dev}\n"
        "  prod:\n    namespace: shop-prod\n    values:\n      release: '2.0'  # current\n"
        "      queue: jobs\n",
    )
    shop.write(
        "apps/worker/deployment.yaml.j2",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: worker}\n"
        "data: {release: '{{ values.release }}', queue: '{{ values.queue }}'}\n",
    )
    shop.render_and_commit("worker, and releases as environment values")
    before = shop.head()

    assert hakobu("promote", "dev", "prod", "-C", str(shop.root), "--force") == 0

    assert shop.git("rev-parse", "HEAD~1") == before
    assert '      release: "2.1"  # current\n      queue: jobs\n' in shop.read("hakobu.yaml")
    prod = yaml.safe_load(shop.read("generated/prod/worker/configmap-worker.yaml"))
    # Declared: the release travels; not declared: prod keeps its own queue.
    assert prod["data"] == {"release": "2.1", "queue": "jobs"}
    changed = shop.git("show", "--name-only", "--format=", "HEAD").splitlines()
    assert "hakobu.yaml" in changed
    assert all(p == "hakobu.yaml" or p.startswith(("apps/", "generated/prod/")) for p in changed)
    assert not shop.stale("prod") and not shop.stale("dev")
    message = shop.git("log", "-1", "--format=%B")
    assert "hakobu.yaml, environments.prod (promote: values:):\n    values.release:" in message

    # A single app's promotion leaves the values every app shares alone.
    shop.write(
        "hakobu.yaml", shop.read("hakobu.yaml").replace("release: '2.1', ", "release: '2.2', ")
    )
    shop.render_and_commit("dev runs 2.2")
    assert hakobu("promote", "dev", "prod", "--app", "web", "-C", str(shop.root), "--force") == 0
    assert 'release: "2.1"  # current' in shop.read("hakobu.yaml")


def test_a_chart_app_is_not_promoted_its_values_files_are_edited_by_hand(
    tmp_path: Path, helm_bin: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = Shop(tmp_path / "shop")
    write_chart(shop.root / "apps" / "store")
    shop.write("apps/store/values-dev.yaml", "replicas: 2\n")
    root = str(shop.root)
    project = load_project(shop.root)
    helm = Helm(lambda: helm_bin, KUBERNETES_VERSION)
    for env in project.environments:
        desired, result = render_environment(project, env, helm=helm)
        write_environment(project, env, desired, result)
    shop.git("add", "-A")
    shop.git("commit", "-qm", "a chart app")
    capsys.readouterr()

    assert hakobu("promote", "dev", "prod", "-C", root, "--force", "--app", "store") == 2
    said = capsys.readouterr()
    assert "app store (a chart: the same chart version in every environment)" in (
        said.out + said.err
    )
    assert "values-<env>.yaml" in said.out + said.err
