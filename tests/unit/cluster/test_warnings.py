"""The API server's ``Warning`` headers as the client reads them: which resource a path
reads, and the text inside RFC 7234's ``299 - "text"``."""

from __future__ import annotations

import pytest

from hakobu.cluster.client import resource_key, warning_text


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/api/v1/namespaces", ("", "v1", "namespaces")),
        ("/api/v1/namespaces/shop", ("", "v1", "namespaces")),
        ("/api/v1/namespaces/shop/configmaps", ("", "v1", "configmaps")),
        ("/api/v1/namespaces/shop/configmaps/web", ("", "v1", "configmaps")),
        ("/apis/example.com/v1beta1/widgets?watch=1", ("example.com", "v1beta1", "widgets")),
        (
            "/apis/example.com/v1beta1/namespaces/shop/widgets/w",
            ("example.com", "v1beta1", "widgets"),
        ),
        ("/version", None),
        ("/apis", None),
    ],
)
def test_the_resource_a_path_reads(path: str, key: tuple[str, str, str] | None) -> None:
    assert resource_key(path) == key


def test_the_text_of_a_warning_header() -> None:
    assert warning_text('299 - "batch/v1beta1 CronJob is deprecated"') == (
        "batch/v1beta1 CronJob is deprecated"
    )
    assert warning_text(r'299 - "a \"quoted\" word" "Mon, 01 Jan 2024 00:00:00 GMT"') == (
        'a "quoted" word'
    )
    assert warning_text("not in the usual form") == "not in the usual form"
