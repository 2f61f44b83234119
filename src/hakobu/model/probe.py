"""Health checks of a container: readiness, liveness and startup probes as written.

The app's own container and each of its sidecars take the same three; what a probe checks
when it names no port is the container's first port (the app's main port). The values are
already checked against the JSON Schema (``appspec_schema``) when they are typed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from hakobu.model.schemacheck import SchemaViolation
from hakobu.model.source import FieldPath

PROBE_KINDS = ("readiness", "liveness", "startup")
_TIMINGS = (
    "initialDelaySeconds",
    "periodSeconds",
    "timeoutSeconds",
    "failureThreshold",
    "successThreshold",
)


@dataclass(frozen=True)
class ProbeSpec:
    """A probe as written; the main port and the kind of check are settled when rendering."""

    path: str | None = None
    port: int | str | None = None
    scheme: str | None = None
    command: tuple[str, ...] | None = None
    timings: Mapping[str, int] = field(default_factory=dict)


# None: not written (the default applies); False: turned off.
Probe = ProbeSpec | Literal[False] | None


@dataclass(frozen=True)
class Probes:
    readiness: Probe = None
    liveness: Probe = None
    startup: Probe = None


def parse_probes(value: Mapping[str, Any]) -> Probes:
    return Probes(**{kind: _probe(item) for kind, item in value.items()})


def _probe(value: bool | dict[str, Any]) -> Probe:
    if value is False:
        return False
    if value is True:
        return ProbeSpec()
    command = value.get("command")
    return ProbeSpec(
        path=value.get("path"),
        port=value.get("port"),
        scheme=value.get("scheme"),
        command=tuple(command) if command is not None else None,
        timings={k: value[k] for k in _TIMINGS if k in value},
    )


def check_probes(
    path: FieldPath, probes: Probes, ports: Sequence[tuple[str, str]], first: str
) -> None:
    """Each written probe can check something: a command, or a port of ``ports`` (name,
    protocol; the first is the one a probe without a port checks, called ``first`` in
    messages, such as "the main port")."""
    names = {name for name, _ in ports}
    for kind in PROBE_KINDS:
        probe = getattr(probes, kind)
        if not isinstance(probe, ProbeSpec):
            continue
        where: FieldPath = (*path, kind)
        if probe.path is not None and probe.command is not None:
            raise SchemaViolation(where, "set path (an HTTP GET) or command, not both")
        if probe.command is not None:
            continue
        if isinstance(probe.port, str) and probe.port not in names:
            known = ", ".join(sorted(names)) or "none"
            raise SchemaViolation(
                (*where, "port"), f"no port is named {probe.port!r} (ports: {known})"
            )
        if probe.port is None and not ports:
            raise SchemaViolation(
                where,
                "the probe has nothing to check: there are no ports",
                "set port, command, or add ports",
            )
        if probe.port is None and ports[0][1] != "TCP":
            raise SchemaViolation(
                where,
                f"{first} {ports[0][0]!r} is {ports[0][1]}, which a probe cannot check",
                "set port to a TCP port, or command",
            )


__all__ = ["PROBE_KINDS", "Probe", "ProbeSpec", "Probes", "check_probes", "parse_probes"]
