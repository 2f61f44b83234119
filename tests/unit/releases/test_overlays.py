"""Promotion of kustomize apps: the overlay's ``images:`` edit, its check by rendering, and
``hakobu promote`` on a real repository."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hakobu.errors import OperationFailed
from hakobu.model.project import load_project
from hakobu.model.source import SourceError
from hakobu.releases import PromotionRequest, promote
from hakobu.releases.appspec import AppPromotion, FieldChange
from hakobu.releases.kustomizeimages import promote_images
from hakobu.releases.overlays import promote_overlay
from hakobu.render.apps import discover_apps
from hakobu.render.inputs import Inputs
from tests.unit.releases.test_rollback import Shop

SOURCE = Path("apps/cache/overlays/dev/kustomization.yaml")
TARGET = Path("apps/cache/overlays/prod/kustomization.yaml")

DEV = """\
resources:
  - ../../base
images:
  - name: redis
    newTag: "7.4.1"  # the patch release
"""


def edit(source: str, target: str) -> str:
    promotion = promote_images("cache", (SOURCE, source), (TARGET, target))
    assert promotion is not None
    return promotion.text


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        pytest.param(
            "resources:\n  - ../../base\nimages:\n  - name: redis\n    newTag: '7.2'\n",
            "resources:\n  - ../../base\nimages:\n  - name: redis\n    newTag: 7.4.1\n",
            id="replace-a-tag",
        ),
        pytest.param(
            "# production\nresources:\n  - ../../base\n",
            "# production\nresources:\n  - ../../base\nimages:\n  - name: redis\n"
            "    newTag: 7.4.1\n",
            id="create-images",
        ),
        pytest.param(
            "resources:\n  - ../../base\nimages:\n- name: busybox\n  newTag: '1.36'\npatches: []\n",
            "resources:\n  - ../../base\nimages:\n- name: redis\n  newTag: 7.4.1\npatches: []\n",
            id="remove-an-entry-only-the-target-has-and-add-one",
        ),
        pytest.param(
            "resources: [../../base]\nimages: [{name: redis, newName: mirror/redis}]  # pinned\n",
            "resources: [../../base]\nimages: [{name: redis, newTag: 7.4.1}]  # pinned\n",
            id="flow-style-list",
        ),
        pytest.param(
            "resources: [../../base]\nimages:\n",
            "resources: [../../base]\nimages: [{name: redis, newTag: 7.4.1}]\n",
            id="null-images",
        ),
    ],
)
def test_the_target_takes_the_sources_entries(target: str, expected: str) -> None:
    assert edit(DEV, target) == expected


def test_an_entry_is_added_to_an_existing_list_and_comments_stay() -> None:
    source = DEV + "  - name: busybox\n    newName: mirror/busybox\n    digest: sha256:ab\n"
    target = (
        "# production: pinned by hand\nresources:\n  - ../../base\nimages:\n"
        "  # the database\n  - name: redis  # keep\n    newTag: '7.4'  # was\n\n# end\n"
    )

    promotion = promote_images("cache", (SOURCE, source), (TARGET, target))

    assert promotion is not None
    assert promotion.text == (
        "# production: pinned by hand\nresources:\n  - ../../base\nimages:\n"
        "  # the database\n  - name: redis  # keep\n    newTag: 7.4.1  # was\n"
        "  - name: busybox\n    newName: mirror/busybox\n    digest: sha256:ab\n\n# end\n"
    )
    assert promotion.changes == (
        FieldChange("images[redis].newTag", '"7.4"', "7.4.1"),
        FieldChange("images[busybox].newName", "null", "mirror/busybox"),
        FieldChange("images[busybox].digest", "null", "sha256:ab"),
    )


def test_fields_the_source_lacks_are_removed_from_the_entry() -> None:
    target = "images:\n  - newName: mirror/redis  # a mirror\n    name: redis\n    digest: x\n"

    assert edit("images:\n  - name: redis\n    newTag: '8'\n", target) == (
        'images:\n  - name: redis\n    newTag: "8"\n'
    )
    assert (
        edit("images: [{name: redis}]\n", "images: [{name: redis, newTag: '1'}, {name: b}]\n")
        == "images: [{name: redis}, {name: b}]\n"
    )


def test_the_last_entry_removed_leaves_an_empty_list() -> None:
    target = "resources: [x]\nimages:\n  - name: old\n    newTag: '1'\npatches: []\n"
    assert edit("resources: [x]\n", target) == "resources: [x]\nimages: []\npatches: []\n"


def test_equal_entries_are_nothing_to_promote() -> None:
    target = "images:\n  - name: redis\n    newTag: 7.4.1\n    newName: null\n"
    assert promote_images("cache", (SOURCE, DEV), (TARGET, target)) is None


def test_a_name_listed_twice_is_an_error() -> None:
    target = "images:\n  - {name: redis, newTag: '1'}\n  - {name: redis, newTag: '2'}\n"
    with pytest.raises(SourceError, match=r"prod/kustomization.yaml:3: .*listed twice"):
        promote_images("cache", (SOURCE, DEV), (TARGET, target))


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(
            "images:\n  - name: redis\n    newTag: &t '7.2'\ncommonAnnotations: {tag: *t}\n",
            id="anchor",
        ),
        pytest.param(
            "commonAnnotations: {tag: &t '7.2'}\nimages:\n  - name: redis\n    newTag: *t\n",
            id="alias",
        ),
    ],
)
def test_an_edit_that_would_change_more_than_the_images_is_refused(target: str) -> None:
    with pytest.raises(OperationFailed, match="would change more than them") as refused:
        promote_images("cache", (SOURCE, DEV), (TARGET, target))
    assert refused.value.hint == "edit images: by hand to images[redis].newTag: 7.4.1"


# --- the check by rendering -------------------------------------------------------------

BASE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cache
spec:
  selector:
    matchLabels: {app: cache}
  template:
    metadata:
      labels: {app: cache}
    spec:
      initContainers:
        - {name: wait, image: "busybox:1.36"}
      containers:
        - {name: redis, image: "redis:7.4"}
"""

PATCHED = """\
resources:
  - ../../base
patches:
  - patch: |-
      {kind: Deployment, apiVersion: apps/v1, metadata: {name: cache},
       spec: {template: {spec: {initContainers: [{name: wait, image: "busybox:1.37"}]}}}}
"""


def project(root: Path, *envs: str) -> None:
    listed = "".join(f"  {env}: {{namespace: shop-{env}}}\n" for env in envs)
    (root / "hakobu.yaml").write_text(
        f"apiVersion: hakobu.dev/v1alpha1\nkind: Project\nname: shop\nenvironments:\n{listed}"
    )


def cache_app(root: Path, overlays: dict[str, str], top: str | None = None) -> None:
    (root / "apps/cache/base").mkdir(parents=True)
    (root / "apps/cache/base/deployment.yaml").write_text(BASE)
    (root / "apps/cache/base/kustomization.yaml").write_text("resources: [deployment.yaml]\n")
    for env, text in overlays.items():
        (root / f"apps/cache/overlays/{env}").mkdir(parents=True)
        (root / f"apps/cache/overlays/{env}/kustomization.yaml").write_text(text)
    if top is not None:
        (root / "apps/cache/kustomization.yaml").write_text(top)


def overlay_promotion(root: Path, source: str, target: str) -> tuple[Path, AppPromotion] | None:
    project = load_project(root)
    (app,) = (a for a in discover_apps(project, Inputs()) if a.name == "cache")
    return promote_overlay(project, app, project.environment(source), project.environment(target))


def test_an_image_the_images_list_does_not_set_is_refused(tmp_path: Path) -> None:
    project(tmp_path, "dev", "prod")
    cache_app(
        tmp_path, {"dev": PATCHED + DEV.split("\n", 2)[2], "prod": "resources: [../../base]\n"}
    )

    with pytest.raises(OperationFailed) as refused:
        overlay_promotion(tmp_path, "dev", "prod")

    assert refused.value.message == (
        "cannot promote cache: with dev's images: list, prod's Deployment/cache container "
        "wait would run busybox:1.36, dev's runs busybox:1.37"
    )
    assert refused.value.hint == (
        "dev's image comes from more than its images: list (a patch, say); edit "
        f"{TARGET} by hand so that prod runs busybox:1.37"
    )


def test_an_edit_that_would_change_another_environment_is_refused(tmp_path: Path) -> None:
    # prod and staging have no overlay: both build the app's own kustomization.
    project(tmp_path, "dev", "staging", "prod")
    cache_app(tmp_path, {"dev": DEV}, top="resources: [base]\n")

    with pytest.raises(OperationFailed, match="would change staging too") as refused:
        overlay_promotion(tmp_path, "dev", "prod")
    assert refused.value.hint == (
        "give prod an overlay of its own, or edit apps/cache/kustomization.yaml by hand"
    )


def test_an_overlay_that_runs_the_sources_images_needs_nothing(tmp_path: Path) -> None:
    # The lists differ, what runs does not: busybox is no image of this app.
    project(tmp_path, "dev", "prod")
    prod = (
        "resources: [../../base]\nimages: [{name: redis, newTag: 7.4.1}, {name: b, newTag: '2'}]\n"
    )
    cache_app(tmp_path, {"dev": DEV, "prod": prod})

    assert overlay_promotion(tmp_path, "dev", "prod") is None


# --- hakobu promote ---------------------------------------------------------------------


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    shop = Shop(tmp_path / "shop")
    cache_app(shop.root, {"dev": DEV, "prod": "# production\nresources:\n  - ../../base\n"})
    shop.render_and_commit("dev runs redis 7.4.1")
    return shop


def images(shop: Shop, env: str) -> list[str]:
    deployment = yaml.safe_load(shop.read(f"generated/{env}/cache/deployment-cache.yaml"))
    spec = deployment["spec"]["template"]["spec"]
    return [c["image"] for c in (*spec["initContainers"], *spec["containers"])]


def test_promote_carries_the_overlays_images_renders_and_commits(shop: Shop) -> None:
    before = shop.head()

    result = promote(load_project(shop.root), PromotionRequest("dev", "prod"), connect=None)

    assert result.commit == shop.head() and shop.git("rev-parse", "HEAD~1") == before
    assert [(p.app, p.changes) for p in result.apps] == [
        ("cache", (FieldChange("images[redis].newTag", "null", "7.4.1"),)),
    ]
    assert shop.read(str(TARGET)) == (
        "# production\nresources:\n  - ../../base\nimages:\n  - name: redis\n    newTag: 7.4.1\n"
    )
    assert images(shop, "prod") == images(shop, "dev") == ["busybox:1.36", "redis:7.4.1"]
    changed = shop.git("show", "--name-only", "--format=", "HEAD").splitlines()
    assert sorted(changed) == [str(TARGET), "generated/prod/cache/deployment-cache.yaml"]
    assert "  cache:\n    images[redis].newTag: null → 7.4.1" in shop.git(
        "log", "-1", "--format=%B"
    )
    assert not shop.stale("prod") and shop.git("status", "--porcelain") == ""


def test_a_refused_promotion_commits_nothing(shop: Shop) -> None:
    shop.write(str(SOURCE), PATCHED)
    before = shop.render_and_commit("dev patches its init container's image")

    with pytest.raises(OperationFailed, match=r"container wait would run busybox:1\.36"):
        promote(load_project(shop.root), PromotionRequest("dev", "prod"), connect=None)

    assert shop.head() == before and shop.git("status", "--porcelain") == ""
