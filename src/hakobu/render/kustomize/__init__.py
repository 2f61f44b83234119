"""A kustomize-compatible build: the same documents, in the same order, as `kustomize build`."""
