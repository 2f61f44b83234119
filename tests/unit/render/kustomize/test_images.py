"""The images transformer: kustomize's semantics, at linear cost."""

from __future__ import annotations

from pathlib import Path

from hakobu.model.objects import Object
from hakobu.render.kustomize.build import build
from hakobu.render.kustomize.fieldspecs import builtin
from hakobu.render.kustomize.images import ImageIndex, ImageRule, set_images, split_image


def deployment(name: str, image: str) -> Object:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"template": {"spec": {"containers": [{"name": name, "image": image}]}}},
    }


def test_split_image() -> None:
    assert split_image("nginx") == ("nginx", "", "")
    assert split_image("nginx:1.2") == ("nginx", "1.2", "")
    assert split_image("host:5000/team/app:v1") == ("host:5000/team/app", "v1", "")
    assert split_image("app@sha256:abc") == ("app", "", "sha256:abc")
    assert split_image("app:1@sha256:abc") == ("app", "1", "sha256:abc")


def test_entries_chain_in_order() -> None:
    rules = [
        ImageRule("b", new_tag="2"),
        ImageRule("a", new_name="b"),
        ImageRule("b", new_tag="3"),
    ]
    objects = [deployment("x", "a:1")]
    set_images(objects, rules, builtin("images"))
    # "b" with tag 2 comes before the rename, so only the third entry applies after it.
    assert objects[0]["spec"]["template"]["spec"]["containers"][0]["image"] == "b:3"


def test_dot_in_a_name_matches_any_character_as_in_kustomize() -> None:
    index = ImageIndex([ImageRule("my.registry/app", new_tag="9")])
    assert index.matching("myXregistry/app:1") == [0]
    assert index.matching("my.registry/app@sha256:0abc") == [0]
    assert index.matching("my.registry/application") == []


def test_one_entry_per_service_updates_every_service(tmp_path: Path) -> None:
    # The shape that makes kustomize quadratic (benchmarks/kustomize_build.py measures the
    # speed); here only the result is checked.
    docs = []
    images = []
    for i in range(300):
        docs.append(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc{i}\nspec:\n"
            f"  template:\n    spec:\n      containers:\n      - name: c\n"
            f"        image: registry.example.com/team/svc{i}:old\n"
        )
        images.append(f"- name: registry.example.com/team/svc{i}\n  newTag: t{i}\n")
    (tmp_path / "all.yaml").write_text("---\n".join(docs))
    (tmp_path / "kustomization.yaml").write_text(
        "resources:\n- all.yaml\nimages:\n" + "".join(images)
    )
    for obj in build(tmp_path):
        number = obj["metadata"]["name"].removeprefix("svc")
        container = obj["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == f"registry.example.com/team/svc{number}:t{number}"
