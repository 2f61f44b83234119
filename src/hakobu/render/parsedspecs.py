"""The app specs one render has parsed: each parsed, checked and typed once for all the
environments it renders in.

Every environment reads each app spec itself (so that environment's record of inputs has
it), but the text read is the same, and so are its parse and, over the same base's
defaults, its checked ``AppSpec``. ``ParsedSpecs`` keeps them by file and whole text (and
defaults) for the length of one render: a changed file is never answered from here, and a
spec that fails is not kept, so every environment reports the same error. What is kept is
shared, never copied: nothing that renders from a spec changes it (expansion builds new
objects), as nothing changes a parsed ``Base``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hakobu.model.appspec import AppSpec, load_app_document
from hakobu.model.source import Document, load_one


class ParsedSpecs:
    """The parses of one render, by file and text."""

    def __init__(self) -> None:
        self._documents: dict[tuple[Path, str], Document] = {}
        self._specs: dict[tuple[Path, str, str], AppSpec] = {}

    def document(self, file: Path, text: str) -> Document:
        """``load_one(file, text)``."""
        found = self._documents.get((file, text))
        if found is None:
            found = load_one(file, text)
            self._documents[file, text] = found
        return found

    def spec(self, file: Path, text: str, defaults: Mapping[str, Any] | None) -> AppSpec:
        """``load_app_document`` of ``document(file, text)`` over ``defaults``."""
        # Defaults are parsed YAML (strings, numbers, booleans, lists, mappings): their
        # JSON with sorted keys says when two are the same.
        key = (file, text, json.dumps(defaults, sort_keys=True))
        found = self._specs.get(key)
        if found is None:
            found = load_app_document(self.document(file, text), defaults)
            self._specs[key] = found
        return found
