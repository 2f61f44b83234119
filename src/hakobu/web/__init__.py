"""The HTTP API and dashboard: the library's operations over HTTP, governed by RBAC."""
