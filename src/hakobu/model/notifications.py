"""The ``notifications:`` section of ``hakobu.yaml`` (and of a Delivery's spec): who hears
about what happens to an environment.

::

    notifications:
      commitUrl: https://git.example/shop/commit/{revision}   # links each message's commit
      targets:
      - name: team-chat
        provider: slack             # slack, webhook or email
        secretRef: {name: shop-chat}  # a Secret next to the Delivery: its items say where
        events: [sync-failed, health-degraded, rollback-committed]  # default: every event
        environments: [production]  # default: every environment
      - name: audit
        provider: webhook           # JSON signed with HMAC-SHA256
        secretRef: {name: shop-audit}
      - name: on-call
        provider: email
        secretRef: {name: shop-mail}
        events: [sync-failed]
        template: |                 # Jinja, sandboxed; the event's fields are its variables
          {{ environment }} failed at {{ short }}: {{ message }}
          {{ commit_url }}

Where a message goes, and the keys that sign it, are never written here: they are items
of the named Secret (``url``; ``key`` for a webhook; ``host``, ``port``, ``username``,
``password``, ``from``, ``to`` and ``starttls`` for e-mail), read when a message is sent.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from hakobu.model.source import FieldPath, SourceError

_FIELDS = ("commitUrl", "targets")
_TARGET_FIELDS = ("name", "provider", "secretRef", "events", "environments", "template")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# A Secret's name: a DNS subdomain.
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
REVISION_PLACEHOLDER = "{revision}"
# A message template is a message, not a program: longer text is a mistake.
TEMPLATE_CHARS = 16 << 10
URL_CHARS = 2048


class EventKind(StrEnum):
    """What happened to an environment, as notifications and their filters name it."""

    SYNC_STARTED = "sync-started"
    SYNC_SUCCEEDED = "sync-succeeded"
    SYNC_FAILED = "sync-failed"
    HEALTH_DEGRADED = "health-degraded"
    HEALTH_RECOVERED = "health-recovered"
    DRIFT_REPAIRED = "drift-repaired"
    ROLLBACK_COMMITTED = "rollback-committed"
    PROMOTED = "promoted"
    # A canary rollout driven by the controller: promoted to every replica, or aborted.
    ROLLOUT_PROMOTED = "rollout-promoted"
    ROLLOUT_ABORTED = "rollout-aborted"
    # A branch's preview environment (``model.previews``): brought up, updated, taken
    # down (its branch deleted, or its time run out), or failed.
    PREVIEW_UP = "preview-up"
    PREVIEW_UPDATED = "preview-updated"
    PREVIEW_DOWN = "preview-down"
    PREVIEW_FAILED = "preview-failed"
    # A fleet's tiered rollout stopped at a Degraded instance (``releases.tierrollout``).
    FLEET_HALTED = "fleet-halted"


class Provider(StrEnum):
    SLACK = "slack"
    WEBHOOK = "webhook"
    EMAIL = "email"


@dataclass(frozen=True)
class Origin:
    """Where a target was declared, so a problem found later (a template that does not
    compile) is reported at its file, line and field."""

    file: str
    line: int | None
    field: FieldPath

    def error(self, message: str, hint: str | None = None) -> SourceError:
        return SourceError(self.file, message, line=self.line, field=self.field, hint=hint)


@dataclass(frozen=True)
class Target:
    """One destination of notifications, and the events it wants."""

    name: str
    provider: Provider
    # The Secret, in the Delivery's namespace, whose items say where and how to send.
    secret: str
    events: frozenset[EventKind]
    # None: every environment.
    environments: frozenset[str] | None
    template: str | None
    origin: Origin = field(compare=False, repr=False)

    def wants(self, kind: EventKind, environment: str) -> bool:
        return kind in self.events and (
            self.environments is None or environment in self.environments
        )


@dataclass(frozen=True)
class Notifications:
    targets: tuple[Target, ...] = ()
    # A link to a commit, with ``{revision}`` where its full id goes; None: no link.
    commit_url: str | None = None

    def commit_link(self, revision: str) -> str | None:
        # Replaced, not str.format-ted: the rest of the URL is taken as written.
        if self.commit_url is None:
            return None
        return self.commit_url.replace(REVISION_PLACEHOLDER, revision)

    def over(self, base: Notifications) -> Notifications:
        """These settings (a Delivery's) over ``base`` (its project's): a target of the same
        name replaces the project's, others add to them; a commit link replaces the
        project's."""
        mine = {target.name for target in self.targets}
        kept = tuple(target for target in base.targets if target.name not in mine)
        return Notifications(kept + self.targets, self.commit_url or base.commit_url)


class Located(Protocol):
    """What the section is read from: a YAML document (``hakobu.model.source.Document``)
    or a resource (``ResourceFields``); both say where a field is."""

    @property
    def file(self) -> Path | str: ...

    def line_of(self, path: FieldPath) -> int | None: ...

    def error(self, path: FieldPath, message: str, hint: str | None = None) -> SourceError: ...


@dataclass(frozen=True)
class ResourceFields:
    """Fields of a Kubernetes object, located by the object's name (``Delivery shop/prod``):
    an object read from the API server has no lines."""

    file: str
    hint: str | None = None

    def line_of(self, path: FieldPath) -> int | None:
        return None

    def error(self, path: FieldPath, message: str, hint: str | None = None) -> SourceError:
        return SourceError(self.file, message, field=path, hint=hint or self.hint)


def parse_notifications(
    where: Located,
    path: FieldPath,
    value: Any,
    *,
    environments: Collection[str] | None = None,
) -> Notifications:
    """The section at ``path`` of ``where`` (absent: none). ``environments``, when known
    (a project's), are the names a target's ``environments`` may list."""
    if value is None:
        return Notifications()
    if not isinstance(value, dict):
        raise where.error(
            path, f"expected a mapping with commitUrl and targets, found {_type(value)}"
        )
    for key in value:
        if key not in _FIELDS:
            raise where.error((*path, key), f"unknown field; expected one of: {', '.join(_FIELDS)}")
    commit_url = _commit_url(where, (*path, "commitUrl"), value.get("commitUrl"))
    listed = value.get("targets") or []
    if not isinstance(listed, list):
        raise where.error((*path, "targets"), f"expected a list, found {_type(listed)}")
    targets: list[Target] = []
    for index, item in enumerate(listed):
        target = _target(where, (*path, "targets", index), item, environments)
        if target.name in {t.name for t in targets}:
            raise where.error(
                (*path, "targets", index, "name"), f"{target.name!r} names two targets"
            )
        targets.append(target)
    return Notifications(tuple(targets), commit_url)


def _commit_url(where: Located, path: FieldPath, value: Any) -> str | None:
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not value.startswith(("https://", "http://"))
        or REVISION_PLACEHOLDER not in value
        or len(value) > URL_CHARS
        or any(c.isspace() for c in value)
    ):
        raise where.error(
            path,
            f"expected an http(s) URL with {REVISION_PLACEHOLDER} where the commit id goes, "
            f"found {value!r}",
            hint="for example https://git.example/shop/commit/{revision}",
        )
    return value


def _target(
    where: Located, path: FieldPath, value: Any, environments: Collection[str] | None
) -> Target:
    if not isinstance(value, dict):
        raise where.error(path, f"expected a mapping, found {_type(value)}")
    for key in value:
        if key not in _TARGET_FIELDS:
            raise where.error(
                (*path, key), f"unknown field; expected one of: {', '.join(_TARGET_FIELDS)}"
            )
    name = value.get("name")
    if not isinstance(name, str) or not _DNS_LABEL.match(name) or len(name) > 63:
        raise where.error(
            (*path, "name"),
            f"expected a DNS label (lower-case letters, digits and '-'), found {name!r}",
        )
    provider = value.get("provider")
    if provider not in tuple(Provider):
        raise where.error(
            (*path, "provider"),
            f"expected one of {', '.join(Provider)}, found {provider!r}",
        )
    template = value.get("template")
    if template is not None and (
        not isinstance(template, str) or not template.strip() or len(template) > TEMPLATE_CHARS
    ):
        raise where.error(
            (*path, "template"),
            f"expected Jinja text of at most {TEMPLATE_CHARS:,} characters",
        )
    return Target(
        name=name,
        provider=Provider(provider),
        secret=_secret_ref(where, (*path, "secretRef"), value.get("secretRef")),
        events=_events(where, (*path, "events"), value.get("events")),
        environments=_environments(
            where, (*path, "environments"), value.get("environments"), environments
        ),
        template=template,
        origin=Origin(str(where.file), where.line_of((*path, "template")), (*path, "template")),
    )


def _secret_ref(where: Located, path: FieldPath, value: Any) -> str:
    if not isinstance(value, dict):
        raise where.error(
            path,
            f"expected {{name: <Secret>}}, found {_type(value)}",
            hint="name a Secret in the Delivery's namespace that holds the target's url or "
            "mail server",
        )
    for key in value:
        if key != "name":
            raise where.error((*path, key), "unknown field; expected only: name")
    name = value.get("name")
    if not isinstance(name, str) or not _SUBDOMAIN.match(name) or len(name) > 253:
        raise where.error((*path, "name"), f"expected a Secret's name, found {name!r}")
    return name


def _events(where: Located, path: FieldPath, value: Any) -> frozenset[EventKind]:
    if value is None:
        return frozenset(EventKind)
    if not isinstance(value, list) or not value:
        raise where.error(
            path,
            "expected a non-empty list of events",
            hint="leave events out for every event",
        )
    kinds: set[EventKind] = set()
    for index, item in enumerate(value):
        if item not in tuple(EventKind):
            raise where.error(
                (*path, index), f"expected one of {', '.join(EventKind)}, found {item!r}"
            )
        kinds.add(EventKind(item))
    return frozenset(kinds)


def _environments(
    where: Located, path: FieldPath, value: Any, known: Collection[str] | None
) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise where.error(
            path,
            "expected a non-empty list of environment names",
            hint="leave environments out for every environment",
        )
    for index, item in enumerate(value):
        if not isinstance(item, str) or (known is not None and item not in known):
            listed = f" (the project defines: {', '.join(sorted(known))})" if known else ""
            raise where.error((*path, index), f"no environment named {item!r}{listed}")
    return frozenset(value)


def _type(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__
