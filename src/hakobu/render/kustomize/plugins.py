"""``transformers:``, ``generators:`` and ``validators:`` entries that configure kustomize's
built-in plugins.

An entry is an inline document, or a file or directory whose build gives the plugin
configurations. A configuration with ``apiVersion: builtin`` names one of kustomize's own
transformers or generators, and runs the same code as the kustomization field it stands
behind, with the field specs it gives (a built-in plugin gets no default field specs). A
validator is a built-in transformer that must change nothing but the ``validated-by``
label.

Anything else is an exec, Go or container plugin (or a KRM function): foreign code, which
hakobu does not run.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hakobu.errors import HakobuError, InvalidInput
from hakobu.model.files import decode
from hakobu.model.objects import Object
from hakobu.model.source import FieldPath
from hakobu.render.kustomize import patches, transformers
from hakobu.render.kustomize.fieldspecs import FieldSpec, parse_fieldspecs
from hakobu.render.kustomize.images import ImageRule, set_images
from hakobu.render.kustomize.kustomization import scalar_text
from hakobu.render.kustomize.loader import Loader, load_value
from hakobu.render.kustomize.replacements import apply_replacements
from hakobu.render.kustomize.resource import cur_id, name_of, namespace_of

BUILTIN_API = "builtin"
_FUNCTION_ANNOTATION = "config.kubernetes.io/function"
Specs = tuple[FieldSpec, ...]

TRANSFORMER_KINDS = (
    "PrefixSuffixTransformer",
    "PrefixTransformer",
    "SuffixTransformer",
    "LabelTransformer",
    "AnnotationsTransformer",
    "NamespaceTransformer",
    "ImageTagTransformer",
    "ReplicaCountTransformer",
    "PatchTransformer",
    "PatchJson6902Transformer",
    "PatchStrategicMergeTransformer",
    "ReplacementTransformer",
    "HashTransformer",
)
GENERATOR_KINDS = (
    "ConfigMapGenerator",
    "SecretGenerator",
    "IAMPolicyGenerator",
    "HelmChartInflationGenerator",
)


def describe(config: Object) -> str:
    return f"{config.get('apiVersion')}/{config.get('kind')} {name_of(config)!r}"


def check(config: Object, kinds: Sequence[str], field: str, where: str) -> str:
    """The built-in kind ``config`` names, or an error saying why it cannot run here."""
    annotations = (config.get("metadata") or {}).get("annotations") or {}
    kind = str(config.get("kind") or "")
    if config.get("apiVersion") != BUILTIN_API or _FUNCTION_ANNOTATION in annotations:
        raise InvalidInput(
            f"{where}: {field}: {describe(config)} is an exec, Go or container plugin "
            "(or a KRM function); hakobu build runs no foreign code",
            hint=f"render this directory with kustomize itself, or use a built-in kind "
            f"(apiVersion: builtin; one of {', '.join(kinds)})",
        )
    if kind not in kinds:
        raise InvalidInput(
            f"{where}: {field}: built-in kind {kind!r} is not supported by hakobu build there",
            hint=_HINTS.get(kind, f"use one of {', '.join(kinds)}"),
        )
    return kind


_HINTS = {
    "SortOrderTransformer": "kustomize cannot load it as a plugin either; use sortOptions",
    "ValueAddTransformer": "this alpha transformer is not carried out; render this directory "
    "with kustomize itself",
}


def transform(
    resources: list[Object], config: Object, kind: str, where: str, loader: Loader
) -> list[Object]:
    """``resources`` after one built-in transformer configuration ran over them."""
    label = f"{where}: {describe(config)}"
    entries = _Entries(label, config)
    if kind == "PatchTransformer":
        patches.apply_patch_entries(resources, entries, loader)
    elif kind == "PatchJson6902Transformer":
        patches.apply_json6902_entries(resources, entries, loader)
    elif kind == "PatchStrategicMergeTransformer":
        patches.apply_strategic_merge_entries(resources, entries, loader)
    elif kind == "HashTransformer":
        transformers.add_hash_suffixes(resources)
    elif kind == "ReplacementTransformer":
        found = replacements(entries.items("replacements"), entries, loader)
        return apply_replacements(resources, found, where=f"{label}: replacements")
    else:
        specs = parse_fieldspecs(config.get("fieldSpecs"), f"{label}: fieldSpecs")
        _FIELD_TRANSFORMERS[kind](resources, config, label, specs)
    return resources


FieldTransformer = Callable[[list[Object], Object, str, tuple[FieldSpec, ...]], None]


def _prefix(resources: list[Object], config: Object, label: str, specs: Specs) -> None:
    transformers.add_name_prefix(resources, _text(config, "prefix"), specs)


def _suffix(resources: list[Object], config: Object, label: str, specs: Specs) -> None:
    transformers.add_name_suffix(resources, _text(config, "suffix"), specs)


def _prefix_suffix(resources: list[Object], config: Object, label: str, specs: Specs) -> None:
    _prefix(resources, config, label, specs)
    _suffix(resources, config, label, specs)


def _labels(resources: list[Object], config: Object, label: str, specs: Specs) -> None:
    transformers.add_labels(resources, _strings(config, "labels", label), specs)


def _annotations(resources: list[Object], config: Object, label: str, specs: Specs) -> None:
    transformers.add_annotations(resources, _strings(config, "annotations", label), specs)


def _namespace(resources: list[Object], config: Object, label: str, specs: Specs) -> None:
    subjects = config.get("setRoleBindingSubjects") or transformers.SUBJECT_MODES[0]
    if subjects not in transformers.SUBJECT_MODES:
        raise InvalidInput(
            f"{label}: setRoleBindingSubjects: invalid value {subjects!r}",
            hint=f"use one of {', '.join(transformers.SUBJECT_MODES)}",
        )
    transformers.set_namespace(
        resources,
        namespace_of(config),
        specs,
        unset_only=bool(config.get("unsetOnly")),
        subjects=str(subjects),
    )


def _image(resources: list[Object], config: Object, label: str, specs: Specs) -> None:
    image = config.get("imageTag") or {}
    if not isinstance(image, dict):
        raise InvalidInput(f"{label}: imageTag: expected a mapping")
    values = {key: scalar_text(image.get(key)) for key in _IMAGE_FIELDS}
    rule = ImageRule(
        values["name"], values["newName"], values["newTag"], values["digest"], values["tagSuffix"]
    )
    set_images(resources, [rule], specs)


def _replicas(resources: list[Object], config: Object, label: str, specs: Specs) -> None:
    replica = config.get("replica") or {}
    count = replica.get("count", 0) if isinstance(replica, dict) else None
    if not isinstance(count, int) or isinstance(count, bool):
        raise InvalidInput(f"{label}: replica: expected a name and a whole-number count")
    try:
        transformers.Replicas(resources, specs).set(scalar_text(replica.get("name")), count)
    except HakobuError as e:
        raise InvalidInput(f"{label}: {e.message}", hint=e.hint) from None


_FIELD_TRANSFORMERS: dict[str, FieldTransformer] = {
    "PrefixSuffixTransformer": _prefix_suffix,
    "PrefixTransformer": _prefix,
    "SuffixTransformer": _suffix,
    "LabelTransformer": _labels,
    "AnnotationsTransformer": _annotations,
    "NamespaceTransformer": _namespace,
    "ImageTagTransformer": _image,
    "ReplicaCountTransformer": _replicas,
}


@dataclass(frozen=True)
class _Entries:
    """A built-in plugin's configuration seen as the kustomization fields it stands for."""

    label: str
    config: Object

    def items(self, key: str) -> list[tuple[FieldPath, Any]]:
        config = self.config
        if key == "patches":
            fields = ("path", "patch", "target", "options")
            return [((), {k: config[k] for k in fields if config.get(k) is not None})]
        if key == "patchesJson6902":
            entry = {"target": config.get("target"), "path": config.get("path")}
            if config.get("jsonOp") is not None:
                entry["patch"] = config["jsonOp"]
            return [((), {k: v for k, v in entry.items() if v is not None})]
        if key == "patchesStrategicMerge":
            paths = config.get("paths") or []
            if not isinstance(paths, list):
                raise self.error(("paths",), "expected a list of file paths")
            found: list[tuple[FieldPath, Any]] = [(("paths", i), p) for i, p in enumerate(paths)]
            if config.get("patches"):
                found.append((("patches",), config["patches"]))
            return found
        value = config.get(key) or []
        if not isinstance(value, list):
            raise self.error((key,), "expected a list")
        return [((key, index), item) for index, item in enumerate(value)]

    def error(self, path: FieldPath, message: str, hint: str | None = None) -> InvalidInput:
        field = ".".join(str(part) for part in path)
        return InvalidInput(f"{self.label}{': ' + field if field else ''}: {message}", hint=hint)


def replacements(
    entries: list[tuple[FieldPath, Any]], source: patches.PatchEntries, loader: Loader
) -> list[Any]:
    """Replacements as written, and those read from the files a ``path:`` entry names.

    A file holds one replacement or a list of them, as in kustomize.
    """
    found: list[Any] = []
    for path, entry in entries:
        if not isinstance(entry, dict) or "path" not in entry:
            found.append(entry)
            continue
        if set(entry) != {"path"}:
            raise source.error(path, "cannot specify both path and inline replacement")
        file = entry["path"]
        if not isinstance(file, str) or not file:
            raise source.error((*path, "path"), "expected a file path")
        try:
            resolved = loader.resolve_file(file)
            data = loader.read_bytes(Path(file))
        except FileNotFoundError:
            raise source.error(
                (*path, "path"), f"replacement file '{file}' does not exist"
            ) from None
        except HakobuError as e:
            raise source.error((*path, "path"), e.message, e.hint) from None
        value = load_value(resolved, decode(resolved, data))
        if isinstance(value, list):
            found.extend(value)
        elif isinstance(value, dict):
            found.append(value)
        else:
            raise source.error(
                (*path, "path"),
                f"replacement file '{file}' holds neither a replacement nor a list of them",
            )
    return found


_IMAGE_FIELDS = ("name", "newName", "newTag", "digest", "tagSuffix")


def _text(config: Object, key: str) -> str:
    return scalar_text(config.get(key))


def _strings(config: Object, key: str, label: str) -> dict[str, str]:
    value = config.get(key) or {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{label}: {key}: expected a mapping of strings")
    return {str(k): scalar_text(v) for k, v in value.items()}


def iam_service_account(config: Object, where: str) -> Object:
    """What an IAMPolicyGenerator makes: a ServiceAccount bound to a GKE service account."""
    label = f"{where}: {describe(config)}"
    if config.get("cloud") != "gke":
        raise InvalidInput(
            f"{label}: cloud provider {config.get('cloud')!r} not supported",
            hint="IAMPolicyGenerator knows only cloud: gke",
        )
    service = config.get("kubernetesService") or {}
    account = config.get("serviceAccount") or {}
    if not isinstance(service, dict) or not isinstance(account, dict):
        raise InvalidInput(f"{label}: kubernetesService and serviceAccount must be mappings")
    email = (
        f"{scalar_text(account.get('name'))}@{scalar_text(account.get('projectId'))}"
        ".iam.gserviceaccount.com"
    )
    metadata: dict[str, Any] = {
        "annotations": {"iam.gke.io/gcp-service-account": email},
        "name": scalar_text(service.get("name")),
    }
    if service.get("namespace"):
        metadata["namespace"] = scalar_text(service["namespace"])
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata}


VALIDATED_BY = "validated-by"


def first_change(before: Sequence[Object], after: Sequence[Object]) -> str | None:
    """The first object a validator changed (besides its validated-by label), if any."""
    if len(before) != len(after):
        return f"the number of resources ({len(before)} to {len(after)})"
    for old, new in zip(before, after, strict=True):
        compared = new
        labels = (new.get("metadata") or {}).get("labels")
        if isinstance(labels, dict) and VALIDATED_BY in labels:
            compared = copy.deepcopy(new)
            del compared["metadata"]["labels"][VALIDATED_BY]
            if not compared["metadata"]["labels"]:
                del compared["metadata"]["labels"]
        if old != compared:
            return cur_id(old).describe()
    return None


def generator_entry(config: Object) -> dict[str, Any]:
    """A ConfigMapGenerator or SecretGenerator configuration as a generator-field entry."""
    entry = {key: value for key, value in config.items() if key not in ("apiVersion", "kind")}
    metadata = entry.pop("metadata", None) or {}
    entry["name"] = metadata.get("name")
    if metadata.get("namespace"):
        entry["namespace"] = metadata["namespace"]
    return entry
