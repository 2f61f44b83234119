"""One repository written every way a host or a Delivery may write it compares equal."""

from __future__ import annotations

import pytest

from hakobu.controller.webhookproviders import repository_key

SAME = [
    "https://github.com/acme/shop-deploy",
    "https://github.com/acme/shop-deploy.git",
    "https://github.com/acme/shop-deploy/",
    "https://github.com/acme/shop-deploy.git/",
    "HTTPS://GitHub.COM/Acme/Shop-Deploy",
    "https://x-access-token:ghs_abc@github.com/acme/shop-deploy.git",
    "https://github.com:443/acme/shop-deploy",
    "http://github.com:80/acme/shop-deploy",
    "ssh://git@github.com/acme/shop-deploy.git",
    "ssh://git@github.com:22/acme/shop-deploy",
    "git+ssh://git@github.com/acme/shop-deploy",
    "git@github.com:acme/shop-deploy.git",
    "github.com:acme/shop-deploy",
    "git://github.com/acme/shop-deploy.git",
    "  https://github.com/acme/shop-deploy  ",
]

DIFFERENT = [
    "https://github.com/acme/shop-deploy-old",
    "https://github.com/other/shop-deploy",
    "https://gitlab.com/acme/shop-deploy",
    "https://github.com/acme/shop",
    "https://github.com/acme/shop-deploy/sub",
    "ssh://git@github.com:2222/acme/shop-deploy",
    "https://github.com:8443/acme/shop-deploy",
    "/srv/git/acme/shop-deploy.git",
]


@pytest.mark.parametrize("url", SAME)
def test_forms_of_one_repository_are_equal(url: str) -> None:
    assert repository_key(url) == repository_key(SAME[0])


@pytest.mark.parametrize("url", DIFFERENT)
def test_other_repositories_differ(url: str) -> None:
    assert repository_key(url) != repository_key(SAME[0])


def test_a_non_default_port_is_kept_and_matches_itself() -> None:
    assert repository_key("ssh://git@gitea.example.com:2222/acme/shop.git") == repository_key(
        "ssh://gitea.example.com:2222/acme/shop"
    )


def test_nested_groups_and_local_paths() -> None:
    assert repository_key("git@gitlab.com:a/b/c/deploy.git") == repository_key(
        "https://gitlab.com/a/b/c/deploy"
    )
    assert repository_key("/srv/git/shop.git") == repository_key("/srv/git/shop/")
    assert repository_key("file:///srv/git/shop.git") == repository_key("/srv/git/shop")
