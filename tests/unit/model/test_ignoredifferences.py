"""``ignoreDifferences:`` in hakobu.yaml: the project's rules then the environment's, and
errors naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.model.ignoredifferences import IgnoreRule
from hakobu.model.project import load_project
from hakobu.model.source import SourceError

PROJECT = """\
apiVersion: hakobu.dev/v1alpha1
kind: Project
name: shop
ignoreDifferences:
  - {{group: apps, kind: Deployment, jsonPointers: [/spec/replicas]}}
environments:
  production:
    namespace: shop
    ignoreDifferences:
{rules}
"""


def load(tmp_path: Path, rules: str) -> tuple[IgnoreRule, ...]:
    (tmp_path / "hakobu.yaml").write_text(PROJECT.format(rules=rules))
    return load_project(tmp_path).environment("production").ignore_differences


def test_the_projects_rules_then_the_environments(tmp_path: Path) -> None:
    rules = load(
        tmp_path,
        "      - kind: MutatingWebhookConfiguration\n"
        "        group: admissionregistration.k8s.io\n"
        "        name: injector\n"
        "        jsonPointers: [/webhooks/0/clientConfig/caBundle, /metadata/annotations/a~1b]\n"
        "        managedFieldsManagers: [cert-manager-cainjector]",
    )
    assert rules == (
        IgnoreRule("apps", "Deployment", None, None, (("spec", "replicas"),), ()),
        IgnoreRule(
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration",
            "injector",
            None,
            (("webhooks", "0", "clientConfig", "caBundle"), ("metadata", "annotations", "a/b")),
            ("cert-manager-cainjector",),
        ),
    )
    web = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
    assert rules[0].matches(web)
    assert not rules[0].matches({**web, "apiVersion": "v1"})


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ("      kind: Deployment", "environments.production.ignoreDifferences: expected a list"),
        ("      - {jsonPointers: [/spec]}", "ignoreDifferences[0].kind: required"),
        (
            "      - {kind: Service}",
            "ignoreDifferences[0]: a rule ignores nothing without jsonPointers or "
            "managedFieldsManagers",
        ),
        (
            "      - {kind: Service, jsonPointers: [spec/clusterIP]}",
            "ignoreDifferences[0].jsonPointers[0]: 'spec/clusterIP' is not a JSON pointer",
        ),
        (
            "      - {kind: Service, jsonPointers: [/metadata/name]}",
            "jsonPointers[0]: '/metadata/name' is what makes the object itself",
        ),
        (
            "      - {kind: Service, jsonPointers: [/metadata/labels/hakobu.dev~1app]}",
            "jsonPointers[0]: '/metadata/labels/hakobu.dev~1app': of metadata, only one label",
        ),
        (
            "      - {kind: Service, managedFieldsManagers: [1]}",
            "ignoreDifferences[0].managedFieldsManagers[0]: expected text, found 1",
        ),
        (
            "      - {kind: Service, jsonPointers: [/spec], jqPathExpressions: [.spec]}",
            "ignoreDifferences[0].jqPathExpressions: unknown field",
        ),
    ],
)
def test_errors_name_the_line_and_field(tmp_path: Path, rules: str, expected: str) -> None:
    with pytest.raises(SourceError) as caught:
        load(tmp_path, rules)
    assert expected in caught.value.message
    assert caught.value.exit_code == 2
    assert caught.value.line == (9 if rules.startswith("      kind") else 10)
