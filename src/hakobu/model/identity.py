"""What the API server accepts as an object's identity, checked before it names a file.

An object's kind, namespace and name become the path ``generated/<env>/<app>/<kind>-<name>``,
so an identity the API server would refuse (``kind: ../../x``, a name with ``/``) must be
refused here first, as the API server refuses it: kinds are DNS-1035 labels once lower-cased
(the rule for a CustomResourceDefinition's kind), API groups DNS-1123 subdomains, versions
DNS-1035 labels, namespaces DNS-1123 labels, and names DNS-1123 subdomains — except the RBAC
kinds, whose names need only be valid path segments (``system:controller:foo``).
"""

from __future__ import annotations

import re

from hakobu.model.objects import Object

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_RBAC_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})
_RBAC_GROUP = "rbac.authorization.k8s.io"
# What path.ValidatePathSegmentName forbids, plus control characters no file name should hold.
_PATH_SEGMENT_FORBIDDEN = re.compile(r"[/%\x00-\x1f\x7f]")


def identity_problem(obj: Object) -> tuple[str, str] | None:
    """The first field of ``obj``'s identity the API server would refuse, and why; or None."""
    problem = _type_problem(obj.get("apiVersion"), obj.get("kind"))
    if problem is not None:
        return problem
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return "metadata", "is missing or not a mapping"
    namespace = meta.get("namespace")
    if namespace is not None and not _full(_DNS1123_LABEL, namespace, 63):
        return "metadata.namespace", (
            f"{_shown(namespace)} is not a namespace name (a DNS-1123 label: lower-case "
            "letters, digits and '-', at most 63)"
        )
    return _name_problem(meta.get("name"), obj["kind"], obj["apiVersion"].rpartition("/")[0])


def _type_problem(api_version: object, kind: object) -> tuple[str, str] | None:
    if not isinstance(api_version, str) or not api_version:
        return "apiVersion", "is missing; expected a group/version such as apps/v1"
    group, _, version = api_version.rpartition("/")
    if not _full(_DNS1035_LABEL, version, 63) or (group and not _full(_DNS1123_SUBDOMAIN, group)):
        return "apiVersion", f"{_shown(api_version)} is not a group/version such as apps/v1"
    if not isinstance(kind, str) or not kind:
        return "kind", "is missing"
    if not kind[0].isupper() or not _full(_DNS1035_LABEL, kind.lower(), 63):
        return "kind", f"{_shown(kind)} is not a kind (CamelCase letters and digits)"
    return None


def _name_problem(name: object, kind: str, group: str) -> tuple[str, str] | None:
    if not isinstance(name, str) or not name:
        return "metadata.name", "is missing"
    if kind in _RBAC_KINDS and group == _RBAC_GROUP:
        if name in (".", "..") or _PATH_SEGMENT_FORBIDDEN.search(name) or len(name) > 253:
            return "metadata.name", (
                f"{_shown(name)} is not a valid name (no '/', '%' or control characters, "
                "not '.' or '..', at most 253)"
            )
        return None
    if not _full(_DNS1123_SUBDOMAIN, name):
        return "metadata.name", (
            f"{_shown(name)} is not a valid name (a DNS-1123 subdomain: lower-case letters, "
            "digits, '-' and '.', at most 253)"
        )
    return None


def _full(pattern: re.Pattern[str], value: object, limit: int = 253) -> bool:
    return isinstance(value, str) and len(value) <= limit and pattern.fullmatch(value) is not None


def _shown(value: object) -> str:
    """A value for a message: quoted, and cut so a huge value cannot flood the terminal."""
    text = repr(value) if isinstance(value, str) else type(value).__name__
    return text if len(text) <= 80 else f"{text[:77]}..."
