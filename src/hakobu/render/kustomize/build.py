"""The build pipeline, in kustomize's order.

For each kustomization, recursively (``accumulate``):

1. resources: files, and directories (bases) built on their own then appended; two
   resources with the same apiVersion, kind, name and namespace are an error;
2. its transformer configuration: what its bases declared, kustomize's defaults, its
   ``configurations:`` and ``crds:``;
3. ``configMapGenerator`` then ``secretGenerator``, then ``generators:`` entries (create,
   or merge into / replace what a base made);
4. components, applied onto what has been accumulated so far;
5. transformers: ``patchesStrategicMerge``, ``patches``, ``namespace``, ``namePrefix``,
   ``nameSuffix``, ``labels`` then ``commonLabels``, ``commonAnnotations``,
   ``patchesJson6902``, ``replicas``, ``images``, ``replacements``, then ``transformers:``
   entries; then ``validators:`` entries;
6. its ``vars`` are collected.

Then, once for the top-level kustomization: content-hash suffixes on generated names,
name-reference fix-up, vars, objects marked ``config.kubernetes.io/local-config`` dropped,
the output order (legacy kind order unless ``sortOptions`` says ``fifo``), the build's
internal annotations removed, and ``buildMetadata`` applied. The whole build sees one
OpenAPI schema for strategic merges (``openapi``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hakobu.errors import HakobuError, InvalidInput
from hakobu.model.files import decode
from hakobu.model.objects import Object
from hakobu.model.source import FieldPath
from hakobu.render.helm import Helm
from hakobu.render.inputs import REAL_FILES, FileAccess
from hakobu.render.kustomize import (
    buildmetadata,
    crds,
    generators,
    helmcharts,
    kustomization,
    openapi,
    patches,
    plugins,
    transformers,
)
from hakobu.render.kustomize.fieldspecs import FieldSpec, merge_fieldspecs, parse_fieldspecs
from hakobu.render.kustomize.images import ImageRule, set_images
from hakobu.render.kustomize.kustomization import Kustomization, scalar_text, string_map
from hakobu.render.kustomize.loader import ROOT_ONLY, Loader, is_remote, load_objects, load_value
from hakobu.render.kustomize.namereference import fix_name_references
from hakobu.render.kustomize.ordering import ORDER_FIRST, ORDER_LAST, legacy_order
from hakobu.render.kustomize.remote import Remotes
from hakobu.render.kustomize.replacements import apply_replacements
from hakobu.render.kustomize.resource import (
    LOCAL_CONFIG,
    all_ids,
    annotations_of,
    behavior,
    cur_id,
    remove_build_annotations,
)
from hakobu.render.kustomize.transformerconfig import (
    EMPTY,
    TransformerConfig,
    default_config,
    merge_all,
    parse_config,
)
from hakobu.render.kustomize.vars import resolve_vars, substitute_vars
from hakobu.render.patch.schema import schema_scope


@dataclass
class _Accumulator:
    """What a kustomization has built so far: resources in order, and its vars."""

    resources: list[Object] = field(default_factory=list)
    var_specs: list[tuple[str, Any]] = field(default_factory=list)
    config: TransformerConfig = EMPTY

    def ids(self) -> set[Any]:
        return {cur_id(existing).key for existing in self.resources}

    def append_all(self, objects: list[Object], where: str, known: set[Any]) -> None:
        """Append ``objects``; ``known`` holds the ids of the resources, and is kept so."""
        for obj in objects:
            key = cur_id(obj).key
            if key in known:
                raise InvalidInput(
                    f"{where}: {cur_id(obj).describe()} is already defined "
                    "(two resources with the same apiVersion, kind, namespace and name)",
                    hint="remove one of them, or rename one with a patch or a name prefix",
                )
            known.add(key)
            self.resources.append(obj)


def build(
    directory: Path,
    *,
    load_restrictor: str = ROOT_ONLY,
    files: FileAccess = REAL_FILES,
    helm: Helm | None = None,
    remotes: Remotes | None = None,
) -> list[Object]:
    """The objects ``kustomize build`` would print for ``directory``, in its order.

    Every file and directory is read through ``files``, so a render can record exactly
    what a build depended on. Charts (``helmCharts:``) are inflated by ``helm``, as
    ``kustomize build --enable-helm`` does; without it they are refused. Bases and
    components in git repositories are fetched through ``remotes``; without it they are
    refused.
    """
    loader = Loader.top(directory, load_restrictor, files, helm, remotes)
    # A Component built on its own is built like a kustomization, as kustomize does: its
    # transformers act on the resources it lists.
    top = kustomization.load(loader.root, files)
    with schema_scope() as use_schema:
        schema_choice = openapi.OpenApi(use_schema)
        token = openapi.CURRENT.set(schema_choice)
        try:
            schema_choice.configure(top, loader, top=True)
            return _build(top, loader)
        finally:
            openapi.CURRENT.reset(token)


def _build(top: Kustomization, loader: Loader) -> list[Object]:
    # Origins are tracked (as paths from this directory) only when buildMetadata asks.
    accumulated = _accumulate(top, loader, _Accumulator(), "" if top.build_metadata else None)
    resources = accumulated.resources
    transformers.add_hash_suffixes(resources)
    config = accumulated.config
    fix_name_references(resources, config.name_references)
    resources = _resolve_vars(resources, accumulated.var_specs, config)
    resources = [
        obj for obj in resources if annotations_of(obj).get(LOCAL_CONFIG, "false") == "false"
    ]
    if top.sort_order != "fifo":
        resources = legacy_order(
            resources,
            top.sort_first if top.sort_first is not None else ORDER_FIRST,
            top.sort_last if top.sort_last is not None else ORDER_LAST,
        )
    for obj in resources:
        remove_build_annotations(obj)
    buildmetadata.finish(resources, top.build_metadata)
    return resources


def _accumulate(
    k: Kustomization, loader: Loader, acc: _Accumulator, origin: str | None
) -> _Accumulator:
    # Nothing renames the accumulated resources while resources are added, so their ids
    # are collected once rather than for every file.
    known = acc.ids()
    for index, entry in enumerate(k.resources):
        path = _entry_path(k, index)
        _accumulate_resource(k, loader, acc, entry, path, known=known, origin=origin)
    acc.config = merge_all(acc.config, [default_config(), *_configurations(k, loader)], str(k.file))
    _run_generators(k, loader, acc, origin)
    for index, entry in enumerate(k.components):
        where: FieldPath = ("components", index)
        child = _child(k, loader, entry, where)
        component = _load_child(k, child, where)
        if not component.is_component:
            raise k.error(
                where,
                f"'{entry}' is a Kustomization, not a Component",
                hint="list it under resources, or make it kind: Component",
            )
        acc = _accumulate(component, child, acc, _joined(origin, entry))
    acc.resources = _transform(k, loader, acc.resources, acc.config, origin)
    acc.resources = _validate(k, loader, acc.resources)
    acc.var_specs.extend((str(k.file), spec) for _, spec in k.items("vars"))
    return acc


def _entry_path(k: Kustomization, index: int) -> FieldPath:
    """Where resources[index] is written: ``resources`` first, then the deprecated ``bases``."""
    own = k.get("resources") or []
    if index < len(own):
        return ("resources", index)
    return ("bases", index - len(own))


def _accumulate_resource(
    k: Kustomization,
    loader: Loader,
    acc: _Accumulator,
    entry: str,
    where: FieldPath,
    *,
    known: set[Any],
    origin: str | None,
) -> None:
    # A remote entry is a base (a git repository): fetched when allowed, refused otherwise.
    if not is_remote(entry) and not loader.files.is_dir(loader.root / entry):
        try:
            file = loader.resolve_file(entry)
        except HakobuError as e:
            raise k.error(where, e.message, e.hint) from None
        if not loader.files.is_file(file):
            raise k.error(
                where,
                f"'{entry}' does not exist (relative to {loader.root})",
                hint="list files, or directories that hold a kustomization",
            )
        objects = load_objects(file, loader.files.read_bytes(file))
        if origin is not None:
            buildmetadata.set_origin(
                objects,
                buildmetadata.Origin(path=buildmetadata.join(origin, entry)),
                keep_existing=False,
            )
        acc.append_all(objects, str(file), known)
        return
    child = _child(k, loader, entry, where)
    base = _load_child(k, child, where)
    if base.is_component:
        raise k.error(where, f"'{entry}' is a Component; list it under components, not resources")
    built = _accumulate(base, child, _Accumulator(), _joined(origin, entry))
    acc.append_all(built.resources, f"{k.file}: {entry}", known)
    acc.var_specs.extend(built.var_specs)
    acc.config = merge_all(acc.config, [built.config], f"{k.file}: {entry}")


def _child(k: Kustomization, loader: Loader, entry: str, where: FieldPath) -> Loader:
    try:
        return loader.child(entry, k.namespace)
    except HakobuError as e:
        raise k.error(where, e.message, e.hint) from None


def _load_child(k: Kustomization, child: Loader, where: FieldPath) -> Kustomization:
    try:
        kustomization.find_file(child.root, child.files)
    except HakobuError as e:
        raise k.error(where, e.message, e.hint) from None
    loaded = kustomization.load(child.root, child.files)
    schema_choice = openapi.CURRENT.get()
    if schema_choice is not None:
        schema_choice.configure(loaded, child, top=False)
    return loaded


def _joined(origin: str | None, entry: str) -> str | None:
    return None if origin is None else buildmetadata.join(origin, entry)


def _run_generators(
    k: Kustomization, loader: Loader, acc: _Accumulator, origin: str | None
) -> None:
    made: list[tuple[Object, str]] = []
    for key, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
        entries = [entry for _, entry in k.items(key)]
        if entries:
            generated = generators.generate(
                entries,
                kind,
                loader.root,
                k.get("generatorOptions"),
                read=loader.read_bytes,
                document=k.document,
            )
            objects = [g.annotated() for g in generated]
            if origin is not None:
                buildmetadata.set_origin(
                    objects,
                    buildmetadata.builtin_origin(origin, k.file.name, f"{kind}Generator"),
                    keep_existing=True,
                )
            made.extend((obj, key) for obj in objects)
    charts = helmcharts.from_kustomization(k)
    for chart in helmcharts.namespaced(charts, k.namespace or loader.helm_namespace):
        objects = helmcharts.inflate(chart, loader)
        if origin is not None:
            buildmetadata.set_origin(
                objects,
                buildmetadata.builtin_origin(origin, k.file.name, helmcharts.GENERATOR),
                keep_existing=True,
            )
        made.extend((obj, str(chart.path[0])) for obj in objects)
    for plugin in _plugin_configs(k, loader, "generators", origin):
        config, where = plugin.config, plugin.where
        kind = plugins.check(config, plugins.GENERATOR_KINDS, "generators", where)
        if kind == "IAMPolicyGenerator":
            objects = [plugins.iam_service_account(config, where)]
        elif kind == helmcharts.GENERATOR:
            objects = helmcharts.inflate(helmcharts.from_plugin(config, where), loader)
        else:
            generated = generators.generate(
                [plugins.generator_entry(config)],
                kind.removesuffix("Generator"),
                loader.root,
                None,
                read=loader.read_bytes,
            )
            objects = [g.annotated() for g in generated]
        if plugin.origin is not None:
            buildmetadata.set_origin(objects, plugin.origin, keep_existing=True)
        made.extend((obj, "generators") for obj in objects)
    if made:
        _Absorber(k, acc).absorb_all(made)


@dataclass(frozen=True)
class _PluginConfig:
    config: Object
    where: str
    # What buildMetadata records for what the plugin makes or changes (when tracking).
    origin: buildmetadata.Origin | None


def _plugin_configs(
    k: Kustomization, loader: Loader, key: str, origin: str | None
) -> list[_PluginConfig]:
    """The plugin configurations a ``transformers:`` or ``generators:`` list holds, in order.

    An entry is an inline document, or a file or a directory (built as a kustomization)
    holding configurations. As in kustomize, every inline entry comes first, then the
    configurations read from paths.
    """
    found: list[_PluginConfig] = []
    from_paths: list[_PluginConfig] = []
    for path, entry in k.items(key):
        if not isinstance(entry, str) or not entry.strip():
            raise k.error(path, "expected an inline configuration or a path")
        where = f"{k.file}: {key}[{path[1]}]"
        inline = _inline_configs(entry)
        if inline is not None:
            configured_in = None if origin is None else buildmetadata.join(origin, k.file.name)
            found.extend(
                _PluginConfig(c, where, buildmetadata.plugin_origin(c, configured_in))
                for c in inline
            )
            continue
        held = _Accumulator()
        _accumulate_resource(k, loader, held, entry, path, known=set(), origin=origin)
        from_paths.extend(
            _PluginConfig(
                c,
                f"{where} ({entry})",
                None if origin is None else buildmetadata.plugin_origin(c, None),
            )
            for c in held.resources
        )
    return found + from_paths


def _inline_configs(text: str) -> list[Object] | None:
    """An entry's documents when it is written inline (kustomize tells them by a parse)."""
    if "\n" not in text.strip() and ":" not in text:
        return None
    try:
        objects = load_objects(Path("<inline configuration>"), text.encode())
    except HakobuError:
        return None
    return objects or None


class _Absorber:
    """Adds generated objects, or merges them into / lets them replace what they name.

    Every id a resource answers to (current and earlier ones) is indexed once, so each
    generated object finds its match without scanning all resources.
    """

    def __init__(self, k: Kustomization, acc: _Accumulator) -> None:
        self.k = k
        self.acc = acc
        self.positions: dict[Any, list[int]] = {}
        for position in range(len(acc.resources)):
            self._register(position)

    def _register(self, position: int) -> None:
        for key in dict.fromkeys(rid.key for rid in all_ids(self.acc.resources[position])):
            self.positions.setdefault(key, []).append(position)

    def absorb_all(self, made: list[tuple[Object, str]]) -> None:
        for obj, field_name in made:
            self._absorb(obj, field_name)

    def _absorb(self, obj: Object, field_name: str) -> None:
        k, resources = self.k, self.acc.resources
        wanted = cur_id(obj)
        how = behavior(obj)
        matches = [
            i
            for i in dict.fromkeys(self.positions.get(wanted.key, []))
            if any(rid.same_as(wanted) for rid in all_ids(resources[i]))
        ]
        if not matches:
            if how in ("merge", "replace"):
                raise k.error(
                    (field_name,),
                    f"{wanted.describe()} does not exist; cannot {how} it",
                    hint="behavior merge and replace need the object from a base; use create",
                )
            resources.append(obj)
            self._register(len(resources) - 1)
            return
        if len(matches) > 1:
            raise k.error(
                (field_name,), f"several objects could accept the merge of {wanted.describe()}"
            )
        if how not in ("merge", "replace"):
            raise k.error(
                (field_name,),
                f"{wanted.describe()} already exists; behavior must be merge or replace",
                hint="set behavior: merge (or replace) to change an object made by a base",
            )
        position = matches[0]
        mode: generators.Behavior = "merge" if how == "merge" else "replace"
        resources[position] = generators.merge_generated(resources[position], obj, mode)
        self._register(position)


def _configurations(k: Kustomization, loader: Loader) -> list[TransformerConfig]:
    """The transformer configurations the ``configurations:`` files, then the ``crds:``
    files, declare."""
    configs = []
    for path, entry in k.items("configurations"):
        file, text = _read_text(k, loader, path, entry, "configuration file")
        configs.append(parse_config(load_value(file, text), str(file)))
    for path, entry in k.items("crds"):
        file, text = _read_text(k, loader, path, entry, "CRD definitions file")
        definitions = crds.parse_definitions(
            text, lambda body, file=file: load_value(file, body), str(file)
        )
        configs.append(crds.config_from_definitions(definitions))
    return configs


def _read_text(
    k: Kustomization, loader: Loader, path: FieldPath, entry: Any, what: str
) -> tuple[Path, str]:
    if not isinstance(entry, str) or not entry:
        raise k.error(path, "expected a file path")
    try:
        file = loader.resolve_file(entry)
        data = loader.read_bytes(file)
    except FileNotFoundError:
        raise k.error(path, f"{what} '{entry}' does not exist") from None
    except HakobuError as e:
        raise k.error(path, e.message, e.hint) from None
    return file, decode(file, data)


def _transform(
    k: Kustomization,
    loader: Loader,
    resources: list[Object],
    config: TransformerConfig,
    origin: str | None,
) -> list[Object]:
    patches.apply_strategic_merge_entries(resources, k, loader)
    patches.apply_patch_entries(resources, k, loader)
    transformers.set_namespace(resources, k.namespace, config.section("namespace"))
    transformers.add_name_prefix(resources, k.name_prefix, config.section("namePrefix"))
    transformers.add_name_suffix(resources, k.name_suffix, config.section("nameSuffix"))
    for path, label in k.items("labels"):
        pairs, specs = _label_entry(k, path, label, config)
        transformers.add_labels(resources, pairs, specs)
    transformers.add_labels(resources, k.common_labels, config.section("commonLabels"))
    transformers.add_annotations(
        resources, k.common_annotations, config.section("commonAnnotations")
    )
    patches.apply_json6902_entries(resources, k, loader)
    replica_entries = k.items("replicas")
    if replica_entries:
        replicas = transformers.Replicas(resources, config.section("replicas"))
        for path, replica in replica_entries:
            name, count = _replica_entry(k, path, replica)
            try:
                replicas.set(name, count)
            except HakobuError as e:
                raise k.error(path, e.message, e.hint) from None
    rules = [
        _image_rule(k, path, image) for path, image in (*k.items("images"), *k.items("imageTags"))
    ]
    set_images(resources, rules, config.section("images"))
    replacements = plugins.replacements(k.items("replacements"), k, loader)
    if replacements:
        resources = apply_replacements(resources, replacements, where=f"{k.file}: replacements")
    if origin is not None:
        buildmetadata.record_transformations(resources, _transformers_run(k, origin))
    for plugin in _plugin_configs(k, loader, "transformers", origin):
        kind = plugins.check(plugin.config, plugins.TRANSFORMER_KINDS, "transformers", plugin.where)
        resources = plugins.transform(resources, plugin.config, kind, plugin.where, loader)
        if plugin.origin is not None:
            buildmetadata.record_transformations(resources, [plugin.origin])
    return resources


def _validate(k: Kustomization, loader: Loader, resources: list[Object]) -> list[Object]:
    """``validators:``: built-in transformers that must change nothing.

    As in kustomize, a validator may only add the ``validated-by`` label, which stays.
    """
    for plugin in _plugin_configs(k, loader, "validators", None):
        kind = plugins.check(plugin.config, plugins.TRANSFORMER_KINDS, "validators", plugin.where)
        before = copy.deepcopy(resources)
        resources = plugins.transform(resources, plugin.config, kind, plugin.where, loader)
        changed = plugins.first_change(before, resources)
        if changed is not None:
            raise InvalidInput(
                f"{plugin.where}: validators: {plugins.describe(plugin.config)} changed "
                f"{changed}; a validator must not modify the resources",
                hint="move it to transformers:, or make it change nothing but the "
                "validated-by label",
            )
    return resources


def _transformers_run(k: Kustomization, origin: str) -> list[buildmetadata.Origin]:
    """The built-in transformers kustomize configures for ``k``, one per instance, in order."""
    label_count = len(k.items("labels")) + 1 if k.items("labels") or k.common_labels else 0
    counts = (
        ("PatchStrategicMergeTransformer", min(len(k.items("patchesStrategicMerge")), 1)),
        ("PatchTransformer", len(k.items("patches"))),
        ("NamespaceTransformer", int(bool(k.namespace))),
        ("PrefixTransformer", int(bool(k.name_prefix))),
        ("SuffixTransformer", int(bool(k.name_suffix))),
        ("LabelTransformer", label_count),
        ("AnnotationsTransformer", int(bool(k.common_annotations))),
        ("PatchJson6902Transformer", len(k.items("patchesJson6902"))),
        ("ReplicaCountTransformer", len(k.items("replicas"))),
        ("ImageTagTransformer", len(k.items("images")) + len(k.items("imageTags"))),
        ("ReplacementTransformer", min(len(k.items("replacements")), 1)),
    )
    return [
        buildmetadata.builtin_origin(origin, k.file.name, kind)
        for kind, count in counts
        for _ in range(count)
    ]


def _label_entry(
    k: Kustomization, path: FieldPath, label: Any, config: TransformerConfig
) -> tuple[dict[str, str], tuple[FieldSpec, ...]]:
    known = {
        "pairs",
        "includeSelectors",
        "includeTemplates",
        "includeVolumeClaimTemplates",
        "fields",
    }
    if not isinstance(label, dict):
        raise k.error(path, "expected a mapping with pairs (and includeSelectors, …)")
    unknown = set(label) - known
    if unknown:
        raise k.error(path, f"unknown label fields {sorted(unknown)}", hint=f"use {sorted(known)}")
    pairs = string_map(k.document, label.get("pairs"), (*path, "pairs"))
    try:
        specs = parse_fieldspecs(label.get("fields"), f"{k.file}: {path}")
        specs = merge_fieldspecs(specs, config.section("labels"))
        if label.get("includeSelectors"):
            specs = merge_fieldspecs(specs, config.section("commonLabels"))
        else:
            if label.get("includeTemplates"):
                specs = merge_fieldspecs(specs, config.section("templateLabels"))
            if label.get("includeVolumeClaimTemplates"):
                specs = merge_fieldspecs(specs, config.section("volumeClaimTemplateLabels"))
            specs = merge_fieldspecs(specs, (FieldSpec("metadata/labels", create=True),))
    except HakobuError as e:
        raise k.error(path, e.message, e.hint) from None
    return pairs, specs


def _replica_entry(k: Kustomization, path: FieldPath, replica: Any) -> tuple[str, int]:
    if not isinstance(replica, dict) or set(replica) - {"name", "count"}:
        raise k.error(path, "expected a mapping with name and count")
    count = replica.get("count", 0)
    if not isinstance(count, int) or isinstance(count, bool):
        raise k.error((*path, "count"), "expected a whole number")
    return scalar_text(replica.get("name")), count


def _image_rule(k: Kustomization, path: FieldPath, image: Any) -> ImageRule:
    fields = {"name", "newName", "newTag", "digest", "tagSuffix"}
    if not isinstance(image, dict) or set(image) - fields:
        raise k.error(path, f"expected a mapping of {sorted(fields)}")
    values = {key: scalar_text(image.get(key)) for key in fields}
    return ImageRule(
        values["name"], values["newName"], values["newTag"], values["digest"], values["tagSuffix"]
    )


def _resolve_vars(
    resources: list[Object], var_specs: list[tuple[str, Any]], config: TransformerConfig
) -> list[Object]:
    if not var_specs:
        return resources
    specs = [spec for _, spec in var_specs]
    values = resolve_vars(resources, specs, where=f"{var_specs[-1][0]}: vars")
    return substitute_vars(resources, values, specs=config.section("varReference"))
