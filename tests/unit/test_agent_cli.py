"""The command line of ``hakobu agent``: what it refuses before touching git or a cluster."""

from __future__ import annotations

import argparse

import pytest

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
