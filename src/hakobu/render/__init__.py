"""Rendering: sources (app specs, kustomize trees, templates) into the manifests of each environment."""
