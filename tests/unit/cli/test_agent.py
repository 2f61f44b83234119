"""The command line of ``hakobu agent``: what it refuses before touching git or a cluster."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from hakobu.agent.checkout import remote_url
from hakobu.cli import agent
from hakobu.errors import InvalidInput


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hakobu")
    agent.register(parser.add_subparsers(required=True))
    return parser.parse_args(["agent", *argv])


@pytest.mark.parametrize("interval", ["0", "-5"])
def test_the_interval_must_be_positive(interval: str) -> None:
    args = parse("--env", "dev", "--repo", ".", "--interval", interval)
    with pytest.raises(InvalidInput, match="--interval"):
        args.handler(args)


def test_env_and_repo_are_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        parse("--repo", ".")
    assert raised.value.code == 2
    assert "--env" in capsys.readouterr().err


def test_defaults_follow_main_every_thirty_seconds() -> None:
    args = parse("--env", "dev", "--repo", "git@example.com:shop.git")
    assert (args.branch, args.interval, args.once, args.prune) == ("main", 30.0, False, False)


def test_a_missing_local_repository_is_named_as_a_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.git"
    args = parse("--env", "dev", "--repo", str(missing), "--once")
    with pytest.raises(InvalidInput) as raised:
        args.handler(args)
    assert raised.value.exit_code == 2
    assert raised.value.message == f"--repo {missing}: the path {missing} does not exist"


@pytest.mark.parametrize(
    "url", ["git@example.com:shop.git", "https://example.com/shop.git", "file:///srv/shop.git"]
)
def test_urls_are_passed_to_git_as_given(url: str) -> None:
    assert remote_url(url) == url


@pytest.mark.parametrize("path", ["shop", "./with:colon", "~/shop.git"])
def test_anything_else_is_a_path_as_git_reads_it(
    path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(InvalidInput, match="does not exist"):
        remote_url(path)
    (tmp_path / path.removeprefix("~/")).mkdir()
    assert remote_url(path) == str((tmp_path / path.removeprefix("~/")).resolve())
