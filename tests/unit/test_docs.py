"""The user guide: its reference is what the code says, and its links lead somewhere."""

from __future__ import annotations

import importlib.util
import posixpath
import re
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from hakobu.cli.main import COMMANDS
from hakobu.model.appspec_schema import app_schema

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# A Markdown link to a page of the guide, with an optional anchor: [text](page.md#anchor).
LINK = re.compile(r"\]\((?!https?:|mailto:)([^)#\s]*)(?:#([^)\s]+))?\)")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_reference", ROOT / "scripts" / "gen_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_reference_is_what_the_code_generates() -> None:
    generator = _generator()
    for name, text in generator.reference_pages().items():
        committed = DOCS / "reference" / name
        assert committed.is_file(), f"docs/reference/{name} is missing: run make docs"
        assert committed.read_text(encoding="utf-8") == text, (
            f"docs/reference/{name} is out of date: run make docs"
        )


def test_check_names_the_stale_file_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generator = _generator()
    assert generator.main(["--out", str(tmp_path)]) == 0
    assert generator.main(["--check", "--out", str(tmp_path)]) == 0
    page = tmp_path / "commands.md"
    page.write_text(page.read_text(encoding="utf-8").replace("hakobu sync", "hakobu zync"))
    assert generator.main(["--check", "--out", str(tmp_path)]) == 1
    assert f"{page} is out of date: run make docs" in capsys.readouterr().err


def test_reference_documents_every_command_and_app_field() -> None:
    pages = _generator().reference_pages()
    for command in COMMANDS:
        assert f"\n## hakobu {command}\n" in pages["commands.md"]
    for field in app_schema()["properties"]:
        assert f"| `{field}` |" in pages["app-spec.md"]


def test_every_page_is_in_the_navigation() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    in_nav = set(_nav_files(config["nav"]))
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert in_nav == on_disk


def test_links_between_pages_lead_to_a_page_and_heading() -> None:
    slug = _generator().slug
    anchors = {
        page.relative_to(DOCS).as_posix(): {
            slug(h) for h in re.findall(r"^#+ (.+)$", _prose(page), re.MULTILINE)
        }
        for page in DOCS.rglob("*.md")
    }
    broken = []
    for page in DOCS.rglob("*.md"):
        here = page.relative_to(DOCS).parent
        for target, anchor in LINK.findall(_prose(page)):
            name = (here / target).as_posix() if target else page.relative_to(DOCS).as_posix()
            resolved = posixpath.normpath(name)
            if resolved not in anchors or (anchor and anchor not in anchors[resolved]):
                broken.append(f"{page.relative_to(ROOT)}: {target}#{anchor}")
    assert broken == []


def _prose(page: Path) -> str:
    """A page without its code blocks, whose lines are neither headings nor links."""
    return FENCE.sub("", page.read_text(encoding="utf-8"))


def _nav_files(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [f for item in nav for f in _nav_files(item)]
    if isinstance(nav, dict):
        return [f for value in nav.values() for f in _nav_files(value)]
    return []
