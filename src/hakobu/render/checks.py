"""Rules every rendered environment must satisfy before anything is written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hakobu.errors import InvalidInput
from hakobu.model.identity import identity_problem
from hakobu.model.kinds import is_cluster_scoped
from hakobu.model.objects import Object, ObjectId, object_id
from hakobu.model.project import Environment


def default_namespace(objects: Sequence[Object], namespace: str) -> list[Object]:
    """Give namespaced objects without a namespace the environment's, as ``kubectl -n``
    would at apply time; doing it here makes the committed files say where things go."""
    result = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        ident = object_id(obj)
        if not meta.get("namespace") and not is_cluster_scoped(ident.group, ident.kind):
            result.append({**obj, "metadata": {**meta, "namespace": namespace}})
        else:
            result.append(obj)
    return result


def check_objects(app: str, objects: Sequence[Object]) -> None:
    """Every object has an identity the API server accepts, and so a safe file name.

    The message names the object by its position and whatever identity it has, never by
    its content: a Secret's data must not reach a terminal or a CI log.
    """
    for index, obj in enumerate(objects):
        problem = identity_problem(obj)
        if problem is not None:
            field, message = problem
            raise InvalidInput(
                f"app {app}: {_describe(index, obj)}: {field} {message}",
                hint="fix the object in the app's source; its kind, namespace and name "
                "also name the file it is rendered to",
            )


def _describe(index: int, obj: Object) -> str:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    kind = obj.get("kind")
    parts = [f"object {index + 1}"]
    if isinstance(kind, str) and kind.isidentifier() and len(kind) <= 63:
        parts.append(f"kind {kind}")
    if isinstance(name, str) and name.isprintable() and len(name) <= 80:
        parts.append(f"name {name!r}")
    return ", ".join(parts)


def check_unique(ids_by_app: Mapping[str, Sequence[ObjectId]]) -> None:
    """Two objects with one identity in an environment would overwrite each other."""
    seen: dict[ObjectId, str] = {}
    for app in sorted(ids_by_app):
        for ident in ids_by_app[app]:
            if ident in seen:
                where = (
                    f"twice in app {app}"
                    if seen[ident] == app
                    else f"in apps {seen[ident]} and {app}"
                )
                raise InvalidInput(
                    f"{ident} is defined {where}",
                    hint="rename one of them, or remove the duplicate",
                )
            seen[ident] = app


def check_no_plaintext_secrets(env: Environment, by_app: Mapping[str, Sequence[Object]]) -> None:
    if env.allow_plaintext_secrets:
        return
    for app in sorted(by_app):
        for obj in by_app[app]:
            ident = object_id(obj)
            if (
                ident.group == ""
                and ident.kind == "Secret"
                and (obj.get("data") or obj.get("stringData"))
            ):
                raise InvalidInput(
                    f"app {app}: {ident} would put plaintext secret data into "
                    f"generated/{env.name}/, which is committed to git",
                    hint="seal it (`hakobu secret seal`) and commit the SealedSecret, or set "
                    f"environments.{env.name}.allowPlaintextSecrets: true in hakobu.yaml",
                )
