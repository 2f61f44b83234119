"""Typed, validated configuration and the plain-data shape of Kubernetes objects."""
