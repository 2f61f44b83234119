"""What goes wrong when credentials are fetched at request time (an exec plugin that
fails, an identity provider that refuses a refresh), as opposed to a kubeconfig that
cannot be used at all (``InvalidInput``, raised while it is loaded)."""

from __future__ import annotations

from hakobu.errors import OperationFailed


class CredentialsFailed(OperationFailed):
    """Credentials for the API server could not be obtained."""
