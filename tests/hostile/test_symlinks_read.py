"""Symbolic links in a project must not carry files from outside it into a render."""

from __future__ import annotations

import pytest

from tests.hostile.conftest import PROJECT, Case

SECRET = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: stolen
data:
  key: must-not-leave-the-machine
"""
RESOURCE = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


def kustomize_app(case: Case, kustomization: str = "resources:\n- resource.yaml\n") -> None:
    case.write("apps/kz/kustomization.yaml", kustomization)
    case.write("apps/kz/resource.yaml", RESOURCE.format(name="ok"))


def outside_dir(case: Case) -> str:
    """A directory outside the project that looks like an app: templates, values, a spec."""
    directory = case.outside / "app"
    directory.mkdir()
    (directory / "stolen.yaml").write_text(SECRET)
    (directory / "values.yaml").write_text("replicas: 1\n")
    (directory / "kustomization.yaml").write_text("resources:\n- stolen.yaml\n")
    return str(directory)


def outside_file(case: Case) -> str:
    (case.outside / "stolen.yaml").write_text(SECRET)
    return str(case.outside / "stolen.yaml")


# Where a link sits, and what it points at: each returns the link's path in the project.
LINKS = {
    "template file": ("apps/web/stolen.yaml", outside_file),
    "template": ("apps/web/stolen.yaml.j2", outside_file),
    "values file": ("apps/web/values.yaml", outside_file),
    "app spec": ("apps/api.yaml", outside_file),
    "app spec in its directory": ("apps/api/app.yaml", outside_file),
    "template app directory": ("apps/evil", outside_dir),
    "kustomize app directory": ("apps/evilkz", outside_dir),
    "apps directory": ("apps", outside_dir),
    "system file": ("apps/web/passwd.yaml", lambda case: "/etc/passwd"),
    "relative link": ("apps/web/up.yaml", lambda case: "../../../outside/stolen.yaml"),
    "link to a link": ("apps/web/hop.yaml", lambda case: "../web/hop2.yaml"),
}


@pytest.mark.parametrize("command", [("render",), ("render", "--check")], ids=" ".join)
@pytest.mark.parametrize("place", sorted(LINKS))
def test_links_out_of_the_project(case: Case, place: str, command: tuple[str, ...]) -> None:
    where, target = LINKS[place]
    link = case.root / where
    if place == "apps directory":
        case.write("apps/web/config.yaml.j2", "")  # it exists; replace it with the link
        link.rename(case.root / "apps-before")
    elif place == "link to a link":
        outside_file(case)
        (case.root / "apps/web/hop2.yaml").symlink_to("../../../outside/stolen.yaml")
    elif place == "relative link":
        outside_file(case)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target(case))
    case.commit("links")
    # Templates are loaded by their sandbox, which says it in its own words.
    run = case.refuses(*command, expect=where if place == "template" else "is a symbolic link to")
    assert "outside the " in run.stderr
    assert "must-not-leave-the-machine" not in run.stderr + run.stdout


@pytest.mark.parametrize(
    ("place", "expect"),
    [
        # A resource may be a file or a base directory: render asks what it is first.
        ("resource", "stolen.yaml: is a symbolic link to"),
        ("patch", "which is not in or below"),
        ("generator file", "which is not in or below"),
        ("base directory", "base: is a symbolic link to"),
        ("base beyond the project", "outside/app: is outside the project"),
    ],
)
def test_kustomize_links_out_of_the_project(case: Case, place: str, expect: str) -> None:
    secret = outside_file(case)
    base = outside_dir(case)
    kustomize_app(case)
    entries = {
        "resource": "resources:\n- resource.yaml\n- stolen.yaml\n",
        "patch": "resources:\n- resource.yaml\npatches:\n- path: stolen.yaml\n",
        "generator file": "resources:\n- resource.yaml\n"
        "configMapGenerator:\n- name: g\n  files:\n  - stolen.yaml\n",
        "base directory": "resources:\n- resource.yaml\n- base\n",
        "base beyond the project": "resources:\n- resource.yaml\n- ../../../outside/app\n",
    }
    case.write("apps/kz/kustomization.yaml", entries[place])
    if place == "base directory":
        (case.root / "apps/kz/base").symlink_to(base)
    elif place != "base beyond the project":
        (case.root / "apps/kz/stolen.yaml").symlink_to(secret)
    case.commit("links")
    run = case.refuses("render", expect=expect)
    assert "must-not-leave-the-machine" not in run.stderr + run.stdout
    if place not in ("base directory", "base beyond the project"):
        # kustomize's own load restrictor: the same refusal outside a project.
        case.refuses("build", "apps/kz", expect="which is not in or below")


def test_an_image_input_link_is_hashed_as_a_link_never_followed(case: Case) -> None:
    case.write(
        "hakobu.yaml",
        PROJECT + "images:\n- name: web\n  context: services/web\n  registry: r.example/shop\n"
        "- name: base\n  context: services/base\n  registry: r.example/shop\n",
    )
    case.write("services/base/Dockerfile", "FROM alpine\n")
    case.write(
        "apps/web/config.yaml.j2", RESOURCE.format(name="c") + 'data: {image: "{{ tag("web") }}"}\n'
    )
    case.write("services/web/Dockerfile", "FROM alpine\n")
    case.commit("images")
    (case.root / "services/web/Dockerfile").unlink()
    (case.root / "services/web/Dockerfile").symlink_to(outside_file(case))
    tags = []
    # Were the link followed, the second would build on the in-repo base and re-tag.
    for content in ("FROM alpine\n", "FROM r.example/shop/base\n"):
        (case.outside / "stolen.yaml").write_text(content)
        run = case.hakobu("render")
        assert run.returncode == 0, run.stderr
        tags.append((case.root / "generated/evaluation/web/configmap-c.yaml").read_text())
    # The tag names the link (uncommitted: -dirty), not whatever it points at.
    assert tags[0] == tags[1]
    assert "-dirty" in tags[0]
