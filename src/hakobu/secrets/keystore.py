"""The controller's sealing keys where they live, in the cluster, and their backups.

A key is a ``kubernetes.io/tls`` Secret labelled ``sealedsecrets.bitnami.com/sealed-secrets-key:
active`` in the controller's namespace, named ``<prefix><random suffix>`` by the API server
(``generateName``), exactly as the controller writes its own. The newest key — by its
certificate's NotBefore, the controller's default order — seals; every key opens, so old
keys stay. A backup is a ``List`` of those Secrets: the shape ``kubectl get secret -l … -o
yaml`` prints, which ``kubeseal --recovery-private-key`` and ``hakobu secret unseal --key``
read.

Cluster access goes through ``SecretApi``, which ``hakobu.cluster.client.KubeClient``
satisfies; this package sits beside ``hakobu.cluster`` and does not import it.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.files import decode
from hakobu.model.objects import Object
from hakobu.model.source import load_documents
from hakobu.secrets.keys import (
    DEFAULT_KEY_SIZE,
    DEFAULT_VALIDITY_DAYS,
    TLS_CERT,
    TLS_KEY,
    generate_key_pair,
    load_private_keys,
    read_input,
)
from hakobu.secrets.sealedsecret import shown

KEY_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key"
ACTIVE = "active"
KEY_SELECTOR = f"{KEY_LABEL}={ACTIVE}"
TLS_TYPE = "kubernetes.io/tls"
DEFAULT_NAMESPACE = "kube-system"
DEFAULT_PREFIX = "sealed-secrets-key"
# The controller's --key-renew-period default.
DEFAULT_RENEW_PERIOD = datetime.timedelta(days=30)


class _Listing(Protocol):
    @property
    def items(self) -> list[Object]: ...


class SecretApi(Protocol):
    """The part of a Kubernetes client the key store uses."""

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
    ) -> _Listing: ...

    def create(self, obj: Object) -> Object: ...


@dataclass(frozen=True)
class SealingKey:
    """One key pair of the controller, as stored in (or backed up from) a Secret."""

    name: str
    namespace: str
    certificate_pem: bytes
    private_key: RSAPrivateKey = field(repr=False, compare=False)
    not_before: datetime.datetime
    not_after: datetime.datetime
    # SHA-256 of the public key (DER): what identifies a key across names and clusters.
    fingerprint: str

    @property
    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )


def newest_first(keys: Sequence[SealingKey]) -> tuple[SealingKey, ...]:
    """The controller's order: the latest certificate NotBefore seals (name breaks ties)."""
    return tuple(sorted(keys, key=lambda k: (k.not_before, k.name), reverse=True))


def parse_key_secret(secret: Object, source: str) -> SealingKey:
    """A key Secret (as the API returns it, or as a backup holds it) as a ``SealingKey``."""
    if not isinstance(secret, dict) or secret.get("kind") != "Secret":
        kind = shown(secret.get("kind") if isinstance(secret, dict) else secret)
        raise InvalidInput(f"{source}: expected a key Secret (kind Secret), found {kind}")
    metadata = secret.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    name = str(metadata.get("name") or "")
    data = secret.get("data")
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: the key Secret {shown(name)} has no data mapping")
    pems: dict[str, bytes] = {}
    for item in (TLS_KEY, TLS_CERT):
        try:
            pems[item] = base64.b64decode(str(data.get(item) or ""), validate=True)
        except binascii.Error:
            raise InvalidInput(f"{source}: data.{item} is not valid base64") from None
        if not pems[item]:
            raise InvalidInput(f"{source}: the key Secret {shown(name)} has no data.{item}")
    return _sealing_key(
        name, str(metadata.get("namespace") or ""), pems[TLS_KEY], pems[TLS_CERT], source
    )


def _sealing_key(
    name: str, namespace: str, private_pem: bytes, certificate_pem: bytes, source: str
) -> SealingKey:
    private_key = load_private_keys(private_pem, f"{source} data.{TLS_KEY}")[0]
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem)
    except ValueError as e:
        raise InvalidInput(f"{source}: data.{TLS_CERT} is not a PEM certificate ({e})") from None
    public_der = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    own_der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if public_der != own_der:
        raise InvalidInput(
            f"{source}: the key Secret {shown(name)} holds a certificate of another key than its "
            f"{TLS_KEY}",
            hint="restore the Secret from a backup taken by hakobu or kubectl",
        )
    return SealingKey(
        name=name,
        namespace=namespace,
        certificate_pem=certificate_pem,
        private_key=private_key,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        fingerprint=hashlib.sha256(public_der).hexdigest(),
    )


def key_secret(key: SealingKey, namespace: str, *, name: str | None, prefix: str) -> Object:
    """The Secret that stores ``key``: under ``name``, or a fresh ``prefix``-based one."""
    metadata: Object = {"namespace": namespace, "labels": {KEY_LABEL: ACTIVE}}
    if name:
        metadata["name"] = name
    else:
        metadata["generateName"] = prefix
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": TLS_TYPE,
        "data": {
            TLS_CERT: base64.b64encode(key.certificate_pem).decode("ascii"),
            TLS_KEY: base64.b64encode(key.private_pem).decode("ascii"),
        },
    }


def backup_list(keys: Sequence[SealingKey]) -> Object:
    """Every key as a ``List`` of key Secrets, oldest first, like the controller's backups."""
    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            key_secret(key, key.namespace, name=key.name, prefix=DEFAULT_PREFIX)
            for key in reversed(newest_first(keys))
        ],
    }


def read_backup(path: Path) -> tuple[SealingKey, ...]:
    """The keys of a backup file: a ``List`` of key Secrets, or key Secrets one per document."""
    text = decode(path, read_input(path, "cannot read the backup"))
    keys: list[SealingKey] = []
    for document in load_documents(path, text):
        body: Any = document.data
        if isinstance(body, dict) and body.get("kind") == "List":
            items = body.get("items") or []
            if not isinstance(items, list):
                raise document.error(("items",), "expected a list of key Secrets")
            keys += [parse_key_secret(item, f"{path} items[{i}]") for i, item in enumerate(items)]
        else:
            keys.append(parse_key_secret(body, str(path)))
    if not keys:
        raise InvalidInput(f"{path}: the backup holds no keys")
    return newest_first(keys)


def backup_predates(backup: Sequence[SealingKey], keys: Sequence[SealingKey]) -> bool:
    """Whether the newest key of ``keys`` is missing from ``backup``."""
    ordered = newest_first(keys)
    return bool(ordered) and ordered[0].fingerprint not in {k.fingerprint for k in backup}


def newest_backup(
    backups: Sequence[tuple[Path, tuple[SealingKey, ...]]],
) -> tuple[Path, tuple[SealingKey, ...]]:
    """Of several backups, the one holding the most recent key (the last one made)."""
    return max(backups, key=lambda b: (newest_first(b[1])[0].not_before, str(b[0])))


def stale_backup(paths: Sequence[Path], keys: Sequence[SealingKey]) -> Path | None:
    """The newest of the backup files ``paths``, when it lacks the newest of ``keys``."""
    if not paths or not keys:
        return None
    path, backup = newest_backup([(path, read_backup(path)) for path in paths])
    return path if backup_predates(backup, keys) else None


def rotation_due(
    keys: Sequence[SealingKey], period: datetime.timedelta, now: datetime.datetime
) -> bool:
    """Whether the newest key is older than ``period`` (or there is no key at all)."""
    ordered = newest_first(keys)
    return not ordered or now - ordered[0].not_before >= period


def new_key(
    common_name: str = "",
    *,
    validity_days: int = DEFAULT_VALIDITY_DAYS,
    key_size: int = DEFAULT_KEY_SIZE,
    now: datetime.datetime | None = None,
) -> SealingKey:
    """A fresh key pair, not stored anywhere yet."""
    private_pem, certificate_pem = generate_key_pair(
        common_name, validity_days, key_size=key_size, now=now
    )
    return _sealing_key("", "", private_pem, certificate_pem, "new key")


@dataclass(frozen=True)
class Rotation:
    created: SealingKey | None  # None: the newest key was recent enough
    before: tuple[SealingKey, ...]  # the keys there were, newest first; they stay


@dataclass(frozen=True)
class Restored:
    created: tuple[str, ...]
    already_present: tuple[str, ...]


@dataclass(frozen=True)
class KeyStore:
    """The key Secrets of one controller namespace."""

    api: SecretApi
    namespace: str = DEFAULT_NAMESPACE

    def read(self) -> tuple[SealingKey, ...]:
        """Every key of the namespace, newest first."""
        listing = self.api.list("v1", "Secret", self.namespace, label_selector=KEY_SELECTOR)
        return newest_first(
            [
                parse_key_secret(secret, f"Secret/{self.namespace}/{secret['metadata']['name']}")
                for secret in listing.items
                # A Secret that only carries the label is not a key; the controller skips it too.
                if secret.get("type") == TLS_TYPE
            ]
        )

    def newest(self) -> SealingKey:
        keys = self.read()
        if not keys:
            raise OperationFailed(
                f"namespace {self.namespace} holds no sealing key (no Secret labelled "
                f"{KEY_SELECTOR})",
                hint="create one with `hakobu secret keys create`, pass --namespace for the "
                "controller's namespace, or give the certificate with --cert",
            )
        return keys[0]

    def add(self, key: SealingKey, *, prefix: str = DEFAULT_PREFIX) -> SealingKey:
        created = self.api.create(key_secret(key, self.namespace, name=None, prefix=prefix))
        return parse_key_secret(created, f"Secret/{self.namespace}")

    def rotate(
        self,
        make_key: Callable[[], SealingKey],
        period: datetime.timedelta,
        now: datetime.datetime,
        *,
        force: bool = False,
        prefix: str = DEFAULT_PREFIX,
    ) -> Rotation:
        """Add a key made by ``make_key`` when the newest is ``period`` old (or ``force``),
        as the controller renews its own; nothing is deleted."""
        keys = self.read()
        if not force and not rotation_due(keys, period, now):
            return Rotation(None, keys)
        return Rotation(self.add(make_key(), prefix=prefix), keys)

    def restore(self, backup: Sequence[SealingKey], *, prefix: str = DEFAULT_PREFIX) -> Restored:
        present = self.read()
        fingerprints = {k.fingerprint for k in present}
        names = {k.name for k in present}
        created: list[str] = []
        already: list[str] = []
        for key in reversed(newest_first(backup)):
            if key.fingerprint in fingerprints:
                already.append(key.name)
                continue
            # Keep the backed-up name unless another key took it meanwhile.
            name = key.name if key.name and key.name not in names else None
            result = self.api.create(key_secret(key, self.namespace, name=name, prefix=prefix))
            created.append(str(result["metadata"]["name"]))
            fingerprints.add(key.fingerprint)
        return Restored(tuple(created), tuple(already))
