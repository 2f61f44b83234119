"""Whether the target server takes what an environment declares, before anything is applied.

A manifest whose kind the server does not serve in its apiVersion, and that no
CustomResourceDefinition of the environment defines (those are applied first, so the
kinds they define are served by the time their objects are), blocks its app: nothing of
the app is written, and the message names the file and, for a built-in version Kubernetes
removed, the release and the replacement. Kinds the server serves but has deprecated are
applied; the server's own deprecation warnings, given when the sync read them, are passed
on beside the app's result.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import ApiError, NotFound, Unreachable
from hakobu.model.objects import object_ref
from hakobu.model.removedapis import removal_advice
from hakobu.sync.manifests import DesiredState
from hakobu.sync.plan import Resource
from hakobu.sync.sealed import Blocked


class Served:
    """What one server serves, asked once per (apiVersion, kind)."""

    def __init__(self, kube: KubeApi, desired: DesiredState) -> None:
        self._kube = kube
        self._desired = desired
        self._known: dict[tuple[str, str], bool] = {}
        self._version: str | None = None

    def blocked(self, resources: Iterable[Resource]) -> list[Blocked]:
        """The resources the server cannot take, each with why and what to do."""
        found = []
        for resource in resources:
            api_version, kind = resource.obj["apiVersion"], resource.obj["kind"]
            if self._serves(api_version, kind):
                continue
            advice = removal_advice(api_version, kind) or (
                "no CustomResourceDefinition in the cluster or in this environment defines it"
            )
            ref = object_ref(resource.obj)
            found.append(
                Blocked(
                    ref,
                    resource.id,
                    f"{resource.source}: {ref}: {kind} {api_version} is not served by this "
                    f"cluster{self._release()}: {advice}",
                )
            )
        return found

    def warnings(self, resources: Iterable[Resource]) -> list[str]:
        """The server's warnings on reading the kinds of ``resources``, once each, with the
        first file that declares each kind."""
        said: dict[str, None] = {}
        seen: set[tuple[str, str]] = set()
        for resource in resources:
            key = (resource.obj["apiVersion"], resource.obj["kind"])
            if key in seen or not self._serves(*key):
                continue
            seen.add(key)
            try:
                warnings = self._kube.api_warnings(*key)
            except NotFound:
                continue  # defined by a CRD of this environment, not yet applied: not read
            for warning in warnings:
                said[f"{resource.source}: {key[1]} {key[0]}: {warning}"] = None
        return list(said)

    def _serves(self, api_version: str, kind: str) -> bool:
        key = (api_version, kind)
        if key not in self._known:
            try:
                self._kube.resource(api_version, kind)
                self._known[key] = True
            except NotFound:
                self._known[key] = key in self._defined
        return self._known[key]

    @cached_property
    def _defined(self) -> frozenset[tuple[str, str]]:
        # Only a kind the server does not serve needs the environment's thousands of
        # manifests searched for its definition.
        return _defined_by_crds(self._desired)

    def _release(self) -> str:
        """`` (Kubernetes 1.36.3)``, as the server says, or nothing if it does not."""
        if self._version is None:
            try:
                info = self._kube.request("GET", "/version")
                self._version = str(info.get("gitVersion", "")).removeprefix("v")
            except (ApiError, Unreachable, AttributeError):
                self._version = ""
        return f" (Kubernetes {self._version})" if self._version else ""


def _defined_by_crds(desired: DesiredState) -> frozenset[tuple[str, str]]:
    defined = set()
    for app in desired.apps:
        for manifest in app.manifests:
            obj = manifest.obj
            if obj.get("kind") != "CustomResourceDefinition":
                continue
            spec = obj.get("spec") or {}
            kind = (spec.get("names") or {}).get("kind")
            for version in spec.get("versions") or []:
                if isinstance(version, dict) and version.get("served", True) and kind:
                    defined.add((f"{spec.get('group')}/{version.get('name')}", str(kind)))
    return frozenset(defined)
