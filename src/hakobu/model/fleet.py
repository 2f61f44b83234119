"""Fleets: one template, many instances, each with its own values and a tier.

A fleet is a directory of the apps directory that holds ``fleet.yaml``::

    apps/shops/
      fleet.yaml            tiers (in rollout order) and the values an instance may set
      template/             the template app every instance renders (see ``templates``)
      instances/
        berlin.yaml         one file per instance: its tier and its values

``fleet.yaml``::

    tiers: [canary, stable]
    values:               # every key an instance may set, with its default
      host: ""
      replicas: 1

``instances/berlin.yaml``::

    tier: canary
    values:
      host: berlin.example.com

An instance is named by its file, so adding, changing or removing one touches exactly one
file: the smallest diff to review and no merge conflict between two changes to different
instances, however many there are. Each instance is an app of its own, named
``<fleet>-<instance>``: its objects carry that app's label and inventory, so removing an
instance prunes exactly its objects. The app name is a Kubernetes label value, so the
instance name must be a DNS-1123 label and the two together at most 63 characters.

Two switches set in an instance file keep it without deleting it. ``suspend: true`` leaves
its app alone in every sync (see ``SUSPEND_ANNOTATION``). ``maintenance: true`` renders it
with the values ``fleet.yaml`` declares under ``maintenance: values:`` laid over its own,
e.g. ``replicas: 0`` or a holding page's image.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hakobu.model.objects import Object
from hakobu.model.source import Document, SourceError, load_one
from hakobu.model.tierrollout import TierRollout, load_rollout

FLEET_FILE = "fleet.yaml"
TEMPLATE_DIR = "template"
INSTANCES_DIR = "instances"
INSTANCE_SUFFIXES = (".yaml", ".yml")

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# An app's name is the value of its objects' app label.
_MAX_APP_NAME = 63

# Render sets it on every object of a suspended instance. The committed output says so
# itself, object by object, so every sync (CLI, controller, agent) reads the suspension
# from what it already reads, with no file beside the objects nor the instance files.
SUSPEND_ANNOTATION = "hakobu.dev/suspend"


def suspended(objects: Iterable[Object]) -> bool:
    """An app's objects are a suspended instance's: there are some and each says so."""
    found = False
    for obj in objects:
        if (obj.get("metadata", {}).get("annotations") or {}).get(SUSPEND_ANNOTATION) != "true":
            return False
        found = True
    return found


@dataclass(frozen=True)
class Fleet:
    name: str
    tiers: tuple[str, ...]
    # What an instance may set, each with its default.
    values: dict[str, Any]
    # How a template version moves from tier to tier; None: only by `hakobu promote --fleet`.
    rollout: TierRollout | None = None
    # Laid over an instance's values while it is in maintenance; None: the fleet has none.
    maintenance: dict[str, Any] | None = None


@dataclass(frozen=True)
class Instance:
    name: str
    tier: str
    values: dict[str, Any]
    suspend: bool = False
    maintenance: bool = False


def app_name(fleet: str, instance: str) -> str:
    return f"{fleet}-{instance}"


def instance_name(fleet: str, file: Path) -> str:
    """The instance ``file`` defines; refused unless it can name the instance's objects."""
    name = file.name.rsplit(".", 1)[0]
    if not _DNS1123_LABEL.fullmatch(name):
        raise SourceError(
            file,
            f"{name!r} cannot name an instance: it must be a DNS-1123 label "
            "(lower-case letters, digits and '-', starting and ending with a letter or digit)",
            hint="rename the file, e.g. to " + _suggested(name) + ".yaml",
        )
    if len(app_name(fleet, name)) > _MAX_APP_NAME:
        raise SourceError(
            file,
            f"instance {name!r} of fleet {fleet!r} makes the app name "
            f"{app_name(fleet, name)!r}, longer than {_MAX_APP_NAME} characters",
            hint="use a shorter instance name",
        )
    return name


def load_fleet(file: Path, text: str) -> Fleet:
    doc = load_one(file, text)
    data = _mapping(doc, (), "the fleet file")
    _only(doc, (), data, {"tiers", "values", "rollout", "maintenance"})
    tiers = data.get("tiers")
    if not isinstance(tiers, list) or not tiers:
        raise doc.error(("tiers",), "expected a non-empty list of tier names, in rollout order")
    seen: set[str] = set()
    for index, tier in enumerate(tiers):
        if not isinstance(tier, str) or not _DNS1123_LABEL.fullmatch(tier):
            raise doc.error(
                ("tiers", index), f"expected a tier name (a DNS-1123 label), found {tier!r}"
            )
        if tier in seen:
            raise doc.error(("tiers", index), f"tier {tier!r} is listed twice")
        seen.add(tier)
    values = data.get("values", {})
    if not isinstance(values, dict):
        raise doc.error(("values",), "expected a mapping of value names to their defaults")
    rollout = load_rollout(doc, data["rollout"]) if "rollout" in data else None
    return Fleet(file.parent.name, tuple(tiers), values, rollout, _maintenance(doc, data, values))


def _maintenance(
    doc: Document, data: dict[str, Any], accepted: dict[str, Any]
) -> dict[str, Any] | None:
    if "maintenance" not in data:
        return None
    section = data["maintenance"]
    if not isinstance(section, dict):
        raise doc.error(("maintenance",), "expected a mapping with values:")
    _only(doc, ("maintenance",), section, {"values"})
    values = section.get("values")
    if not isinstance(values, dict) or not values:
        raise doc.error(
            ("maintenance", "values"),
            "expected a non-empty mapping of the values an instance in maintenance renders with",
        )
    for key in values:
        if key not in accepted:
            raise doc.error(
                ("maintenance", "values", key),
                f"{key!r} is not one of the fleet's values",
                hint="declare it with its default under values: first",
            )
    return values


def load_instance(fleet: Fleet, file: Path, text: str) -> Instance:
    """The instance ``file`` holds, checked against ``fleet``'s tiers and values."""
    name = instance_name(fleet.name, file)
    doc = load_one(file, text)
    data = _mapping(doc, (), "an instance file")
    _only(doc, (), data, {"tier", "values", "suspend", "maintenance"})
    tier = data.get("tier")
    if tier not in fleet.tiers:
        raise doc.error(
            ("tier",),
            f"tier {tier!r} is not a tier of fleet {fleet.name!r}",
            hint=f"the fleet's tiers ({FLEET_FILE}) are: {', '.join(fleet.tiers)}",
        )
    values = data.get("values", {})
    if not isinstance(values, dict):
        raise doc.error(("values",), "expected a mapping of value names to values")
    for key in values:
        if key not in fleet.values:
            raise doc.error(
                ("values", key),
                f"fleet {fleet.name!r} does not accept a value {key!r}",
                hint=f"the values its template accepts ({FLEET_FILE}) are: "
                + (", ".join(sorted(fleet.values)) or "none"),
            )
    suspend = _switch(doc, data, "suspend")
    maintenance = _switch(doc, data, "maintenance")
    if maintenance and fleet.maintenance is None:
        raise doc.error(
            ("maintenance",),
            f"fleet {fleet.name!r} declares no maintenance state",
            hint=f"declare the values an instance renders with in maintenance under "
            f"maintenance: values: in {FLEET_FILE}",
        )
    return Instance(name, str(tier), values, suspend, maintenance)


def _switch(doc: Document, data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise doc.error((key,), f"expected true or false, found {value!r}")
    return value


def _mapping(doc: Document, path: tuple[str, ...], what: str) -> dict[str, Any]:
    if not isinstance(doc.data, dict):
        raise doc.error(path, f"{what} must hold a mapping")
    return doc.data


def _only(doc: Document, path: tuple[str, ...], data: dict[str, Any], known: set[str]) -> None:
    for key in data:
        if key not in known:
            raise doc.error(
                (*path, key), f"unknown field {key!r}", hint=f"expected: {', '.join(sorted(known))}"
            )


def _suggested(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return cleaned or "shop-1"
