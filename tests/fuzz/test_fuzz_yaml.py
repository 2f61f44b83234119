"""The YAML loader on arbitrary text: documents, or a SourceError, never anything else."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hakobu.model.source import Document, SourceError, load_documents
from tests.fuzz.profile import FUZZ

FILE = Path("apps/web.yaml")

_SCALARS = st.sampled_from(
    [
        "", "~", "null", "yes", "no", "on", "true", "False", "0", "-0", "0755", "0o17", "0x1F",
        "0b101", "1_000", "1e400", "-1e400", ".inf", "-.Inf", ".nan", "1.0", "3.",
        "99999999999999999999999", "-9223372036854775809", "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "2001-13-45", "12:30:45", "1:20", "'quoted'", '"dq \\u00e9 \\x41"', '"\\uD800"', "'it''s'",
        "|\n  block\n", ">-\n  folded\n", "|+2\n   x\n", "héllo", "\u2028", "\ufeff", "a: b",
        "- x", "[a, b]", "{a: b}", "*a", "&a x", "!!str 12", "!!int x", "!!int 0x1F",
        "!!float abc", "!!bool yes", "!!binary aGVsbG8=", "!!binary ???", "!!timestamp nope",
        "!!null x", "!!map {}", "!!seq []", "!local x", "! 12", "!<tag:x> y", "!!merge <<",
        "<<", "=", "?", "%", "@x", "`x", "#c", "\t", "\\", "\x00", "\x85",
    ]
)  # fmt: skip
_KEYS = st.one_of(
    st.sampled_from(["a", "b", "<<", "? a", "1", "true", "null", "~", "'<<'", "!!merge <<"]),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=5),
)


def _yamlish(depth: int) -> st.SearchStrategy[str]:
    """Text shaped like YAML: block and flow collections, anchors, aliases, tags, merges."""
    leaf = st.one_of(_SCALARS, st.text(max_size=8))
    if depth == 0:
        return leaf
    inner = _yamlish(depth - 1)

    def indent(text: str) -> str:
        return text.replace("\n", "\n  ")

    return st.one_of(
        leaf,
        st.builds(lambda k, v: f"{k}: {v}", _KEYS, inner),
        st.builds(lambda k, v: f"{k}:\n  {indent(v)}", _KEYS, inner),
        st.builds(lambda v: f"- {indent(v)}", inner),
        st.builds(lambda items: "[" + ", ".join(items) + "]", st.lists(inner, max_size=3)),
        st.builds(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}",
            st.lists(st.tuples(_KEYS, inner), max_size=3),
        ),
        st.builds(lambda a, v: f"&{a} {v}", st.sampled_from("ab"), inner),
        st.builds(lambda a: f"*{a}", st.sampled_from("abc")),
        st.builds(lambda a: f"<<: *{a}", st.sampled_from("ab")),
        st.builds(
            lambda t, v: f"{t} {v}", st.sampled_from(["!!map", "!!seq", "!!str", "!x"]), inner
        ),
        st.builds(lambda a, b: f"{a}\n{b}", inner, inner),
        st.builds(lambda a, b: f"{a}\n---\n{b}", inner, inner),
        st.builds(lambda v: f"? {v}\n: {v}", inner),
        st.builds(lambda v: f"%YAML 1.1\n--- {v}", inner),
    )


def _loads_or_refuses(text: str) -> None:
    try:
        documents = load_documents(FILE, text)
    except SourceError as e:
        assert e.file == str(FILE)
        assert str(e).startswith(str(FILE))
        return
    for document in documents:
        assert isinstance(document, Document)
        assert document.data is not None


@settings(FUZZ, max_examples=400)
@given(st.text(max_size=200))
def test_arbitrary_text(text: str) -> None:
    _loads_or_refuses(text)


@settings(FUZZ, max_examples=800)
@given(_yamlish(4))
def test_yaml_shaped_text(text: str) -> None:
    _loads_or_refuses(text)


@settings(FUZZ, max_examples=200)
@given(st.lists(st.sampled_from(list(":-?[]{},&*!|>'\"%@`# \n\t<=~")), max_size=60).map("".join))
def test_indicator_soup(text: str) -> None:
    _loads_or_refuses(text)
