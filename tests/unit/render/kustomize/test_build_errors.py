"""Bad kustomize trees: the error names the file (and line), with the right exit code."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import pytest

from hakobu.cli import build as build_command
from hakobu.errors import HakobuError, InvalidInput
from hakobu.render.kustomize.build import build
from hakobu.render.kustomize.loader import NONE as LOAD_RESTRICTIONS_NONE

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec: {}
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_unknown_field_is_named_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, {"kustomization.yaml": "resources: []\nnamePrefx: a-\n"})
    with pytest.raises(InvalidInput) as e:
        build(tmp_path)
    assert "kustomization.yaml:2: namePrefx: unknown kustomization field" in str(e.value)
    assert e.value.exit_code == 2


def test_charts_without_helm_are_refused_not_ignored(tmp_path: Path) -> None:
    write(tmp_path, {"kustomization.yaml": "helmCharts:\n- name: x\n"})
    with pytest.raises(InvalidInput, match=r"kustomization.yaml:2: helmCharts\[0\]: .*needs helm"):
        build(tmp_path)


def test_configuration_with_an_unknown_section_is_named(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources: [a.yaml]\nconfigurations: [fields.yaml]\n",
            "a.yaml": DEPLOYMENT,
            "fields.yaml": "namePrefixes:\n- path: spec/x\n",
        },
    )
    with pytest.raises(InvalidInput, match=r"fields.yaml: unknown transformer configuration"):
        build(tmp_path)


def test_missing_configuration_file_names_the_entry(tmp_path: Path) -> None:
    write(tmp_path, {"kustomization.yaml": "resources: [a.yaml]\nconfigurations: [gone.yaml]\n"})
    write(tmp_path, {"a.yaml": DEPLOYMENT})
    with pytest.raises(InvalidInput, match=r"kustomization.yaml:2: configurations\[0\]: .*gone"):
        build(tmp_path)


def test_unknown_build_metadata_option_is_named(tmp_path: Path) -> None:
    write(tmp_path, {"kustomization.yaml": "resources: []\nbuildMetadata: [originAnnotation]\n"})
    with pytest.raises(InvalidInput, match=r"kustomization.yaml:2: buildMetadata\[0\]: unknown"):
        build(tmp_path)


def test_foreign_plugin_is_refused_naming_the_entry(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources: [a.yaml]\ntransformers: [sops.yaml]\n",
            "a.yaml": DEPLOYMENT,
            "sops.yaml": "apiVersion: example.com/v1\nkind: Decrypt\nmetadata:\n  name: d\n",
        },
    )
    with pytest.raises(InvalidInput) as e:
        build(tmp_path)
    assert "transformers[0] (sops.yaml): transformers: example.com/v1/Decrypt 'd'" in str(e.value)
    assert "runs no foreign code" in str(e.value)
    assert "kustomize itself" in str(e.value.hint)


def test_builtin_kind_hakobu_does_not_run_names_the_alternatives(tmp_path: Path) -> None:
    inline = "apiVersion: builtin\nkind: ValueAddTransformer\nmetadata: {name: v}\n"
    write(tmp_path, {"kustomization.yaml": f"transformers:\n- |\n{textwrap.indent(inline, '  ')}"})
    with pytest.raises(InvalidInput, match=r"transformers\[0\]: transformers: built-in kind"):
        build(tmp_path)


def test_builtin_plugin_error_names_the_entry_and_plugin(tmp_path: Path) -> None:
    plugin = (
        "apiVersion: builtin\nkind: PatchJson6902Transformer\nmetadata: {name: j}\n"
        "target: {kind: Deployment}\njsonOp: '[]'\n"
    )
    write(
        tmp_path,
        {
            "kustomization.yaml": f"resources: [a.yaml]\ntransformers:\n- |\n"
            f"{textwrap.indent(plugin, '  ')}",
            "a.yaml": DEPLOYMENT,
        },
    )
    with pytest.raises(InvalidInput) as e:
        build(tmp_path)
    assert "transformers[0]: builtin/PatchJson6902Transformer 'j': target" in str(e.value)
    assert "must specify the target name" in str(e.value)


def test_replacement_file_that_is_missing_is_named(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources: [a.yaml]\nreplacements:\n- path: gone.yaml\n",
            "a.yaml": DEPLOYMENT,
        },
    )
    with pytest.raises(InvalidInput, match=r"replacements\[0\].path: replacement file 'gone"):
        build(tmp_path)


def test_openapi_schema_without_definitions_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources: [a.yaml]\nopenapi:\n  path: schema.json\n",
            "a.yaml": DEPLOYMENT,
            "schema.json": '{"swagger": "2.0"}',
        },
    )
    with pytest.raises(InvalidInput, match=r":3: openapi.path: schema file 'schema.json' has no"):
        build(tmp_path)


def test_openapi_version_that_is_not_built_in_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"kustomization.yaml": "resources: []\nopenapi:\n  version: v1.30.0\n"})
    with pytest.raises(InvalidInput, match=r"OpenAPI version 'v1.30.0' is not built in"):
        build(tmp_path)


def test_crds_file_that_is_no_definition_map_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources: [a.yaml]\ncrds: [types.yaml]\n",
            "a.yaml": DEPLOYMENT,
            "types.yaml": "- not a map\n",
        },
    )
    with pytest.raises(InvalidInput, match=r"types.yaml: unable to parse open API definition"):
        build(tmp_path)


def test_a_validator_that_changes_a_resource_is_refused(tmp_path: Path) -> None:
    plugin = (
        "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: tier}\n"
        "labels: {tier: web}\nfieldSpecs: [{path: metadata/labels, create: true}]\n"
    )
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources: [a.yaml]\nvalidators: [tier.yaml]\n",
            "a.yaml": DEPLOYMENT,
            "tier.yaml": plugin,
        },
    )
    with pytest.raises(InvalidInput) as e:
        build(tmp_path)
    assert "validators[0] (tier.yaml): validators: builtin/LabelTransformer 'tier' changed" in (
        str(e.value)
    )
    assert "Deployment/web" in str(e.value)


def test_missing_resource_file(tmp_path: Path) -> None:
    write(tmp_path, {"kustomization.yaml": "resources:\n- a.yaml\n- gone.yaml\n"})
    write(tmp_path, {"a.yaml": DEPLOYMENT})
    with pytest.raises(InvalidInput, match=r"kustomization.yaml:3: resources\[1\]: 'gone.yaml'"):
        build(tmp_path)


def test_missing_kustomization(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no kustomization file"):
        build(tmp_path)


def test_cycle_between_bases_names_the_cycle(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a/kustomization.yaml": "resources:\n- ../b\n",
            "b/kustomization.yaml": "resources:\n- ../a\n",
        },
    )
    with pytest.raises(InvalidInput) as e:
        build(tmp_path / "a")
    message = str(e.value)
    assert "b/kustomization.yaml:2: resources[0]: cycle detected" in message
    assert f"{tmp_path / 'a'} -> {tmp_path / 'b'} -> {tmp_path / 'a'}" in message


def test_file_escaping_the_root_needs_the_none_restrictor(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"outside.yaml": DEPLOYMENT, "app/kustomization.yaml": "resources:\n- ../outside.yaml\n"},
    )
    with pytest.raises(InvalidInput, match=r"kustomization.yaml:2: resources\[0\]: security"):
        build(tmp_path / "app")
    objects = build(tmp_path / "app", load_restrictor=LOAD_RESTRICTIONS_NONE)
    assert [o["metadata"]["name"] for o in objects] == ["web"]


def test_duplicate_identity(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources:\n- a.yaml\n- b.yaml\n",
            "a.yaml": DEPLOYMENT,
            "b.yaml": DEPLOYMENT,
        },
    )
    with pytest.raises(InvalidInput, match=r"b.yaml: Deployment/web \(apps/v1\) is already"):
        build(tmp_path)


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources:\n- a.yaml\n",
            "a.yaml": "kind: ConfigMap\nmetadata:\n  name: [unclosed\n",
        },
    )
    with pytest.raises(InvalidInput, match=r"a.yaml:4: invalid YAML"):
        build(tmp_path)


def test_object_without_name(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"kustomization.yaml": "resources:\n- a.yaml\n", "a.yaml": "kind: ConfigMap\n"},
    )
    with pytest.raises(InvalidInput, match=r"a.yaml: missing metadata.name"):
        build(tmp_path)


def test_remote_base_is_not_supported(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"kustomization.yaml": "resources:\n- https://example.org/repo//base?ref=v1\n"},
    )
    with pytest.raises(InvalidInput, match=r"resources\[0\]: remote resource .* not supported"):
        build(tmp_path)


def test_strategic_patch_without_a_match(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": """\
                resources:
                - a.yaml
                patches:
                - patch: |-
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata:
                      name: other
                """,
            "a.yaml": DEPLOYMENT,
        },
    )
    with pytest.raises(InvalidInput, match=r"patches\[0\]: no resource matches"):
        build(tmp_path)


def test_component_listed_as_resource(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "kustomization.yaml": "resources:\n- comp\n",
            "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\n"
            "kind: Component\nresources: []\n",
        },
    )
    with pytest.raises(InvalidInput, match="is a Component"):
        build(tmp_path)


def test_build_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="hakobu")
    build_command.register(parser.add_subparsers())
    write(tmp_path, {"kustomization.yaml": "resources:\n- a.yaml\n", "a.yaml": DEPLOYMENT})
    args = parser.parse_args(["build", str(tmp_path)])
    assert args.load_restrictor == "LoadRestrictionsRootOnly"
    assert args.handler(args) == 0
    assert capsys.readouterr().out == (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec: {}\n"
    )
    (tmp_path / "a.yaml").write_text("kind: [\n")
    with pytest.raises(HakobuError) as e:
        args.handler(args)
    assert e.value.exit_code == 2
    assert str(tmp_path / "a.yaml") in str(e.value)
