"""Health rules for custom resources, written as CEL expressions in Flux's shape.

A rule names the objects it judges by ``apiVersion`` and ``kind`` and holds up to three
boolean expressions, as Flux's ``healthCheckExprs`` do: ``inProgress``, ``failed`` and
``current`` (required). An object whose ``status.observedGeneration`` differs from its
``metadata.generation`` is Progressing before any expression is read; then the
expressions are evaluated in that order and the first that is true decides — Progressing,
Degraded, Healthy — and when none is, the object is Progressing. Two fields are hakobu's
own: ``suspended`` (read first; true means Suspended, as Argo CD reports a paused
rollout), and ``match``, which narrows a rule to the objects for which it is true (a rule
for every custom resource that has a shape, not a kind, in common).

Only the group of ``apiVersion`` is compared: an object is served at each version of its
kind, and Flux matches rules on group and kind too. ``group/*`` says the same plainly,
and ``*`` stands for every group of custom resources — any group but Kubernetes' own
(``apps``, ``batch``, ``*.k8s.io``, …). ``kind: '*'`` stands for every kind.

An expression that fails while evaluated (a field it reads is absent, a value has another
type) makes the health Unknown with the rule and the error — never a crash, and never a
guess: Flux fails the check in the same case. A ``match`` that fails is false.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hakobu.health.expressions import Expression, ExpressionError, compile_expression, evaluate
from hakobu.health.fields import Payload, conditions, text, value
from hakobu.health.status import Health, HealthStatus

# The expressions' fields in hakobu.yaml, in the order they are read.
EXPRESSION_FIELDS = ("match", "suspended", "inProgress", "failed", "current")
ANY = "*"
# API groups of Kubernetes itself, which ``apiVersion: '*'`` leaves out.
_KUBERNETES_GROUPS = frozenset(
    {"", "apps", "batch", "policy", "autoscaling", "extensions", "events", "metrics"}
)
_MAX_MESSAGE = 300
_VERSION = re.compile(r"^(\*|v[0-9]+((alpha|beta)[0-9]+)?)$")
# The conditions whose message explains each verdict, most telling first, each with the
# status it must have to speak for it (None: any).
_SPEAKING: dict[HealthStatus, tuple[tuple[str, str | None], ...]] = {
    HealthStatus.HEALTHY: (("Ready", "True"), ("Synced", "True")),
    HealthStatus.SUSPENDED: (("Paused", "True"), ("Ready", None)),
    HealthStatus.PROGRESSING: (
        ("Reconciling", "True"),
        ("Issuing", "True"),
        ("Ready", None),
        ("Synced", None),
    ),
    HealthStatus.DEGRADED: (
        ("Stalled", "True"),
        ("Fallback", "True"),
        ("Ready", "False"),
        ("Synced", "False"),
    ),
}


class RuleError(ValueError):
    """A rule that cannot be used, with the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def is_kubernetes_group(group: str) -> bool:
    return group in _KUBERNETES_GROUPS or group == "k8s.io" or group.endswith(".k8s.io")


@dataclass(frozen=True)
class HealthRule:
    # The group the rule judges; ANY for every group of custom resources.
    group: str
    kind: str
    current: Expression
    in_progress: Expression | None = None
    failed: Expression | None = None
    suspended: Expression | None = None
    match: Expression | None = None
    # Where the rule comes from, for messages: "hakobu.yaml health[2]".
    origin: str = ""

    def applies_to(self, group: str, kind: str, obj: Payload) -> bool:
        if self.kind not in (ANY, kind):
            return False
        if self.group == ANY:
            if is_kubernetes_group(group):
                return False
        elif self.group != group:
            return False
        if self.match is None:
            return True
        try:
            return evaluate(self.match, obj) is True
        except ExpressionError:
            return False

    def assess(self, obj: Payload) -> Health:
        kind = text(obj, "kind")
        try:
            if self.suspended is not None and self._holds("suspended", self.suspended, obj):
                return Health(
                    HealthStatus.SUSPENDED,
                    _message(obj, HealthStatus.SUSPENDED) or f"{kind} is suspended",
                )
            generation = value(obj, "metadata", "generation")
            observed = value(obj, "status", "observedGeneration")
            # Compared as text: Argo Rollouts reports the generation as a string.
            if generation is not None and observed is not None and str(observed) != str(generation):
                return Health(
                    HealthStatus.PROGRESSING,
                    f"{kind} generation is {str(generation)[:40]}, but latest observed "
                    f"generation is {str(observed)[:40]}",
                )
            for name, expression, status in (
                ("inProgress", self.in_progress, HealthStatus.PROGRESSING),
                ("failed", self.failed, HealthStatus.DEGRADED),
                ("current", self.current, HealthStatus.HEALTHY),
            ):
                if expression is not None and self._holds(name, expression, obj):
                    return Health(status, _message(obj, status))
        except RuleError as e:
            return Health(HealthStatus.UNKNOWN, f"health rule {self.origin}: {e.field}: {e}")
        return Health(
            HealthStatus.PROGRESSING,
            _message(obj, HealthStatus.PROGRESSING)
            or f"waiting for {kind} to be current ({self.origin})",
        )

    def _holds(self, name: str, expression: Expression, obj: Payload) -> bool:
        try:
            result = evaluate(expression, obj)
        except ExpressionError as e:
            raise RuleError(name, str(e)[:_MAX_MESSAGE]) from None
        if not isinstance(result, bool):
            raise RuleError(name, f"gave {type(result).__name__}, expected true or false")
        return result


@dataclass(frozen=True)
class HealthRules:
    """The rules a project gives, consulted before any other check, first match first."""

    rules: tuple[HealthRule, ...] = ()

    def rule_for(self, group: str, kind: str, obj: Payload) -> HealthRule | None:
        return first_rule(self.rules, group, kind, obj)


def first_rule(
    rules: tuple[HealthRule, ...], group: str, kind: str, obj: Payload
) -> HealthRule | None:
    return next((rule for rule in rules if rule.applies_to(group, kind, obj)), None)


def compile_rule(
    api_version: str, kind: str, expressions: Mapping[str, str], *, origin: str
) -> HealthRule:
    """A rule from its fields as written; RuleError names the field that is wrong."""
    group = _group(api_version)
    if not kind or (kind != ANY and not kind.isalnum()):
        raise RuleError("kind", f"expected a kind such as Certificate, or '*', found {kind!r}")
    if "current" not in expressions:
        raise RuleError("current", "is required: the expression that says the object is ready")
    compiled: dict[str, Expression] = {}
    for name in EXPRESSION_FIELDS:
        source = expressions.get(name)
        if source is None:
            continue
        if not source.strip():
            raise RuleError(name, "is empty; give a CEL expression or leave the field out")
        try:
            compiled[name] = compile_expression(source)
        except ExpressionError as e:
            raise RuleError(name, f"does not compile as CEL: {e}") from None
    return HealthRule(
        group,
        kind,
        compiled["current"],
        in_progress=compiled.get("inProgress"),
        failed=compiled.get("failed"),
        suspended=compiled.get("suspended"),
        match=compiled.get("match"),
        origin=origin,
    )


def _group(api_version: str) -> str:
    if api_version == ANY:
        return ANY
    group, slash, version = api_version.rpartition("/")
    if not _VERSION.match(version) or (slash and not group) or " " in group:
        raise RuleError(
            "apiVersion",
            f"expected group/version (cert-manager.io/v1), group/* or '*', found {api_version!r}",
        )
    return group


def _message(obj: Payload, status: HealthStatus) -> str:
    """What the object says of itself: ``status.message``, else the message (or reason) of
    the first condition present that speaks for ``status``."""
    found: Any = value(obj, "status", "message")
    if isinstance(found, str) and found:
        return found[:_MAX_MESSAGE]
    by_type = {c.type: c for c in conditions(obj)}
    for kind, required in _SPEAKING[status]:
        said = by_type.get(kind)
        if said is None or required not in (None, said.status):
            continue
        if said.message or said.reason:
            return (said.message or said.reason)[:_MAX_MESSAGE]
    return ""
