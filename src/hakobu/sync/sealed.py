"""SealedSecrets opened by hakobu itself, for environments with ``sealedSecrets: hakobu``.

Such an environment needs no Sealed Secrets controller (nor its CRD): each SealedSecret of
git is opened with the private keys of the cluster's key store and the Secret the controller
would have made is applied in its place — labelled, inventoried and pruned as any object
hakobu applies. hakobu's own annotations on the SealedSecret (wave, hook, prune) go with
it, so the Secret keeps the SealedSecret's place in the sync.

The controller's ownership rule is kept: an existing Secret of that name that is not this
app's is left alone unless it is annotated ``sealedsecrets.bitnami.com/managed: "true"``,
in which case hakobu takes its fields over. An app with a SealedSecret that cannot be
opened, or whose Secret is someone else's, is *blocked*: nothing of it is applied, and the
Secret it stands for is kept out of pruning (a lost key must not delete what it opened).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from hakobu.errors import HakobuError, OperationFailed
from hakobu.model.objects import Object, ObjectId, object_ref
from hakobu.secrets.keystore import KEY_SELECTOR, KeyStore, SecretApi
from hakobu.secrets.scope import ANNOTATION_PREFIX
from hakobu.secrets.sealedfor import sealed_for
from hakobu.secrets.sealedsecret import API_VERSION, KIND, unseal
from hakobu.sync.manifests import Manifest
from hakobu.sync.ownership import Owner

HAKOBU = "hakobu"
MANAGED_ANNOTATION = ANNOTATION_PREFIX + "managed"
_HAKOBU_ANNOTATIONS = "hakobu.dev/"


@dataclass(frozen=True)
class Blocked:
    """Why an app is not synced: ``id`` is the object that ``ref`` (in git) stands for (for
    a SealedSecret, the Secret it opens to)."""

    ref: str
    id: ObjectId
    message: str


@dataclass(frozen=True)
class SealingKeys:
    namespace: str
    private_keys: tuple[RSAPrivateKey, ...]
    # Why there are no keys to try, when there are none.
    problem: str | None = None


@dataclass(frozen=True)
class Opened:
    """An app's manifests with every SealedSecret replaced by the Secret it opens to."""

    manifests: tuple[Manifest, ...]
    # The Secrets that stand for SealedSecrets: their live copies must be this app's.
    secrets: frozenset[ObjectId]
    blocked: tuple[Blocked, ...]


def is_sealed(obj: Object) -> bool:
    return obj.get("kind") == KIND and obj.get("apiVersion") == API_VERSION


def opens_sealed(mode: str) -> bool:
    """Whether an environment's ``sealedSecrets`` mode has hakobu open them."""
    return mode == HAKOBU


def read_keys(api: SecretApi, namespace: str) -> SealingKeys:
    try:
        keys = KeyStore(api, namespace).read()
    except HakobuError as e:
        return SealingKeys(
            namespace, (), f"cannot read the sealing keys in namespace {namespace}: {e.message}"
        )
    if not keys:
        return SealingKeys(
            namespace,
            (),
            f"no key in namespace {namespace} (no Secret labelled {KEY_SELECTOR}); set "
            "keysNamespace for the environment in hakobu.yaml (or pass --keys-namespace) to "
            "the namespace that holds them, or create one with `hakobu secret keys create`",
        )
    return SealingKeys(namespace, tuple(k.private_key for k in keys))


def open_all(manifests: Sequence[Manifest], keys: SealingKeys) -> Opened:
    """Pure: the keys were read already."""
    others = {m.id: m.source for m in manifests if not is_sealed(m.obj)}
    result: list[Manifest] = []
    secrets: set[ObjectId] = set()
    blocked: list[Blocked] = []
    for manifest in manifests:
        if not is_sealed(manifest.obj):
            result.append(manifest)
            continue
        ref = object_ref(manifest.obj)
        try:
            secret = _opened(manifest.obj, keys)
        except HakobuError as e:
            blocked.append(
                Blocked(ref, _secret_id(manifest.obj), f"{manifest.source}: {e.message}")
            )
            continue
        opened = Manifest(secret, manifest.source)
        if opened.id in others or opened.id in secrets:
            where = others.get(opened.id, "another SealedSecret")
            blocked.append(
                Blocked(
                    ref,
                    opened.id,
                    f"{manifest.source}: {ref} opens to {object_ref(secret)}, which {where} "
                    "also defines",
                )
            )
            continue
        secrets.add(opened.id)
        result.append(opened)
    return Opened(tuple(result), frozenset(secrets), tuple(blocked))


def _opened(sealed: Object, keys: SealingKeys) -> Object:
    if keys.problem is not None:
        raise OperationFailed(f"cannot open {object_ref(sealed)}: {keys.problem}")
    try:
        secret = unseal(sealed, keys.private_keys)
    except HakobuError as e:
        message = (
            f"{e.message} (tried the {len(keys.private_keys)} sealing keys of namespace "
            f"{keys.namespace})"
        )
        found = sealed_for(sealed, keys.private_keys)
        if found is not None:
            message += (
                f"; its values open as sealed for {found}: give it the name, namespace and "
                "scope it was sealed with, or seal it again"
            )
        raise OperationFailed(message) from None
    steering = {
        key: value
        for key, value in ((sealed.get("metadata") or {}).get("annotations") or {}).items()
        if key.startswith(_HAKOBU_ANNOTATIONS)
    }
    if steering:
        metadata = secret["metadata"]
        metadata["annotations"] = {**(metadata.get("annotations") or {}), **steering}
    return secret


def _secret_id(sealed: Object) -> ObjectId:
    metadata = sealed.get("metadata") or {}
    return ObjectId("", "Secret", str(metadata.get("namespace") or ""), str(metadata.get("name")))


def foreign(
    secrets: Iterable[ObjectId], live: Mapping[ObjectId, Object | None], owner: Owner
) -> tuple[list[Blocked], frozenset[ObjectId]]:
    """The opened Secrets whose live copies are someone else's, and those hakobu may take
    over (annotated as managed) and so applies with force."""
    blocked: list[Blocked] = []
    taken_over: set[ObjectId] = set()
    for oid in sorted(secrets):
        current = live.get(oid)
        if current is None or owner.owns(current):
            continue
        annotations = (current.get("metadata") or {}).get("annotations") or {}
        if annotations.get(MANAGED_ANNOTATION) == "true":
            taken_over.add(oid)
            continue
        ref = object_ref(current)
        blocked.append(
            Blocked(
                ref,
                oid,
                f"{ref} already exists and is not managed by app {owner.app!r}: it is left "
                f'alone; annotate it {MANAGED_ANNOTATION}: "true" to let hakobu take it over',
            )
        )
    return blocked, frozenset(taken_over)
