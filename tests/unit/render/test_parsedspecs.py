"""ParsedSpecs: one parse of each app spec for all the environments of a render."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.model.source import SourceError
from hakobu.render.parsedspecs import ParsedSpecs

FILE = Path("apps/web.yaml")
TEXT = "name: web\nimage: example.test/web:1.0.0\nlabels: {team: shop}\n"


def test_the_same_text_is_parsed_and_checked_once() -> None:
    specs = ParsedSpecs()
    first = specs.spec(FILE, TEXT, None)
    assert specs.spec(FILE, TEXT, None) is first
    assert specs.document(FILE, TEXT) is specs.document(FILE, TEXT)
    assert first.labels == {"team": "shop"}


def test_other_text_or_other_defaults_give_their_own_spec() -> None:
    specs = ParsedSpecs()
    plain = specs.spec(FILE, TEXT, None)
    edited = specs.spec(FILE, TEXT.replace("1.0.0", "1.0.1"), None)
    assert edited.image.tag == "1.0.1" and plain.image.tag == "1.0.0"
    based = specs.spec(FILE, TEXT, {"labels": {"example.com/cost-centre": "shop"}})
    assert based.labels == {"team": "shop", "example.com/cost-centre": "shop"}
    other = specs.spec(FILE, TEXT, {"labels": {"example.com/cost-centre": "web"}})
    assert other.labels["example.com/cost-centre"] == "web"
    # The same defaults written in another order are the same defaults.
    again = specs.spec(FILE, TEXT, {"replicas": 2, "labels": {"a": "b"}})
    assert specs.spec(FILE, TEXT, {"labels": {"a": "b"}, "replicas": 2}) is again


def test_a_spec_that_fails_fails_the_same_way_every_time() -> None:
    specs = ParsedSpecs()
    bad = "name: web\nimage: example.test/web:1.0.0\nreplicas: many\n"
    messages = []
    for _ in range(2):
        with pytest.raises(SourceError) as caught:
            specs.spec(FILE, bad, None)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith("apps/web.yaml:3: replicas:")
