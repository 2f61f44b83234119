"""``hakobu schema``: the JSON Schemas of hakobu's file formats, for editors and linters."""

from __future__ import annotations

import argparse
import json

from hakobu.model.appspec import app_schema


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of a file format",
        description="Print a JSON Schema (draft 2020-12). Point an editor's YAML support at "
        "it for completion and checks while typing; hakobu validates with the same schema.",
    )
    formats = parser.add_subparsers(dest="schema_format", required=True, metavar="FORMAT")
    app = formats.add_parser(
        "app",
        help="the app spec (apps/<app>.yaml)",
        description="Print the JSON Schema of the app spec; its descriptions document every "
        "field. Example: hakobu schema app > .hakobu/app.schema.json",
    )
    app.set_defaults(handler=_app)


def _app(args: argparse.Namespace) -> int:
    # Property order is the order of the documentation, so keys are not sorted.
    print(json.dumps(app_schema(), indent=2, ensure_ascii=False))
    return 0
