"""The ``FleetInstance`` custom resource: one instance of a fleet, declared in a management
cluster instead of by hand, and written into git by the controller.

A FleetInstance names a Delivery of its own namespace (``spec.delivery``): the instance is
written to that Delivery's repository, branch and project directory, as
``apps/<fleet>/instances/<instance>.yaml``, so the Delivery deploys it like any instance a
person added with ``hakobu fleet add``. Naming the Delivery rather than a repository URL
means a FleetInstance needs no git credentials or URL of its own (the Delivery's Secret is
used), cannot write to a repository no Delivery of its namespace follows, and is handled by
the replica that holds the Delivery's shard.

``spec.suspend`` and ``spec.maintenance`` set the instance file's switches of the same
names (as ``hakobu fleet suspend|resume|maintenance``); left out, the switch is not the
resource's, and a person may set it in the file by hand.

``status`` is the controller's alone (the status subresource): ``commit`` that wrote the
current generation, the instance's ``sync`` and ``health`` as the Delivery last found its
app ``<fleet>-<instance>``, and the conditions ``Written`` and ``Ready``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hakobu.controller.delivery import GROUP, VERSION, DeliveryRef
from hakobu.errors import InvalidInput

API_VERSION = f"{GROUP}/{VERSION}"
KIND = "FleetInstance"
PLURAL = "fleetinstances"
# Deleting a FleetInstance waits until its file is removed from git.
FINALIZER = "fleets.hakobu.dev/instance-file"
# Fleet and instance names become directory and file names: nothing else is taken.
NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
# The instance file's switches a FleetInstance may set.
SWITCHES = ("suspend", "maintenance")


class InvalidFleetInstance(InvalidInput):
    """A FleetInstance whose spec cannot be written; its message names the field."""


@dataclass(frozen=True)
class FleetInstanceRef:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class FleetInstanceSpec:
    ref: FleetInstanceRef
    generation: int
    delivery: DeliveryRef
    fleet: str
    instance: str
    tier: str
    values: dict[str, Any]
    # The switches the spec sets (``suspend``, ``maintenance``): on or off.
    switches: dict[str, bool]


def ref_of(obj: dict[str, Any]) -> FleetInstanceRef:
    metadata = obj["metadata"]
    return FleetInstanceRef(str(metadata.get("namespace", "")), str(metadata["name"]))


def delivery_of(obj: dict[str, Any]) -> DeliveryRef | None:
    """The Delivery ``obj`` is written through, or None when its spec names none."""
    name = (obj.get("spec") or {}).get("delivery")
    if not isinstance(name, str) or not name:
        return None
    return DeliveryRef(ref_of(obj).namespace, name)


def parse(obj: dict[str, Any]) -> FleetInstanceSpec:
    """What ``obj`` declares, or InvalidFleetInstance naming the field at fault. Whether the
    fleet accepts it (its tiers, its values, the instance name) is the fleet's to say, as
    ``hakobu fleet add`` checks it, once the repository is read."""
    ref = ref_of(obj)
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        raise _invalid(ref, "spec", "a mapping", spec)
    metadata = obj["metadata"]
    delivery = _text(ref, spec, "delivery")
    instance = spec.get("instance", metadata["name"])
    if not isinstance(instance, str) or not re.fullmatch(NAME_PATTERN, instance):
        raise _invalid(ref, "spec.instance", _LABEL, instance)
    fleet = spec.get("fleet")
    if not isinstance(fleet, str) or not re.fullmatch(NAME_PATTERN, fleet):
        raise _invalid(ref, "spec.fleet", _LABEL, fleet)
    values = spec.get("values", {})
    if not isinstance(values, dict):
        raise _invalid(ref, "spec.values", "a mapping of value names to values", values)
    switches: dict[str, bool] = {}
    for switch in SWITCHES:
        if switch in spec:
            if not isinstance(spec[switch], bool):
                raise _invalid(ref, f"spec.{switch}", "true or false", spec[switch])
            switches[switch] = spec[switch]
    return FleetInstanceSpec(
        ref=ref,
        generation=int(metadata.get("generation", 0)),
        delivery=DeliveryRef(ref.namespace, delivery),
        fleet=fleet,
        instance=instance,
        tier=_text(ref, spec, "tier"),
        values=dict(values),
        switches=switches,
    )


_LABEL = "a DNS-1123 label (lower-case letters, digits and '-')"


def _text(ref: FleetInstanceRef, spec: dict[str, Any], field: str) -> str:
    value = spec.get(field)
    if not isinstance(value, str) or not value:
        raise _invalid(ref, f"spec.{field}", "a non-empty string", value)
    return value


def _invalid(
    ref: FleetInstanceRef, field: str, expected: str, found: object
) -> InvalidFleetInstance:
    return InvalidFleetInstance(
        f"FleetInstance {ref}: {field}: expected {expected}, found {found!r}",
        hint=f"kubectl edit fleetinstance -n {ref.namespace} {ref.name}",
    )
