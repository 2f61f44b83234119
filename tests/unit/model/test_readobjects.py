"""Objects from a file or standard input: one reader for every command that takes ``-f``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hakobu.errors import InvalidInput
from hakobu.model.files import MAX_FILE_BYTES
from hakobu.model.readobjects import read_documents, read_objects

POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n"
LIST = (
    "apiVersion: v1\nkind: List\nitems:\n"
    "- {apiVersion: v1, kind: Service, metadata: {name: a}}\n"
    "- {apiVersion: v1, kind: Service, metadata: {name: b}}\n"
)


def test_a_file_and_standard_input_read_alike(tmp_path: Path) -> None:
    path = tmp_path / "objects.yaml"
    path.write_text(POD + "---\n" + LIST)
    from_file = read_objects(str(path))
    from_stdin = read_objects("-", stdin=io.TextIOWrapper(io.BytesIO(path.read_bytes())))
    assert from_file == from_stdin
    assert [obj["metadata"]["name"] for obj in from_file] == ["web", "a", "b"]


def test_a_text_stream_in_place_of_standard_input_is_read_too() -> None:
    documents = read_documents("-", stdin=io.StringIO(POD))
    assert documents[0].data["kind"] == "Pod"
    assert str(documents[0].file) == "<stdin>"


def test_standard_input_is_bounded_like_a_file() -> None:
    with pytest.raises(InvalidInput, match="standard input: is larger than 8 MiB"):
        read_documents(
            "-", stdin=io.StringIO("#" * (MAX_FILE_BYTES + 1)), stdin_name="standard input"
        )
    big = io.TextIOWrapper(io.BytesIO(b"#" * (MAX_FILE_BYTES + 1)))
    with pytest.raises(InvalidInput, match="<stdin>: is larger than 8 MiB"):
        read_documents("-", stdin=big)


def test_errors_name_the_file_as_given_and_the_line() -> None:
    with pytest.raises(InvalidInput, match=r"^missing\.yaml: file does not exist$"):
        read_documents("missing.yaml")
    with pytest.raises(InvalidInput, match=r"^<stdin>:1: metadata: expected metadata.name"):
        read_objects("-", stdin=io.StringIO("apiVersion: v1\nkind: Pod\n"))


def test_no_document_is_for_the_caller_to_judge_but_no_object_is_an_error(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing here\n")
    assert read_documents(str(empty)) == []
    with pytest.raises(InvalidInput, match=r"empty\.yaml: no objects found"):
        read_objects(str(empty))
    # An empty List is a fine answer from a cluster.
    assert read_objects("-", stdin=io.StringIO("apiVersion: v1\nkind: List\nitems: []\n")) == []
