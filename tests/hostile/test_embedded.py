"""YAML inside strings (kustomize replacements reach into it) is held to the file bounds."""

from __future__ import annotations

from tests.hostile.conftest import Case

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\\n" for i in range(8)
)

KUSTOMIZATION = """\
resources: [config.yaml]
replacements:
  - source: {kind: ConfigMap, name: source, fieldPath: data.value}
    targets:
      - select: {kind: ConfigMap, name: target}
        fieldPaths: [data.embedded.i]
"""

CONFIGS = f"""\
apiVersion: v1
kind: ConfigMap
metadata: {{name: source}}
data: {{value: "1"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: target}}
data:
  embedded: "{LAUGHS}i: 0\\n"
"""


def test_an_alias_bomb_inside_a_string_is_refused(case: Case) -> None:
    case.write("apps/kz/kustomization.yaml", KUSTOMIZATION)
    case.write("apps/kz/config.yaml", CONFIGS)
    case.refuses("render", expect="aliases expand")
    case.refuses("build", "apps/kz", expect="aliases expand")
