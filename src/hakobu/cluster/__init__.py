"""Kubernetes API access: kubeconfig, discovery, a small REST client, API errors."""
