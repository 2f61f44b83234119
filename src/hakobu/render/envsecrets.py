"""SealedSecrets of one environment: ``<secrets>/<env>/<app>/*.yaml``.

A SealedSecret is sealed for one namespace (the strict scope, kubeseal's default, binds it to
``namespace/name``), so one in an app that several environments share cannot be right in
all of them: production would create evaluation's ciphertext in its own namespace, where no
controller can open it. Each environment's SealedSecrets therefore have a place of their
own, added to that environment's render of the app, and every SealedSecret an environment
renders must be sealed for that environment's namespace (or be cluster-wide).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.model.project import Environment, Project
from hakobu.model.source import load_documents
from hakobu.render.inputs import Inputs

API_VERSION = "bitnami.com/v1alpha1"
KIND = "SealedSecret"
# The controller reads the scope from the SealedSecret's own annotations.
_CLUSTER_WIDE = "sealedsecrets.bitnami.com/cluster-wide"
_SUFFIXES = (".yaml", ".yml")


def environment_secrets(
    project: Project, env: Environment, app: str, inputs: Inputs
) -> list[Object]:
    """The SealedSecrets under ``<secrets>/<env>/<app>/``, each checked where it is written."""
    inputs = inputs.within(project.root)
    # Most projects seal nothing for most environments: one absence then stands for every
    # app's, not thousands (a fleet's instances each read their own directory).
    if inputs.absent(project.secrets_dir / env.name):
        return []
    directory = project.secrets_dir / env.name / app
    if not inputs.is_dir(directory):
        return []
    objects: list[Object] = []
    for name in inputs.list_dir(directory):
        path = directory / name
        if not name.endswith(_SUFFIXES) or not inputs.is_file(path):
            raise InvalidInput(
                f"{path}: only YAML files of SealedSecrets belong in {_shown(project, directory)}",
                hint="move it elsewhere; seal secrets with `hakobu secret seal`",
            )
        for document in load_documents(path, inputs.read_text(path)):
            data = document.data
            if not isinstance(data, dict) or (data.get("apiVersion"), data.get("kind")) != (
                API_VERSION,
                KIND,
            ):
                raise document.error(
                    (), f"expected a SealedSecret ({API_VERSION}), as this directory holds"
                )
            meta = data.get("metadata")
            namespace = meta.get("namespace") if isinstance(meta, dict) else None
            if namespace is not None and namespace != env.namespace and not _cluster_wide(data):
                raise document.error(
                    ("metadata", "namespace"),
                    f"sealed for namespace {namespace!r}, but environment {env.name} deploys "
                    f"to {env.namespace!r}",
                    hint=f"seal it for {env.namespace} "
                    f"(`hakobu secret seal --namespace {env.namespace} ...`)",
                )
            objects.append(data)
    return objects


def check_unknown(project: Project, env: Environment, apps: Sequence[str], inputs: Inputs) -> None:
    """A directory under ``<secrets>/<env>/`` that names no app would be silently ignored."""
    inputs = inputs.within(project.root)
    directory = project.secrets_dir / env.name
    if not inputs.is_dir(directory):
        return
    for name in inputs.list_dir(directory):
        if name not in apps:
            raise InvalidInput(
                f"{_shown(project, directory / name)}: there is no app {name!r}",
                hint="the directory of an app's SealedSecrets is named as the app; "
                f"the project's apps are: {', '.join(apps) or 'none'}",
            )


def check_sealed_namespaces(app: str, env: Environment, objects: Sequence[Object]) -> None:
    """Every SealedSecret ``env`` renders is sealed for ``env``'s namespace."""
    for obj in objects:
        if (obj.get("apiVersion"), obj.get("kind")) != (API_VERSION, KIND):
            continue
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace")
        if namespace != env.namespace and not _cluster_wide(obj):
            raise InvalidInput(
                f"app {app}: SealedSecret {meta.get('name')!r} is sealed for namespace "
                f"{namespace!r}, but environment {env.name} deploys to {env.namespace!r}",
                hint=f"an app shared by several environments keeps each environment's "
                f"SealedSecrets apart: move it to secrets/{env.name}/{app}/, sealed for "
                f"{env.namespace}",
            )


def _cluster_wide(obj: Object) -> bool:
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    return isinstance(annotations, dict) and annotations.get(_CLUSTER_WIDE) == "true"


def _shown(project: Project, path: Path) -> str:
    return path.relative_to(project.root).as_posix()
