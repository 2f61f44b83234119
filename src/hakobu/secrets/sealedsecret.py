"""SealedSecret objects: seal a Secret as kubeseal does, reseal items, open as the controller.

kubeseal builds a SealedSecret from a Secret like this, and so does ``seal_secret``:

- ``metadata``: the Secret's name and namespace, and only the scope annotation (none for
  strict). The controller reads name, namespace and scope from here, so they decide the
  encryption label.
- ``spec.template``: the Secret's metadata (labels, annotations including the scope
  annotation, name, namespace) without what the API server owns and without the
  last-applied annotations that kubectl and kubecfg write, because those hold the whole
  Secret in clear text; plus ``type`` and ``immutable`` when set.
- ``spec.encryptedData``: every item of ``data`` and ``stringData`` sealed on its own, so an
  item can change without touching the others' ciphertexts.

Opening mirrors the controller: the Secret gets the template's metadata, the SealedSecret's
name and namespace, the decrypted items, the literal items of ``spec.template.data`` and an
owner reference back to the SealedSecret.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from hakobu.errors import HakobuError, InvalidInput
from hakobu.model.objects import Object, object_ref
from hakobu.model.source import FieldPath, format_field
from hakobu.secrets.crypto import (
    CannotUnseal,
    CorruptSealedValue,
    decode_sealed_value,
    encode_sealed_value,
    hybrid_decrypt,
    hybrid_encrypt,
)
from hakobu.secrets.keys import load_certificate
from hakobu.secrets.scope import (
    ANNOTATION_PREFIX,
    Scope,
    encryption_label,
    scope_of,
    with_scope,
)

API_VERSION = "bitnami.com/v1alpha1"
KIND = "SealedSecret"
SKIP_OWNER_REFERENCES_ANNOTATION = ANNOTATION_PREFIX + "skip-set-owner-references"
LAST_APPLIED_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "kubecfg.ksonnet.io/last-applied-configuration",
)
# What kinds, API versions and object names look like (DNS subdomains, group/version).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,252}")
# Set by the API server; a copy in a template would be stale or rejected.
_SERVER_FIELDS = (
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "ownerReferences",
)


class InvalidObject(InvalidInput):
    """An object that is not the Secret or SealedSecret it should be, at a field."""

    def __init__(self, obj: Object, field: FieldPath, message: str, hint: str | None = None):
        where = f"{_ref(obj)}: {format_field(field)}" if field else _ref(obj)
        super().__init__(f"{where}: {message}", hint=hint)
        self.field = field
        self.detail = message


def seal_secret(
    secret: Object,
    certificate_pem: bytes,
    scope: Scope | None = None,
    *,
    allow_empty_data: bool = False,
) -> Object:
    """The SealedSecret kubeseal would write for ``secret``.

    ``scope`` None takes the scope from the Secret's annotations, as kubeseal does without
    ``--scope``; a given scope replaces those annotations.
    """
    public_key = load_certificate(certificate_pem, "certificate").public_key
    items = secret_items(secret)
    if secret.get("apiVersion") != "v1":
        raise InvalidObject(
            secret,
            ("apiVersion",),
            f"expected v1, found {shown(secret.get('apiVersion'))}",
            hint="a Secret is apiVersion: v1",
        )
    if not items and not allow_empty_data:
        raise InvalidObject(
            secret,
            ("data",),
            "the Secret has no data and no stringData; sealing it is most likely a mistake",
            hint="add items, or allow an empty Secret explicitly",
        )
    metadata = _template_metadata(secret)
    if scope is None:
        scope = scope_of(metadata.get("annotations"))
    else:
        metadata["annotations"] = with_scope(metadata.get("annotations"), scope)
    _drop_empty(metadata, "annotations", "labels")
    name, namespace = _name(secret), str(metadata.get("namespace") or "")
    if not namespace and scope is not Scope.CLUSTER_WIDE:
        raise InvalidObject(
            secret,
            ("metadata", "namespace"),
            f"a {scope} Secret must name its namespace: the namespace is part of what the "
            "value is sealed for",
            hint="set metadata.namespace, or seal with the cluster-wide scope",
        )
    label = encryption_label(namespace, name, scope)
    template: Object = {"metadata": metadata}
    for field in ("type", "immutable"):
        if secret.get(field) is not None:
            template[field] = secret[field]
    top_metadata: Object = {"name": name}
    if namespace:
        top_metadata["namespace"] = namespace
    annotations = with_scope({}, scope)
    if annotations:
        top_metadata["annotations"] = annotations
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": top_metadata,
        "spec": {
            "template": template,
            "encryptedData": {
                key: encode_sealed_value(hybrid_encrypt(public_key, items[key], label))
                for key in sorted(items)
            },
        },
    }


def reseal_items(
    sealed: Object, changes: Mapping[str, bytes | None], certificate_pem: bytes
) -> Object:
    """A copy of ``sealed`` with the changed items sealed anew; ``None`` removes an item.

    Every other item keeps its ciphertext byte for byte, so a diff shows only what changed.
    """
    encrypted = _encrypted_data(sealed)
    missing = sorted(
        key for key, value in changes.items() if value is None and key not in encrypted
    )
    if missing:
        raise InvalidObject(
            sealed,
            ("spec", "encryptedData"),
            f"cannot remove {', '.join(missing)}: no such item; it has "
            f"{', '.join(sorted(encrypted)) or 'no items'}",
        )
    public_key = load_certificate(certificate_pem, "certificate").public_key
    label = sealing_label(sealed)
    updated = copy.deepcopy(sealed)
    items = dict(encrypted)
    for key, value in changes.items():
        _check_item_key(sealed, ("spec", "encryptedData", key), key)
        if value is None:
            del items[key]
        else:
            items[key] = encode_sealed_value(hybrid_encrypt(public_key, value, label))
    updated["spec"]["encryptedData"] = {key: items[key] for key in sorted(items)}
    return updated


def unseal(sealed: Object, private_keys: Sequence[RSAPrivateKey]) -> Object:
    """The Secret the controller would create from ``sealed``."""
    encrypted = _encrypted_data(sealed)
    spec: Object = sealed["spec"]
    if spec.get("data") is not None:
        raise InvalidObject(
            sealed,
            ("spec", "data"),
            "this SealedSecret uses the deprecated single-blob format, which the "
            "controller no longer opens by default",
            hint="seal the Secret again; it will use spec.encryptedData",
        )
    label = sealing_label(sealed)
    data: dict[str, bytes] = {}
    failures: dict[str, HakobuError] = {}
    for key, value in encrypted.items():
        if not isinstance(value, str):
            raise InvalidObject(sealed, ("spec", "encryptedData", key), "expected a string")
        try:
            data[key] = hybrid_decrypt(private_keys, decode_sealed_value(value), label)
        except (CannotUnseal, CorruptSealedValue) as e:
            failures[key] = e
    if failures:
        raise _unseal_failure(sealed, failures)
    template = spec.get("template") or {}
    if not isinstance(template, dict):
        raise InvalidObject(sealed, ("spec", "template"), "expected a mapping")
    data |= _literal_template_data(sealed, template, encrypted)
    return _secret(sealed, template, data)


def sealing_label(sealed: Object) -> bytes:
    """The label of a SealedSecret's values, from its top-level metadata as the controller."""
    meta = _metadata(sealed)
    scope = scope_of(meta.get("annotations"))
    return encryption_label(str(meta.get("namespace") or ""), _name(sealed), scope)


def secret_items(secret: Object) -> dict[str, bytes]:
    """A Secret's items as bytes: ``data`` decoded, then ``stringData`` (which wins)."""
    if not isinstance(secret, dict):
        raise InvalidInput(f"expected a Kubernetes Secret, found {shown(secret)}")
    if secret.get("kind") != "Secret":
        found = shown(secret.get("kind"))
        raise InvalidObject(
            secret, ("kind",), f"expected a Kubernetes Secret (kind: Secret), found {found}"
        )
    items: dict[str, bytes] = {}
    for field in ("data", "stringData"):
        values = secret.get(field) or {}
        if not isinstance(values, dict):
            raise InvalidObject(secret, (field,), "expected a mapping of item names to values")
        for key, value in values.items():
            path = (field, str(key))
            _check_item_key(secret, path, key)
            if not isinstance(value, str):
                raise InvalidObject(
                    secret,
                    path,
                    f"expected a string, found {type(value).__name__}",
                    hint='quote the value in YAML, e.g. "5432" or "true"',
                )
            if field == "stringData":
                items[key] = value.encode()
                continue
            try:
                items[key] = base64.b64decode(value, validate=True)
            except binascii.Error:
                raise InvalidObject(
                    secret,
                    path,
                    "not valid base64",
                    hint="put clear text under stringData instead of data",
                ) from None
    return items


def _template_metadata(secret: Object) -> Object:
    metadata = copy.deepcopy(_metadata(secret))
    for field in _SERVER_FIELDS:
        metadata.pop(field, None)
    annotations = metadata.get("annotations")
    if annotations is not None and not isinstance(annotations, dict):
        raise InvalidObject(secret, ("metadata", "annotations"), "expected a mapping")
    for annotation in LAST_APPLIED_ANNOTATIONS:
        (annotations or {}).pop(annotation, None)
    return metadata


def shown(value: object) -> str:
    """``value`` for an error message, when it is a short name; else only what it is.

    The fields quoted this way (kind, apiVersion, a name) hold names, but a mistaken file may
    put anything there, a Secret's values included, and an error must not repeat those.
    """
    if value is None:
        return "nothing"
    if isinstance(value, str) and (not value or _NAME.fullmatch(value)):
        return repr(value)
    return f"a {type(value).__name__}" if not isinstance(value, str) else "another text"


def _ref(obj: Object) -> str:
    kind = obj.get("kind")
    metadata = obj.get("metadata")
    if not isinstance(kind, str) or not _NAME.fullmatch(kind):
        kind = "object"
    if not isinstance(metadata, dict):
        return kind
    name, namespace = metadata.get("name"), metadata.get("namespace")
    name = name if isinstance(name, str) and _NAME.fullmatch(name) else "?"
    if isinstance(namespace, str) and _NAME.fullmatch(namespace):
        return object_ref({"kind": kind, "metadata": {"name": name, "namespace": namespace}})
    return object_ref({"kind": kind, "metadata": {"name": name}})


def _drop_empty(metadata: Object, *fields: str) -> None:
    for field in fields:
        if not metadata.get(field):
            metadata.pop(field, None)


def _metadata(obj: Object) -> Object:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        raise InvalidObject(obj, ("metadata",), "expected a mapping with at least a name")
    return metadata


def _name(obj: Object) -> str:
    name = _metadata(obj).get("name")
    if not isinstance(name, str) or not name:
        raise InvalidObject(obj, ("metadata", "name"), "a name is required")
    return name


def _check_item_key(obj: Object, path: FieldPath, key: object) -> None:
    # The API server's rule for Secret keys: [-._a-zA-Z0-9]+, at most 253 characters.
    if (
        not isinstance(key, str)
        or not key
        or len(key) > 253
        or key in (".", "..")
        or not all(c.isascii() and (c.isalnum() or c in "-._") for c in key)
    ):
        raise InvalidObject(
            obj,
            path,
            "not a valid item name",
            hint="use letters, digits, '-', '_' and '.' only",
        )


def _encrypted_data(sealed: Object) -> dict[str, Any]:
    if not isinstance(sealed, dict) or sealed.get("kind") != KIND:
        kind = shown(sealed.get("kind") if isinstance(sealed, dict) else sealed)
        raise InvalidInput(f"expected a {KIND} ({API_VERSION}), found {kind}")
    if sealed.get("apiVersion") != API_VERSION:
        raise InvalidObject(
            sealed,
            ("apiVersion",),
            f"expected {API_VERSION}, found {shown(sealed.get('apiVersion'))}",
        )
    _name(sealed)
    spec = sealed.get("spec")
    if not isinstance(spec, dict):
        raise InvalidObject(sealed, ("spec",), "expected a mapping with encryptedData")
    encrypted = spec.get("encryptedData")
    if encrypted is None:
        return {}
    if not isinstance(encrypted, dict):
        raise InvalidObject(sealed, ("spec", "encryptedData"), "expected a mapping")
    return encrypted


def _literal_template_data(
    sealed: Object, template: Object, encrypted: Mapping[str, Any]
) -> dict[str, bytes]:
    """Items of ``spec.template.data``: literal values; the controller renders Go templates.

    As in the current controller, an encrypted item wins over a template item of the same
    name, and a null template item removes the item. hakobu does not evaluate Go templates
    (with sprig functions), so a value that uses one is refused rather than guessed.
    """
    values = template.get("data") or {}
    if not isinstance(values, dict):
        raise InvalidObject(sealed, ("spec", "template", "data"), "expected a mapping")
    literal: dict[str, bytes] = {}
    for key, value in values.items():
        path = ("spec", "template", "data", str(key))
        if value is None or key in encrypted:
            continue
        if not isinstance(value, str):
            raise InvalidObject(sealed, path, f"expected a string, found {type(value).__name__}")
        if "{{" in value:
            raise InvalidObject(
                sealed,
                path,
                "the value is a Go template, which only the controller renders",
                hint="open it in the cluster, or put the rendered value in encryptedData",
            )
        literal[key] = value.encode()
    return literal


def _secret(sealed: Object, template: Object, data: Mapping[str, bytes]) -> Object:
    top = _metadata(sealed)
    template_metadata = template.get("metadata") or {}
    if not isinstance(template_metadata, dict):
        raise InvalidObject(sealed, ("spec", "template", "metadata"), "expected a mapping")
    metadata: Object = copy.deepcopy(template_metadata)
    for field in _SERVER_FIELDS:
        metadata.pop(field, None)
    metadata["name"] = _name(sealed)
    metadata.pop("namespace", None)
    if top.get("namespace"):
        metadata["namespace"] = top["namespace"]
    annotations = metadata.get("annotations") or {}
    # The API server refuses an owner reference without a uid, and only a stored
    # SealedSecret has one.
    if top.get("uid") and annotations.get(SKIP_OWNER_REFERENCES_ANNOTATION) != "true":
        metadata["ownerReferences"] = [
            {
                "apiVersion": sealed["apiVersion"],
                "kind": KIND,
                "name": metadata["name"],
                "uid": top["uid"],
                "controller": True,
            }
        ]
    removed = {key for key, value in (template.get("data") or {}).items() if value is None}
    secret: Object = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata}
    for field in ("type", "immutable"):
        if template.get(field) is not None:
            secret[field] = template[field]
    secret["data"] = {
        key: base64.b64encode(data[key]).decode("ascii")
        for key in sorted(data)
        if key not in removed
    }
    return secret


def _unseal_failure(sealed: Object, failures: Mapping[str, HakobuError]) -> HakobuError:
    keys = ", ".join(sorted(failures))
    corrupt = [
        failures[key] for key in sorted(failures) if isinstance(failures[key], CorruptSealedValue)
    ]
    if corrupt:
        return CorruptSealedValue(
            f"{_ref(sealed)}: cannot open {keys}: {corrupt[0].message}", hint=corrupt[0].hint
        )
    label = sealing_label(sealed).decode()
    return CannotUnseal(
        f"{_ref(sealed)}: cannot open {keys}: none of the given keys opens them with the "
        f"label {label!r}: they were sealed for another namespace/name or scope, or with "
        "another key",
        hint=next(iter(failures.values())).hint,
    )
