"""A kustomize-compatible build: the same documents, in the same order, as `kustomize build`.

``build.build(directory, load_restrictor=...)`` returns the objects;
``hakobu.render.yamlout`` writes them out as kustomize does. The package itself imports
nothing, so a render whose apps are not kustomizations does not load the builder.
"""
