"""Preview environments: ``previews:`` in ``hakobu.yaml``, and what one branch becomes.

::

    previews:
      from: evaluation                    # the environment each preview copies
      branches: "feature/*"               # which branches get one (a glob)
      namespace: "preview-{{branch}}"     # where each runs
      host: "{{branch}}.preview.example.com"  # its address, for messages and listings
      ttl: 72h                            # taken down this long after it first came up
      maxCount: 5                         # never more at once

A template may say ``{{branch}}`` (the branch's slug) and, in ``host``, ``{{namespace}}``;
nothing else is substituted and nothing is evaluated, so a branch name — which anyone who
can push chooses — never runs as code. The slug is the branch made a DNS label as Argo
CD's ``branch_slug`` makes it: lower-case, every run of other characters than letters and
digits one ``-``, no ``-`` at either end; where the namespace would pass 63 characters the
slug is cut and ends in ``-`` and 8 hex digits of the branch's SHA-256, so two long
branches that share a beginning still get two namespaces.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from hakobu.errors import InvalidInput
from hakobu.model.duration import parse_duration
from hakobu.model.source import Document, FieldPath

FIELDS = ("from", "branches", "namespace", "host", "ttl", "maxCount")
MAX_NAMESPACE = 63
# The shortest slug a namespace template must leave room for: a cut slug is one letter,
# a '-' and the hash.
_HASH_DIGITS = 8
_MIN_SLUG = _HASH_DIGITS + 2
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_BRANCH_SLOT = "{{branch}}"
_NAMESPACE_SLOT = "{{namespace}}"
# A branch name as long as a template may expect; git's own limit is the file system's.
_MAX_BRANCH = 255


@dataclass(frozen=True)
class Previews:
    source_env: str
    branches: str
    namespace_template: str
    host_template: str
    ttl: float
    max_count: int

    def matches(self, branch: str) -> bool:
        return fnmatch.fnmatchcase(branch, self.branches)

    def namespace(self, branch: str) -> str:
        """The namespace of ``branch``'s preview; InvalidInput when the branch does not
        match the pattern or has no letter or digit to name one by."""
        if not self.matches(branch):
            raise InvalidInput(
                f"branch {branch!r} does not match previews.branches {self.branches!r} "
                "in hakobu.yaml",
                hint="push to a branch the pattern matches, or widen the pattern",
            )
        room = MAX_NAMESPACE - (len(self.namespace_template) - len(_BRANCH_SLOT))
        slug = branch_slug(branch, room)
        return self.namespace_template.replace(_BRANCH_SLOT, slug)

    def host(self, branch: str) -> str:
        namespace = self.namespace(branch)
        return self.host_template.replace(_BRANCH_SLOT, branch_slug(branch)).replace(
            _NAMESPACE_SLOT, namespace
        )

    def url(self, branch: str) -> str:
        return f"https://{self.host(branch)}"


def branch_slug(branch: str, room: int = MAX_NAMESPACE) -> str:
    """``branch`` as a DNS label of at most ``room`` characters (see the module's notes)."""
    if len(branch) > _MAX_BRANCH:
        raise InvalidInput(
            f"branch name of {len(branch)} characters is too long for a preview "
            f"(at most {_MAX_BRANCH})"
        )
    slug = _NOT_ALNUM.sub("-", branch.lower()).strip("-")
    if not slug:
        raise InvalidInput(
            f"branch {branch!r} cannot become a namespace: it has no letter or digit",
            hint="previews are named after their branch; push to a branch with a name "
            "such as feature/login",
        )
    if len(slug) <= room:
        return slug
    digest = hashlib.sha256(branch.encode()).hexdigest()[:_HASH_DIGITS]
    return f"{slug[: room - _HASH_DIGITS - 1].rstrip('-')}-{digest}"


def parse_previews(
    doc: Document, path: FieldPath, value: Any, *, environments: list[str]
) -> Previews | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise doc.error(path, f"expected a mapping, found {type(value).__name__}")
    for key in value:
        if key not in FIELDS:
            raise doc.error((*path, key), f"unknown field; expected one of: {', '.join(FIELDS)}")
    source = value.get("from")
    if source not in environments:
        raise doc.error(
            (*path, "from"),
            f"expected the name of an environment to copy, found {source!r}",
            hint=f"the project defines: {', '.join(environments)}",
        )
    branches = value.get("branches")
    if not isinstance(branches, str) or not branches.strip():
        raise doc.error(
            (*path, "branches"),
            f"expected a branch pattern such as 'feature/*', found {branches!r}",
        )
    namespace = _template(doc, (*path, "namespace"), value.get("namespace"), (_BRANCH_SLOT,))
    if _BRANCH_SLOT not in namespace:
        raise doc.error(
            (*path, "namespace"),
            f"{namespace!r} does not say {_BRANCH_SLOT}: every preview would share one namespace",
            hint="for example preview-{{branch}}",
        )
    fixed = namespace.replace(_BRANCH_SLOT, "")
    if len(fixed) > MAX_NAMESPACE - _MIN_SLUG or not _DNS_LABEL.match(
        namespace.replace(_BRANCH_SLOT, "a")
    ):
        raise doc.error(
            (*path, "namespace"),
            f"{namespace!r} does not make a DNS label (lower-case letters, digits and '-', "
            f"leaving at least {_MIN_SLUG} of its 63 characters for the branch)",
        )
    host = _template(doc, (*path, "host"), value.get("host"), (_BRANCH_SLOT, _NAMESPACE_SLOT))
    sample = host.replace(_BRANCH_SLOT, "a").replace(_NAMESPACE_SLOT, "a")
    if not _DNS_NAME.match(sample) or (_BRANCH_SLOT not in host and _NAMESPACE_SLOT not in host):
        raise doc.error(
            (*path, "host"),
            f"expected a host name that says {_BRANCH_SLOT} or {_NAMESPACE_SLOT}, found {host!r}",
            hint="for example {{branch}}.preview.example.com",
        )
    ttl_text = value.get("ttl")
    try:
        ttl = parse_duration(ttl_text) if isinstance(ttl_text, str) else -1.0
    except ValueError as e:
        raise doc.error((*path, "ttl"), str(e)) from None
    if ttl <= 0:
        raise doc.error((*path, "ttl"), f"expected a duration such as 72h, found {ttl_text!r}")
    count = value.get("maxCount")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1000:
        raise doc.error((*path, "maxCount"), f"expected a number from 1 to 1000, found {count!r}")
    return Previews(str(source), branches, namespace, host, ttl, count)


def _template(doc: Document, path: FieldPath, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or not value:
        raise doc.error(path, f"expected a template string, found {value!r}")
    slots = {f"{{{{{name}}}}}" for name in _PLACEHOLDER.findall(value)}
    unknown = sorted(slots - set(allowed))
    if unknown:
        raise doc.error(
            path, f"unknown placeholder {unknown[0]}; expected only {', '.join(allowed)}"
        )
    # Written with inner spaces ({{ branch }}) or not, a slot reads the same.
    return _PLACEHOLDER.sub(lambda m: f"{{{{{m.group(1)}}}}}", value)
