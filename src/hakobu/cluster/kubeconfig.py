"""Read kubeconfig files into the connection settings of a context, as kubectl does.

Several files (``$KUBECONFIG``, separated as ``PATH`` is) are merged by kubectl's rules: of
the entries of ``clusters``, ``users`` and ``contexts`` that share a name, the first file's
wins, and so does the first ``current-context`` that is set; files named in an entry are
found beside the file that holds the entry. A user authenticates with a ``token`` (or a
``tokenFile``, read again whenever it changes), a client certificate and key, a username
and password, an ``exec`` plugin (``hakobu.cluster.execcredential``) or the ``oidc``
auth-provider (``hakobu.cluster.authprovider``), and may impersonate (``as``...). A cluster
may name a ``proxy-url``, a ``tls-server-name`` to expect in the server's certificate, and
``insecure-skip-tls-verify``, which is warned about once on stderr.

A kubeconfig holds credentials (tokens, client keys), so no error here quotes a value from
it or from the files it names: errors say the file, the line and the field, and what was
expected; an entry hakobu cannot use is an error naming the entry, never skipped. The YAML
is composed, never constructed, so no tag can run code or turn a value into an exception
that carries it; only the fields a connection needs are read. The files and those they
point to (``tokenFile``, certificate and key files) are read with the bounds of
``hakobu.model.files``: regular files only, of a bounded size.
"""

from __future__ import annotations

import base64
import binascii
import os
import ssl
import sys
import tempfile
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hakobu.cluster import execcredential
from hakobu.cluster.authprovider import OidcCredentials, OidcProvider
from hakobu.cluster.execcredential import (
    API_VERSIONS,
    INTERACTIVE_MODES,
    ExecCredentials,
    ExecPlugin,
    InteractiveMode,
    certificate_authority_data,
)
from hakobu.errors import InvalidInput
from hakobu.model.files import FileRefused, read_bytes, read_text
from hakobu.model.source import FieldPath, SourceError

_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"

# Every field of a user entry kubectl knows. One hakobu does not know would be a credential
# silently left out, so an unknown one is refused rather than ignored.
_USER_FIELDS = frozenset(
    {
        "client-certificate",
        "client-certificate-data",
        "client-key",
        "client-key-data",
        "token",
        "tokenFile",
        "as",
        "as-uid",
        "as-groups",
        "as-user-extra",
        "username",
        "password",
        "auth-provider",
        "exec",
        "extensions",
    }
)
_EXEC_EXTENSION = "client.authentication.k8s.io/exec"
_PROXY_SCHEMES = ("http", "https")
_warned_insecure: set[str] = set()


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
    # Credentials obtained per request (an exec plugin, OIDC, a username and password);
    # ``token`` and ``token_file`` win over it, as in kubectl.
    auth: httpx.Auth | None = None
    # The cluster's proxy-url: every request goes through it.
    proxy: str | None = None
    # Sent with every request: impersonation, and ``Accept-Encoding`` when compression
    # is disabled.
    headers: tuple[tuple[str, str], ...] = ()


def default_kubeconfig_path() -> Path:
    """The first file :func:`kubeconfig_paths` names."""
    return kubeconfig_paths()[0]


def kubeconfig_paths() -> list[Path]:
    """The files of ``$KUBECONFIG`` in order (empty entries skipped), else ~/.kube/config."""
    listed = [Path(p) for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return listed or [Path.home() / ".kube" / "config"]


def load(
    path: Path | Sequence[Path] | None = None,
    context: str | None = None,
    *,
    interactive: bool = True,
    local_credentials: bool = True,
) -> Connection:
    """The connection of ``context`` (default: the current one) in ``path``.

    ``path`` is one file, which must exist, or several merged as kubectl merges
    ``$KUBECONFIG`` (files that do not exist are skipped; one at least must). Default: the
    files of ``$KUBECONFIG``, else ~/.kube/config. ``interactive=False`` says no person can
    answer a credential plugin's prompts (the controller), whatever standard input is.
    ``local_credentials=False`` is for a kubeconfig someone else gave (a Delivery's
    Secret): it may not run an exec plugin nor name files (``tokenFile``, certificates),
    which would run commands and read files of the machine loading it, such as its own
    ServiceAccount token; only the ``-data`` forms and inline tokens are taken."""
    if path is None:
        paths = kubeconfig_paths()
        roots = _roots(paths, single=len(paths) == 1)
    elif isinstance(path, Path):
        roots = _roots([path], single=True)
    else:
        roots = _roots(list(path), single=len(path) == 1)

    name = context
    if not name:
        current = next(
            (r.get("current-context") for r in roots if r.get("current-context").text()), None
        )
        if current is None:
            raise (
                roots[0]
                .get("current-context")
                .error("no current context is set", hint="pass --context")
            )
        name = current.text() or ""
    ctx = _named(roots, "contexts", name).get("context")
    cluster = _named(roots, "clusters", ctx.get("cluster").text()).get("cluster")
    user_entry = _named(roots, "users", ctx.get("user").text())
    namespace = ctx.get("namespace").text() or None

    server_field = cluster.get("server")
    server = server_field.text()
    if not server:
        raise server_field.error(f"the cluster of context {name!r} has no server")
    user = _User(user_entry.get("name").text() or "", user_entry.get("user"))
    if not local_credentials:
        _refuse_local(cluster, user)
    settings = _cluster_settings(cluster, server, name)
    return user.connection(server.rstrip("/"), name, namespace, settings, interactive)


def _refuse_local(cluster: _Field, user: _User) -> None:
    provider = user.field.get("auth-provider").get("config")
    for field in (
        cluster.get("certificate-authority"),
        user.field.get("tokenFile"),
        user.field.get("client-certificate"),
        user.field.get("client-key"),
        provider.get("idp-certificate-authority"),
    ):
        if field.node is not None:
            raise field.error(
                f"user {user.name!r}: this kubeconfig may not name files of the machine that "
                "loads it (it was given by others, and could point at that machine's secrets)",
                hint="embed the contents instead: certificate-authority-data, "
                "client-certificate-data, client-key-data, token",
            )
    exec_field = user.field.get("exec")
    if exec_field.node is not None:
        raise user.error(
            exec_field,
            "this kubeconfig may not run an exec plugin (it was given by others, and the "
            "command would run on the machine that loads it)",
            hint="give a token or a client certificate as data, e.g. a ServiceAccount's token",
        )


def _roots(paths: list[Path], *, single: bool) -> list[_Field]:
    roots: list[_Field] = []
    for path in paths:
        try:
            text = read_text(path)
        except FileNotFoundError:
            if single:
                raise InvalidInput(
                    f"kubeconfig {path} does not exist",
                    hint="pass --kubeconfig, set KUBECONFIG, or start one with `hakobu cluster up`",
                ) from None
            continue  # As kubectl: a file of the list that does not exist is skipped.
        except FileRefused as e:
            raise InvalidInput(f"kubeconfig {e.message}", hint=e.hint) from None
        except OSError as e:
            raise InvalidInput(f"kubeconfig {path} cannot be read ({e.strerror})") from None
        root = _Field(path, _compose(path, text), (), 1)
        if root.node is None:
            if single:
                raise root.error("the file is empty, expected a kubeconfig")
            continue
        root.mapping()
        roots.append(root)
    if not roots:
        raise InvalidInput(
            f"no kubeconfig to read: each of {', '.join(map(str, paths))} is missing or empty",
            hint="pass --kubeconfig, set KUBECONFIG, or start one with `hakobu cluster up`",
        )
    return roots


@dataclass(frozen=True)
class _ClusterSettings:
    ssl_context: ssl.SSLContext | bool
    proxy: str | None
    headers: tuple[tuple[str, str], ...]
    # What an exec plugin with provideClusterInfo is told (JSON-ready).
    exec_info: dict[str, Any]


def _cluster_settings(cluster: _Field, server: str, context: str) -> _ClusterSettings:
    info: dict[str, Any] = {"server": server}
    headers: tuple[tuple[str, str], ...] = ()
    proxy = _proxy(cluster)
    if proxy is not None:
        info["proxy-url"] = proxy
    if cluster.get("disable-compression").flag():
        headers = (("Accept-Encoding", "identity"),)
        info["disable-compression"] = True
    for extension in cluster.get("extensions").items():
        if extension.get("name").text() == _EXEC_EXTENSION:
            info["config"] = extension.get("extension").plain()
    server_name = cluster.get("tls-server-name").text() or None
    if server_name:
        info["tls-server-name"] = server_name
    if not server.startswith("https://"):
        return _ClusterSettings(False, proxy, headers, info)

    # Verifies the server's certificate and name; trusts nothing until told what to trust.
    context_ssl = _tls_context(server_name)
    if cluster.get("insecure-skip-tls-verify").flag():
        context_ssl.check_hostname = False
        context_ssl.verify_mode = ssl.CERT_NONE
        info["insecure-skip-tls-verify"] = True
        if server not in _warned_insecure:
            _warned_insecure.add(server)
            print(
                f"warning: the kubeconfig's context {context!r} sets insecure-skip-tls-verify: "
                f"the certificate of {server} is not checked, so anyone on the way can "
                "read and change what hakobu sends",
                file=sys.stderr,
            )
    else:
        authority = _data_or_file(cluster, "certificate-authority")
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
            info["certificate-authority-data"] = certificate_authority_data(pem)
    return _ClusterSettings(context_ssl, proxy, headers, info)


class _ServerNameContext(ssl.SSLContext):
    """A TLS context that sends ``server_name`` (SNI) and checks the server's certificate for
    it, whatever host the URL names: kubeconfig's ``tls-server-name``. It sits below httpx,
    so it holds through a proxy's tunnel too."""

    server_name = ""

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        kwargs["server_hostname"] = self.server_name
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        kwargs["server_hostname"] = self.server_name
        return super().wrap_bio(*args, **kwargs)


def _tls_context(server_name: str | None) -> ssl.SSLContext:
    if not server_name:
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context = _ServerNameContext(ssl.PROTOCOL_TLS_CLIENT)
    context.server_name = server_name
    return context


def _proxy(cluster: _Field) -> str | None:
    field = cluster.get("proxy-url")
    proxy = field.text() or None
    if proxy is None:
        return None
    parts = urllib.parse.urlsplit(proxy)
    if parts.scheme not in _PROXY_SCHEMES:
        raise field.error(
            f"expected an http:// or https:// proxy URL, found scheme {parts.scheme!r}",
            hint="hakobu reaches API servers through HTTP(S) proxies (CONNECT)",
        )
    if not parts.hostname:
        raise field.error("expected a proxy URL with a host")
    return proxy


@dataclass(frozen=True)
class _User:
    """A user entry: its name (for messages) and its ``user`` field."""

    name: str
    field: _Field

    def error(self, field: _Field, message: str, hint: str | None = None) -> SourceError:
        return field.error(f"user {self.name!r}: {message}", hint=hint)

    def connection(
        self,
        server: str,
        context: str,
        namespace: str | None,
        cluster: _ClusterSettings,
        interactive: bool,
    ) -> Connection:
        user = self.field
        for key_node, _ in user.mapping():
            key = getattr(key_node, "value", None)
            if key not in _USER_FIELDS:
                unknown = user.get(str(key))
                raise self.error(
                    unknown,
                    "hakobu does not know this field, so it cannot tell how to authenticate",
                    hint="remove it, or use a credential kubectl documents (token, "
                    "client certificate, exec plugin, oidc auth-provider)",
                )
        token, token_file = self._token()
        basic = user.get("username").node is not None or user.get("password").node is not None
        if basic and (token is not None):
            raise self.error(
                user.get("username"), "username/password or a token may be set, not both"
            )
        exec_field, provider_field = user.get("exec"), user.get("auth-provider")
        if exec_field.node is not None and provider_field.node is not None:
            raise self.error(exec_field, "exec and auth-provider cannot be used together")
        auth: httpx.Auth | None = None
        if basic:
            auth = httpx.BasicAuth(
                user.get("username").text() or "", user.get("password").text() or ""
            )
        elif exec_field.node is not None:
            plugin = self._exec(exec_field, cluster.exec_info, interactive)
            auth = ExecCredentials(plugin, cluster.ssl_context, interactive=interactive)
        elif provider_field.node is not None:
            auth = OidcCredentials(self._oidc(provider_field))
        if token is not None:
            auth = None  # As kubectl: a token in the entry is sent and the rest not asked.
        self._client_certificate(cluster.ssl_context)
        return Connection(
            server,
            cluster.ssl_context,
            token,
            context,
            token_file=token_file,
            namespace=namespace,
            auth=auth,
            proxy=cluster.proxy,
            headers=cluster.headers + self._impersonation(),
        )

    def _token(self) -> tuple[str | None, Path | None]:
        user = self.field
        token_field = user.get("token")
        token = token_field.text()
        token_file: Path | None = None
        if not token and user.get("tokenFile").text():
            token_field = user.get("tokenFile")
            token_file = token_field.file.parent / (token_field.text() or "")
            token = _read(token_field).decode("utf-8", errors="replace").strip()
        if not token:
            return None, None
        # It becomes an HTTP header, whose errors would quote it.
        if not all(33 <= ord(c) < 127 for c in token):
            raise token_field.error(
                "the token holds spaces, control or non-ASCII characters, which a bearer token "
                "cannot hold",
                hint="copy the token again; it may have been cut or wrapped",
            )
        return token, token_file

    def _client_certificate(self, context_ssl: ssl.SSLContext | bool) -> None:
        user = self.field
        certificate = _data_or_file(user, "client-certificate")
        key = _data_or_file(user, "client-key")
        if certificate is None and key is None:
            return
        if certificate is None or key is None:
            present, missing = (
                ("client-certificate", "client-key")
                if key is None
                else ("client-key", "client-certificate")
            )
            raise self.error(
                user.get(f"{present}-data")
                if user.get(f"{present}-data").node
                else user.get(present),
                f"{present} is given without {missing} (or {missing}-data): a client "
                "certificate needs both",
            )
        if not isinstance(context_ssl, ssl.SSLContext):
            raise self.error(
                certificate[0], "a client certificate can be presented only to an https:// server"
            )
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

    def _impersonation(self) -> tuple[tuple[str, str], ...]:
        user = self.field
        headers: list[tuple[str, str]] = []
        who = user.get("as").text()
        if who:
            headers.append(("Impersonate-User", who))
        uid = user.get("as-uid").text()
        if uid:
            headers.append(("Impersonate-Uid", uid))
        for group in user.get("as-groups").items():
            headers.append(("Impersonate-Group", group.text() or ""))
        extra = user.get("as-user-extra")
        for key_node, _ in extra.mapping():
            key = str(getattr(key_node, "value", ""))
            for value in extra.get(key).items():
                headers.append(
                    (f"Impersonate-Extra-{urllib.parse.quote(key, safe='')}", value.text() or "")
                )
        if headers and not who:
            raise self.error(
                user.get("as"),
                "as-uid, as-groups or as-user-extra is set without as: say which user to "
                "impersonate",
            )
        for header, text in headers:
            if not all(32 <= ord(c) < 127 for c in text):
                raise self.error(
                    user.get("as"), f"the {header} value holds characters an HTTP header cannot"
                )
        return tuple(headers)

    def _exec(self, field: _Field, cluster_info: dict[str, Any], interactive: bool) -> ExecPlugin:
        command_field = field.get("command")
        command = command_field.text()
        if not command:
            raise self.error(
                command_field, "exec has no command: which program gives the credential?"
            )
        if os.sep in command and not Path(command).is_absolute():
            # As kubectl: a relative path with a separator is found beside the kubeconfig.
            command = str(command_field.file.parent / command)
        version_field = field.get("apiVersion")
        version = version_field.text()
        if version not in API_VERSIONS:
            raise self.error(
                version_field,
                "exec needs apiVersion client.authentication.k8s.io/v1 or /v1beta1"
                + ("" if version is None else ", found another"),
            )
        mode_field = field.get("interactiveMode")
        mode = mode_field.text()
        if mode is None:
            if version == API_VERSIONS[0]:
                raise self.error(
                    mode_field,
                    "exec with client.authentication.k8s.io/v1 needs interactiveMode "
                    "(Never, IfAvailable or Always)",
                )
            mode = "IfAvailable"
        if mode not in INTERACTIVE_MODES:
            raise self.error(mode_field, "expected interactiveMode Never, IfAvailable or Always")
        interactive_mode: InteractiveMode = mode
        if interactive_mode == "Always":
            if not interactive:
                raise self.error(
                    mode_field,
                    "the exec plugin needs a person to answer it (interactiveMode: Always), "
                    "and hakobu runs unattended here",
                    hint="give the controller a credential that needs no login: a "
                    "ServiceAccount token, a client certificate or a non-interactive plugin",
                )
            if not execcredential.stdin_is_terminal():
                raise self.error(
                    mode_field,
                    "the exec plugin needs a person to answer it (interactiveMode: Always), "
                    "and standard input is not a terminal",
                    hint="run the command from a terminal, or log in first so that the "
                    "plugin needs no prompt",
                )
        args = tuple(item.text() or "" for item in field.get("args").items())
        env: dict[str, str] = {}
        for item in field.get("env").items():
            name = item.get("name").text()
            if not name:
                raise self.error(item.get("name"), "an exec env entry needs a name")
            env[name] = item.get("value").text() or ""
        return ExecPlugin(
            user=self.name,
            command=command,
            args=args,
            env=env,
            api_version=version,
            interactive_mode=interactive_mode,
            provide_cluster_info=field.get("provideClusterInfo").flag(),
            install_hint=field.get("installHint").text(),
            cluster=cluster_info,
        )

    def _oidc(self, field: _Field) -> OidcProvider:
        name_field = field.get("name")
        name = name_field.text()
        if name != "oidc":
            raise self.error(
                name_field,
                "hakobu supports the oidc auth-provider; "
                + (
                    "this one was removed from kubectl too"
                    if name in ("gcp", "azure")
                    else "this one is not known"
                ),
                hint="use the provider's exec credential plugin (e.g. "
                "gke-gcloud-auth-plugin, kubelogin) with exec",
            )
        config = field.get("config")
        issuer = config.get("idp-issuer-url").text()
        client_id = config.get("client-id").text()
        for key, value in (("idp-issuer-url", issuer), ("client-id", client_id)):
            if not value:
                raise self.error(config.get(key), f"the oidc auth-provider needs config.{key}")
        id_token = config.get("id-token").text() or None
        refresh_token = config.get("refresh-token").text() or None
        if id_token is None and refresh_token is None:
            raise self.error(
                config,
                "the oidc auth-provider has neither id-token nor refresh-token",
                hint="log in with your identity provider to fill them in",
            )
        for key, value in (("id-token", id_token), ("refresh-token", refresh_token)):
            if value is not None and not all(33 <= ord(c) < 127 for c in value):
                raise self.error(
                    config.get(key), "the token holds characters a bearer token cannot"
                )
        verify: ssl.SSLContext | bool = True
        authority = _data_or_file(config, "idp-certificate-authority")
        if authority is not None:
            verify = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            try:
                verify.load_verify_locations(cadata=authority[1].decode("ascii"))
            except (UnicodeDecodeError, ssl.SSLError, ValueError):
                raise authority[0].error("expected PEM certificates") from None
        return OidcProvider(
            user=self.name,
            issuer_url=issuer or "",
            client_id=client_id or "",
            client_secret=config.get("client-secret").text() or None,
            id_token=id_token,
            refresh_token=refresh_token,
            issuer_verify=verify,
        )


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

    def plain(self) -> Any:
        """The value as plain data (for a plugin's cluster info); None when absent."""
        if self.node is None:
            return None
        return yaml.SafeLoader("").construct_document(self.node)

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


def _named(roots: list[_Field], section: str, name: str | None) -> _Field:
    """The first entry of ``section`` named ``name``, in file order (kubectl's merge)."""
    for root in roots:
        for entry in root.get(section).items():
            if entry.get("name").text() == name:
                return entry
    entries = roots[0].get(section)
    if name is None:
        raise entries.error("no entry is named: the context does not say which one to use")
    where = "" if len(roots) == 1 else f" in any of {', '.join(str(r.file) for r in roots)}"
    raise entries.error(f"no entry named {name!r}{where}")


def _data_or_file(parent: _Field, name: str) -> tuple[_Field, bytes] | None:
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
    return file, _read(file)


def _read(field: _Field) -> bytes:
    """The file a field names (relative to the directory of the kubeconfig holding it)."""
    path = field.file.parent / (field.text() or "")
    try:
        return read_bytes(path)
    except FileNotFoundError:
        raise field.error(f"{path} does not exist") from None
    except FileRefused as e:
        raise field.error(e.message, hint=e.hint) from None
    except OSError as e:
        raise field.error(f"{path} cannot be read ({e.strerror})") from None
