"""Render writes, reads and deletes only inside generated/, whatever the objects say."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.hostile.conftest import Case
from tests.hostile.harness import assert_refused, run_hakobu

OBJECT = """\
apiVersion: {api_version}
kind: {kind}
metadata:
  name: {name}
  namespace: {namespace}
data:
  a: b
"""


def _object(**fields: str) -> str:
    values = {"api_version": "v1", "kind": "ConfigMap", "name": "x", "namespace": "shop-eval"}
    return OBJECT.format(**{**values, **fields})


@pytest.mark.parametrize(
    ("fields", "expect"),
    [
        ({"kind": '"../../outside/victim"'}, "kind '../../outside/victim' is not a kind"),
        ({"kind": '"ConfigMap/../../x"'}, "is not a kind"),
        ({"kind": "configMap"}, "is not a kind"),
        ({"name": '"../../../outside/victim"'}, "metadata.name '../../../outside/victim'"),
        ({"name": '"a/b"'}, "metadata.name 'a/b' is not a valid name"),
        ({"name": '".."'}, "metadata.name '..' is not a valid name"),
        ({"name": '"x\\0y"'}, "is not a valid name"),
        ({"name": "x" * 254}, "is not a valid name"),
        ({"namespace": '"../outside"'}, "metadata.namespace '../outside'"),
        ({"api_version": '"../v1"'}, "apiVersion '../v1' is not a group/version"),
        ({"api_version": '"a/b/v1"'}, "is not a group/version"),
    ],
)
def test_identities_that_would_name_a_path_are_refused(
    case: Case, fields: dict[str, str], expect: str
) -> None:
    case.write("apps/web/evil.yaml", _object(**fields))
    run = case.refuses("render", expect=expect)
    assert "app web: object 2" in run.stderr  # after config.yaml.j2
    case.refuses("render", "--check", expect=expect)


def test_rbac_names_may_hold_colons_but_not_slashes(case: Case) -> None:
    role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {}\n"
    case.write("apps/web/role.yaml", role.format('"system:web:reader"'))
    assert case.hakobu("render").returncode == 0
    assert (case.root / "generated/evaluation/web/clusterrole-system:web:reader.yaml").is_file()
    case.write("apps/web/role.yaml", role.format('"system/../../x"'))
    case.refuses("render", "--check", expect="is not a valid name")


def test_a_name_longer_than_a_file_name_is_cut_and_stays_unique(case: Case) -> None:
    labels = ".".join(["a" * 60] * 4)  # a 243-character DNS-1123 subdomain
    case.write("apps/web/long.yaml", _object(name=labels) + "---\n" + _object(name=labels + "b"))
    run = case.hakobu("render")
    assert run.returncode == 0, run.stderr
    names = sorted(p.name for p in (case.root / "generated/evaluation/web").iterdir())
    long = [n for n in names if n.startswith("configmap-aaa")]
    assert len(long) == 2
    assert all(len(n.encode()) <= 255 for n in long)


def test_an_object_without_identity_is_named_without_its_data(case: Case) -> None:
    secret = "kind: Secret\nmetadata:\n  name: db\nstringData:\n  password: s3cr3t-MARKER\n"
    case.write("apps/web/secret.yaml", secret)
    run = case.refuses("render", expect="apiVersion is missing")
    assert "MARKER" not in run.stderr + run.stdout
    assert "kind Secret, name 'db'" in run.stderr


@pytest.mark.parametrize(
    ("link", "to_outside"),
    [
        ("generated/evaluation/web", "."),  # an app directory
        ("generated/evaluation", "."),  # the environment's directory
        ("generated/evaluation/web/configmap-settings.yaml", "victim.txt"),
    ],
)
def test_links_in_the_output_are_never_followed(case: Case, link: str, to_outside: str) -> None:
    path = case.root / link
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
    path.symlink_to(case.outside / to_outside)
    # The object the link hides is gone from the app, so render would remove it.
    case.write("apps/web/config.yaml.j2", CONFIG_RENAMED)
    case.refuses("render", expect="symbolic link" if to_outside == "." else "not written by")
    case.refuses("render", "--check")
    assert (case.outside / "victim.txt").read_text() == "must survive\n"


@pytest.mark.parametrize("recorded", [False, True], ids=["no record", "recorded"])
def test_a_linked_environment_is_refused_with_or_without_an_output_record(
    case: Case, tmp_path: Path, recorded: bool
) -> None:
    # One home for every run, so the record a render keeps in its cache is there to read.
    env = {"HOME": str(tmp_path / "home")}
    if recorded:
        assert run_hakobu("render", cwd=case.root, env=env, seconds=60).returncode == 0
        assert list((tmp_path / "home").glob(".cache/hakobu/projects/*/output/*.json"))
    shutil.rmtree(case.root / "generated/evaluation")
    (case.root / "generated/evaluation").symlink_to(case.outside)
    case.write("apps/web/config.yaml.j2", CONFIG_RENAMED)
    for args in (("render",), ("render", "--check")):
        before = case.state()
        run = run_hakobu(*args, cwd=case.root, env=env)
        assert_refused(run, expect="generated/evaluation is not a directory but a symbolic link")
        assert case.state() == before, f"the run changed files\n{run.stderr}"


@pytest.mark.parametrize("link", ["generated/evaluation", "generated"])
def test_what_a_killed_render_left_is_not_finished_through_a_link(case: Case, link: str) -> None:
    # A ready write whose journal puts an app in place and moves one out: followed through
    # the link, it would write into and delete from the directory the link names.
    (case.outside / "kept").mkdir()
    (case.outside / "kept/data.txt").write_text("must survive\n")
    shutil.rmtree(case.root / link)
    (case.root / link).symlink_to(case.outside)
    leftover = (case.root / "generated" if link != "generated" else case.outside) / (
        ".evaluation.ready-x"
    )
    (leftover / "new/web").mkdir(parents=True, exist_ok=True)
    (leftover / "new/web/configmap-x.yaml").write_text("planted\n")
    (leftover / "old").mkdir()
    (leftover / "journal.json").write_text(json.dumps({"apps": {"web": 1}, "remove": ["kept"]}))
    case.refuses("render", expect=f"{link} is not a directory but a symbolic link")
    assert (case.outside / "kept/data.txt").read_text() == "must survive\n"
    assert not (case.outside / "web").exists()


def test_the_output_directory_itself_may_not_be_a_link(case: Case) -> None:
    shutil.rmtree(case.root / "generated")
    (case.root / "generated").symlink_to(case.outside)
    case.refuses("render", expect="generated is not a directory but a symbolic link")


@pytest.mark.parametrize(
    "stray",
    [
        "generated/evaluation/web/README.md",
        "generated/evaluation/web/sub/x.yaml",
        "generated/evaluation/notes.txt",
    ],
)
def test_a_stray_in_the_output_is_reported_not_removed(case: Case, stray: str) -> None:
    case.write(stray, "kept\n")
    case.write("apps/web/config.yaml.j2", CONFIG_RENAMED)
    run = case.refuses("render", expect="not written by hakobu render, so left alone")
    assert stray.removeprefix("generated/").split("/sub")[0].split("/x.yaml")[0] in run.stderr


@pytest.mark.parametrize(
    ("output", "expect"),
    [
        (".git", "may not be inside .git"),
        (".git/hooks", "may not be inside .git"),
        (".", "holds the project file"),
        ("apps", "overlaps the apps directory"),
        ("apps/web", "overlaps the apps directory"),
        ("../outside", "expected a directory inside the project"),
        ("/srv", "expected a directory inside the project"),
    ],
)
def test_the_output_may_not_overlap_git_the_apps_or_the_project_file(
    case: Case, output: str, expect: str
) -> None:
    text = (case.root / "hakobu.yaml").read_text().replace("output: generated", f"output: {output}")
    case.write("hakobu.yaml", text)
    run = case.refuses("render", expect=expect)
    assert "hakobu.yaml:5: output:" in run.stderr


CONFIG_RENAMED = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: renamed
data:
  mode: "{{ values.replicas }}"
"""


def test_a_tagged_value_that_does_not_decode_is_not_printed(case: Case) -> None:
    secret = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
        "stringData:\n  p: !!int hunter2-MARKER\n"
    )
    case.write("apps/web/secret.yaml", secret)
    run = case.refuses("render", expect="cannot decode a !!str value as a !!int")
    assert "MARKER" not in run.stderr + run.stdout
