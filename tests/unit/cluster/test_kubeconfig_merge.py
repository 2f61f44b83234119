"""Several kubeconfig files merged as kubectl merges ``$KUBECONFIG``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.cluster.kubeconfig import kubeconfig_paths, load
from hakobu.errors import InvalidInput


def write(path: Path, config: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", **config}))
    return path


def context(name: str, cluster: str, user: str) -> dict[str, Any]:
    return {"name": name, "context": {"cluster": cluster, "user": user}}


def cluster(name: str, server: str) -> dict[str, Any]:
    return {"name": name, "cluster": {"server": server}}


def user(name: str, token: str) -> dict[str, Any]:
    return {"name": name, "user": {"token": token}}


@pytest.fixture
def two_files(tmp_path: Path) -> tuple[Path, Path]:
    first = write(
        tmp_path / "first",
        {
            "current-context": "a",
            "contexts": [context("a", "east", "alice")],
            "clusters": [cluster("east", "http://east.first")],
            "users": [user("alice", "alice-first")],
        },
    )
    second = write(
        tmp_path / "second",
        {
            "current-context": "b",
            "contexts": [context("a", "west", "bob"), context("b", "west", "alice")],
            "clusters": [cluster("east", "http://east.second"), cluster("west", "http://west")],
            "users": [user("alice", "alice-second"), user("bob", "bob-second")],
        },
    )
    return first, second


def test_the_first_file_to_name_an_entry_wins(two_files: tuple[Path, Path]) -> None:
    first, second = two_files
    current = load([first, second])
    # Context "a" and cluster "east" and user "alice" all come from the first file.
    assert (current.context_name, current.server, current.token) == (
        "a",
        "http://east.first",
        "alice-first",
    )
    # Context "b" exists only in the second file; the user it names, "alice", is the
    # first file's, and the cluster "west" the second's.
    chosen = load([first, second], "b")
    assert (chosen.server, chosen.token) == ("http://west", "alice-first")


def test_the_first_current_context_set_wins(tmp_path: Path, two_files: tuple[Path, Path]) -> None:
    first, second = two_files
    assert load([second, first]).context_name == "b"
    unset = write(tmp_path / "unset", {"users": [user("carol", "c")]})
    assert load([unset, second, first]).context_name == "b"
    empty_value = write(tmp_path / "empty", {"current-context": ""})
    assert load([empty_value, first]).context_name == "a"


def test_kubeconfig_lists_files_and_skips_missing_ones(
    tmp_path: Path, two_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_files
    missing = tmp_path / "missing"
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(["", str(missing), str(second), str(first)]))
    assert kubeconfig_paths() == [missing, second, first]
    assert load().context_name == "b"
    # The second file's context "a" now, and its cluster "west" and user "bob".
    shadowing = load(context="a")
    assert (shadowing.server, shadowing.token) == ("http://west", "bob-second")


def test_files_are_found_beside_the_file_that_names_them(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "one" / "token").write_text("from-one")
    (tmp_path / "two" / "token").write_text("from-two")
    first = write(
        tmp_path / "one" / "config",
        {"current-context": "c", "contexts": [context("c", "k", "u")]},
    )
    second = write(
        tmp_path / "two" / "config",
        {
            "clusters": [cluster("k", "http://k")],
            "users": [{"name": "u", "user": {"tokenFile": "token"}}],
        },
    )
    connection = load([first, second])
    assert connection.token == "from-two"
    assert connection.token_file == tmp_path / "two" / "token"


def test_an_empty_file_in_a_list_is_skipped(tmp_path: Path, two_files: tuple[Path, Path]) -> None:
    empty = tmp_path / "empty-file"
    empty.write_text("")
    assert load([empty, two_files[0]]).context_name == "a"
    with pytest.raises(InvalidInput, match="the file is empty"):
        load(empty)


def test_no_file_of_the_list_exists(tmp_path: Path) -> None:
    with pytest.raises(
        InvalidInput, match=r"no kubeconfig to read: each of .*a, .*b is missing or empty"
    ):
        load([tmp_path / "a", tmp_path / "b"])
    with pytest.raises(InvalidInput, match=f"kubeconfig {tmp_path / 'a'} does not exist"):
        load(tmp_path / "a")


def test_a_name_no_file_holds_names_every_file(two_files: tuple[Path, Path]) -> None:
    first, second = two_files
    with pytest.raises(InvalidInput) as caught:
        load([first, second], "nowhere")
    message = str(caught.value)
    assert "contexts: no entry named 'nowhere' in any of" in message
    assert str(first) in message
    assert str(second) in message
