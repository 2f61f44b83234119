"""Patches: strategic merge (with Kubernetes merge keys) and JSON 6902."""
