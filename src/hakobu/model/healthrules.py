"""``health``: a project's health rules for custom resources, in Flux's shape::

    health:
      - apiVersion: cert-manager.io/v1   # the group counts; group/* and '*' also match
        kind: Certificate                # or '*'
        inProgress: "has(status.conditions) && status.conditions.exists(c,
                       c.type == 'Issuing' && c.status == 'True')"
        failed: "..."                    # optional, like inProgress
        current: "..."                   # required
        suspended: "..."                 # optional, hakobu's: true means Suspended
        match: "..."                     # optional, hakobu's: which objects of the kind

Every expression is compiled when the project is loaded, so one that does not compile is
an error at its own line (``health[2].failed``), before anything is synced. What the
fields mean and how they are evaluated is ``hakobu.health.rules``'.
"""

from __future__ import annotations

from typing import Any

from hakobu.health import HealthRule, HealthRules, RuleError, compile_rule
from hakobu.health.rules import EXPRESSION_FIELDS
from hakobu.model.source import Document, FieldPath, format_field

_FIELDS = ("apiVersion", "kind", *EXPRESSION_FIELDS)


def parse_health_rules(doc: Document, path: FieldPath, value: Any) -> HealthRules:
    if value is None:
        return HealthRules()
    if not isinstance(value, list):
        raise doc.error(path, f"expected a list of rules, found {type(value).__name__}")
    rules: list[HealthRule] = []
    for index, item in enumerate(value):
        at: FieldPath = (*path, index)
        if not isinstance(item, dict):
            raise doc.error(at, f"expected a rule (a mapping), found {type(item).__name__}")
        for key in item:
            if key not in _FIELDS:
                raise doc.error((*at, key), f"unknown field; expected one of: {', '.join(_FIELDS)}")
        for key in _FIELDS:
            if key in item and not isinstance(item[key], str):
                raise doc.error((*at, key), f"expected a string, found {type(item[key]).__name__}")
        for key in ("apiVersion", "kind"):
            if key not in item:
                raise doc.error(at, f"{key} is required")
        expressions = {key: item[key] for key in EXPRESSION_FIELDS if key in item}
        try:
            rule = compile_rule(
                item["apiVersion"],
                item["kind"],
                expressions,
                origin=f"{doc.file.name} {format_field(at)}",
            )
        except RuleError as e:
            present = e.field in item
            raise doc.error(
                (*at, e.field) if present else at,
                e.message if present else f"{e.field} {e.message}",
                hint="CEL as Flux's healthCheckExprs take it: the object's fields are "
                "variables (status.conditions, metadata.generation); guard optional "
                "fields with has()",
            ) from None
        rules.append(rule)
    return HealthRules(tuple(rules))
