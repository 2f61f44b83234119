"""Options shared by the commands: one definition, the same reading everywhere."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from hakobu.cli.options import add_output_option, add_project_option, load, project_root
from hakobu.errors import InvalidInput


def parser_with(**options: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_project_option(parser, **options)
    add_output_option(parser)
    return parser


def test_both_spellings_read_the_project_directory() -> None:
    assert parser_with().parse_args(["-C", "shop"]).directory == Path("shop")
    assert parser_with(long_name=True).parse_args(["--directory", "shop"]).directory == Path("shop")
    with pytest.raises(SystemExit):
        parser_with().parse_args(["--directory", "shop"])
    defaults = parser_with().parse_args([])
    assert (defaults.directory, defaults.output) == (Path(), "text")


def test_a_subcommand_keeps_the_directory_given_before_it() -> None:
    parser = parser_with(long_name=True)
    build = parser.add_subparsers(dest="sub").add_parser("build")
    add_project_option(build, long_name=True, inherited=True)
    assert parser.parse_args(["-C", "shop", "build"]).directory == Path("shop")
    assert parser.parse_args(["build", "-C", "other"]).directory == Path("other")


def test_the_project_is_found_upward_and_loaded(tmp_path: Path) -> None:
    (tmp_path / "hakobu.yaml").write_text(
        "apiVersion: hakobu.dev/v1alpha1\nkind: Project\nname: shop\n"
        "environments:\n  dev: {namespace: shop-dev}\n"
    )
    (tmp_path / "apps" / "web").mkdir(parents=True)
    args = parser_with().parse_args(["-C", str(tmp_path / "apps" / "web")])
    assert project_root(args) == tmp_path.resolve()
    assert load(args).name == "shop"
    with pytest.raises(InvalidInput):
        load(parser_with().parse_args(["-C", "/"]))
