"""Read a kubeconfig file into the connection settings of its current context.

A kubeconfig holds credentials (tokens, client keys), so no error here quotes a value from
it or from the files it names: errors say the file, the line and the field, and what was
expected. The YAML is composed, never constructed, so no tag can run code or turn a value
into an exception that carries it; only the fields a connection needs are read. The file
and those it points to (``tokenFile``, certificate and key files) are read with the bounds
of ``hakobu.model.files``: regular files only, of a bounded size.
"""

from __future__ import annotations

import base64
import binascii
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hakobu.errors import InvalidInput
from hakobu.model.files import FileRefused, read_bytes, read_text
from hakobu.model.source import FieldPath, SourceError

_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"


@dataclass(frozen=True)
class Connection:
    """Everything needed to talk to one API server as one user."""

    server: str
    ssl_context: ssl.SSLContext | bool
    token: str | None
    context_name: str
    # A bearer token read from this file before each request while it changes (projected
    # ServiceAccount tokens are rotated in place); overrides ``token``.
    token_file: Path | None = None
    # The context's default namespace, as kubectl reads it; None when the context has none.
    namespace: str | None = None


def default_kubeconfig_path() -> Path:
    first = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return Path(first) if first else Path.home() / ".kube" / "config"


def load(path: Path | None = None, context: str | None = None) -> Connection:
    """Load ``path`` (default: $KUBECONFIG or ~/.kube/config) for ``context`` (default: current)."""
    path = path or default_kubeconfig_path()
    try:
        text = read_text(path)
    except FileNotFoundError:
        raise InvalidInput(
            f"kubeconfig {path} does not exist",
            hint="pass --kubeconfig, set KUBECONFIG, or start one with `hakobu cluster up`",
        ) from None
    except FileRefused as e:
        raise InvalidInput(f"kubeconfig {e.message}", hint=e.hint) from None
    except OSError as e:
        raise InvalidInput(f"kubeconfig {path} cannot be read ({e.strerror})") from None
    root = _Field(path, _compose(path, text), (), 1)
    if root.node is None:
        raise root.error("the file is empty, expected a kubeconfig")
    root.mapping()

    current = root.get("current-context")
    name = context or current.text()
    if not name:
        raise current.error("no current context is set", hint="pass --context")
    ctx = _named(root, "contexts", name).get("context")
    cluster = _named(root, "clusters", ctx.get("cluster").text()).get("cluster")
    user = _named(root, "users", ctx.get("user").text()).get("user")
    base = path.parent
    namespace = ctx.get("namespace").text() or None

    server_field = cluster.get("server")
    server = server_field.text()
    if not server:
        raise server_field.error(f"the cluster of context {name!r} has no server")
    token = _token(user, base)
    if not server.startswith("https://"):
        return Connection(server.rstrip("/"), False, token, name, namespace=namespace)

    # Verifies the server's certificate and name; trusts nothing until told what to trust.
    context_ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cluster.get("insecure-skip-tls-verify").flag():
        context_ssl.check_hostname = False
        context_ssl.verify_mode = ssl.CERT_NONE
    else:
        authority = _data_or_file(cluster, "certificate-authority", base)
        if authority is None:
            # As kubectl: without a named authority, the system's trust store.
            context_ssl.load_default_certs(ssl.Purpose.SERVER_AUTH)
        else:
            # Only the named authority, as kubectl: a publicly trusted certificate for the
            # same host name must not pass for the cluster's.
            field, pem = authority
            try:
                context_ssl.load_verify_locations(cadata=pem.decode("ascii"))
            except (UnicodeDecodeError, ssl.SSLError, ValueError):
                raise field.error("expected PEM certificates") from None
    _load_client_cert(context_ssl, user, base)
    return Connection(server.rstrip("/"), context_ssl, token, name, namespace=namespace)


@dataclass(frozen=True)
class _Field:
    """A field of the kubeconfig: its node (None when absent), where it is and its path."""

    file: Path
    node: Node | None
    path: FieldPath
    line: int | None

    def get(self, key: str) -> _Field:
        child = (*self.path, key)
        for key_node, value_node in self.mapping():
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                return _Field(self.file, value_node, child, key_node.start_mark.line + 1)
        return _Field(self.file, None, child, self.line)

    def mapping(self) -> list[tuple[Node, Node]]:
        if self.node is None or self._null():
            return []
        if not isinstance(self.node, MappingNode):
            raise self.error("expected a mapping")
        return list(self.node.value)

    def items(self) -> list[_Field]:
        if self.node is None or self._null():
            return []
        if not isinstance(self.node, SequenceNode):
            raise self.error("expected a list")
        return [
            _Field(self.file, item, (*self.path, i), item.start_mark.line + 1)
            for i, item in enumerate(self.node.value)
        ]

    def text(self) -> str | None:
        """The scalar's text; None when absent or null."""
        if self.node is None or self._null():
            return None
        if not isinstance(self.node, ScalarNode):
            raise self.error("expected a single value, found a mapping or a list")
        return str(self.node.value)

    def flag(self) -> bool:
        if self.node is None or self._null():
            return False
        if not isinstance(self.node, ScalarNode) or self.node.tag != _BOOL_TAG:
            raise self.error("expected true or false")
        return self.node.value.lower() in ("true", "yes", "on", "y")

    def error(self, message: str, hint: str | None = None) -> SourceError:
        return SourceError(self.file, message, line=self.line, field=self.path, hint=hint)

    def _null(self) -> bool:
        return isinstance(self.node, ScalarNode) and self.node.tag == _NULL_TAG


def _compose(path: Path, text: str) -> Node | None:
    try:
        return yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as e:
        # The problem alone: the error's own text quotes the offending line, a token perhaps.
        mark = e.problem_mark or e.context_mark
        raise SourceError(
            path,
            f"not valid YAML: {e.problem or e.context}",
            line=mark.line + 1 if mark else None,
        ) from None
    except yaml.YAMLError:
        raise SourceError(
            path, "not valid YAML: it holds a character YAML does not allow"
        ) from None


def _named(root: _Field, section: str, name: str | None) -> _Field:
    entries = root.get(section)
    for entry in entries.items():
        if entry.get("name").text() == name:
            return entry
    if name is None:
        raise entries.error("no entry is named: the context does not say which one to use")
    raise entries.error(f"no entry named {name!r}")


def _token(user: _Field, base: Path) -> str | None:
    token_field = user.get("token")
    token = token_field.text()
    if token is None and user.get("tokenFile").node is not None:
        token_field = user.get("tokenFile")
        token = _read(token_field, base).decode("utf-8", errors="replace").strip()
    if not token:
        return None
    # It becomes an HTTP header, whose errors would quote it.
    if not all(33 <= ord(c) < 127 for c in token):
        raise token_field.error(
            "the token holds spaces, control or non-ASCII characters, which a bearer token "
            "cannot hold",
            hint="copy the token again; it may have been cut or wrapped",
        )
    return token


def _data_or_file(parent: _Field, name: str, base: Path) -> tuple[_Field, bytes] | None:
    """The content of ``<name>-data`` (base64) or of the file ``<name>`` names, if either."""
    data = parent.get(f"{name}-data")
    encoded = data.text()
    if encoded is not None:
        try:
            return data, base64.b64decode("".join(encoded.split()), validate=True)
        except binascii.Error:
            raise data.error("not valid base64") from None
    file = parent.get(name)
    if file.text() is None:
        return None
    return file, _read(file, base)


def _read(field: _Field, base: Path) -> bytes:
    """The file a field names (relative to the kubeconfig's directory), bounded."""
    path = base / (field.text() or "")
    try:
        return read_bytes(path)
    except FileNotFoundError:
        raise field.error(f"{path} does not exist") from None
    except FileRefused as e:
        raise field.error(e.message, hint=e.hint) from None
    except OSError as e:
        raise field.error(f"{path} cannot be read ({e.strerror})") from None


def _load_client_cert(context_ssl: ssl.SSLContext, user: _Field, base: Path) -> None:
    certificate = _data_or_file(user, "client-certificate", base)
    key = _data_or_file(user, "client-key", base)
    if certificate is None or key is None:
        return
    # The ssl module reads certificates only from files: write them to a private
    # directory that lives just as long as the load.
    with tempfile.TemporaryDirectory() as tmp:
        cert_path, key_path = Path(tmp) / "client.crt", Path(tmp) / "client.key"
        cert_path.write_bytes(certificate[1])
        key_path.touch(mode=0o600)
        key_path.write_bytes(key[1])
        try:
            context_ssl.load_cert_chain(str(cert_path), str(key_path))
        except ssl.SSLError:
            raise key[0].error(
                "the client certificate and key cannot be loaded: they are not PEM, or the "
                "key does not belong to the certificate"
            ) from None
