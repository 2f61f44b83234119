"""The base images a Dockerfile names."""

from __future__ import annotations

import pytest

from hakobu.errors import InvalidInput
from hakobu.images.dockerfile import base_images


def refs(text: str, **build_args: str) -> list[str]:
    return [use.reference for use in base_images(text, "Dockerfile", build_args)]


def test_stages_are_not_images_and_every_stage_counts() -> None:
    text = """\
FROM --platform=$BUILDPLATFORM golang:1.22 AS Build
RUN go build
FROM build AS test
FROM gcr.example.com/distroless:nonroot
COPY --from=build /out /app
COPY --from=0 /out /app2
COPY --from=registry.example.com/tools:1 /bin/tool /bin/
RUN --mount=type=cache,target=/root --mount=type=bind,from=registry.example.com/x:2,target=/x make
FROM scratch
"""
    assert refs(text) == [
        "golang:1.22",
        "gcr.example.com/distroless:nonroot",
        "registry.example.com/tools:1",
        "registry.example.com/x:2",
    ]


def test_arg_defaults_build_args_and_substitutions() -> None:
    text = """\
ARG REGISTRY=registry.example.com
ARG BASE="${REGISTRY}/shop/base"
ARG TAG
FROM ${BASE}:${TAG:-latest}
FROM $REGISTRY/shop/other:${TAG:+pinned}
"""
    assert refs(text) == [
        "registry.example.com/shop/base:latest",
        "registry.example.com/shop/other:",
    ]
    assert refs(text, TAG="7") == [
        "registry.example.com/shop/base:7",
        "registry.example.com/shop/other:pinned",
    ]
    assert refs(text, BASE="mirror.example.com/base")[0] == "mirror.example.com/base:latest"
    # A build argument for an undeclared ARG changes nothing, as in docker build.
    assert refs("FROM ${X:-alpine}\n", X="other") == ["alpine"]


def test_from_is_also_kept_as_written() -> None:
    text = 'ARG BASE=a:1\nFROM "${BASE}"\nFROM --platform=x b:2\nARG BASE\nCOPY --from=$BASE /x /\n'
    uses = [(use.reference, use.written) for use in base_images(text, "Dockerfile", {})]
    # buildah matches a --from source after expansion, so that is "as written" for it.
    assert uses == [("a:1", '"${BASE}"'), ("b:2", "b:2"), ("a:1", "a:1")]


def test_stage_args_take_the_global_default() -> None:
    text = "ARG IMG=registry.example.com/a:1\nFROM scratch\nARG IMG\nCOPY --from=$IMG /x /y\n"
    assert refs(text) == ["registry.example.com/a:1"]


def test_continuations_comments_heredocs_and_escape_directive() -> None:
    text = """\
# escape=`
FROM registry.example.com/a:1 `
  AS first
RUN <<SCRIPT
FROM not-an-instruction
SCRIPT
# FROM commented
from registry.example.com/b:2
"""
    assert refs(text) == ["registry.example.com/a:1", "registry.example.com/b:2"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM\n", "expected `FROM image"),
        ("FROM a AS\n", "expected `FROM image"),
        ("ARG X\nFROM $X\n", "expands to nothing"),
        ("FROM ${X:?set X}\n", "X: set X"),
        ("FROM ${X\n", "unterminated"),
    ],
)
def test_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=rf"Dockerfile:\d: .*{message}"):
        refs(text)
