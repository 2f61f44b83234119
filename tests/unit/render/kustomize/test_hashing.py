"""The content-hash suffix, checked against names the real kustomize prints."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from hakobu.render.kustomize.hashing import (
    encode_digest,
    go_json,
    hash_input,
    name_hash,
    with_hash_suffix,
)


def _config_map(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def test_encoding_swaps_digits_and_vowels() -> None:
    assert encode_digest("0123456789abcdef") == "gh2k456789"
    assert encode_digest("aeaeaeaeae00") == "mtmtmtmtmt"
    with pytest.raises(ValueError, match="10 hex"):
        encode_digest("abc")


def test_go_json_escapes_like_go() -> None:
    assert (
        go_json({"b": "<&>", "a": "\u2028\x01\n"})
        == '{"a":"\\u2028\\u0001\\n","b":"\\u003c\\u0026\\u003e"}'
    )
    assert go_json([1, 2.5, True, None]) == "[1,2.5,true,null]"


def test_name_does_not_enter_the_hash() -> None:
    # kustomize looks the name up under the literal key "metadata/name", which never exists.
    assert (
        hash_input(_config_map("web", {"a": "1"}))
        == '{"data":{"a":"1"},"kind":"ConfigMap","name":""}'
    )
    assert name_hash(_config_map("web", {"a": "1"})) == name_hash(_config_map("p-web", {"a": "1"}))


def test_known_hashes() -> None:
    # Names printed by kustomize v5.8.2 for these objects.
    assert name_hash(_config_map("cm", {"a": "1", "b": "<&>"})) == "f986b78m9b"
    assert name_hash(_config_map("cm", {"a": "1", "b": "<&>", "c": "3"})) == "h98864mbtb"


def test_secret_hash_includes_type_and_missing_data_is_blank() -> None:
    secret = {"kind": "Secret", "metadata": {"name": "s"}, "type": "Opaque"}
    assert hash_input(secret) == '{"data":"","kind":"Secret","name":"","type":"Opaque"}'
    tls = {**secret, "type": "kubernetes.io/tls"}
    assert name_hash(tls) != name_hash(secret)


def test_other_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="Deployment"):
        name_hash({"kind": "Deployment", "metadata": {"name": "x"}})


def test_with_hash_suffix_leaves_the_input_alone() -> None:
    original = _config_map("web", {"a": "1"})
    suffixed = with_hash_suffix(original)
    assert suffixed["metadata"]["name"] == f"web-{name_hash(original)}"
    assert original["metadata"]["name"] == "web"


_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


@given(
    st.dictionaries(st.from_regex(r"[a-z][a-z0-9._-]{0,8}", fullmatch=True), _text, max_size=4),
    st.text(min_size=1, max_size=8),
)
def test_hash_ignores_name_and_key_order(data: dict[str, str], name: str) -> None:
    suffix = name_hash(_config_map("x", data))
    assert name_hash(_config_map(name, dict(reversed(data.items())))) == suffix
    assert len(suffix) == 10
    assert not set(suffix) & set("013ae")


def test_matches_kustomize_on_awkward_values(kustomize_bin: Path, tmp_path: Path) -> None:
    values = {
        "html": "<a href='x'>&amp;</a>",
        "ctrl": "tab\there",
        "unicode": "héllo ☃ \u2028 line",
        "multi": "line one\nline two\n",
        "quote": 'say "hi" \\ back',
    }
    literals = [f"{k}={v}" for k, v in values.items()]
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "configMapGenerator": [{"name": "cm", "literals": literals}],
                "secretGenerator": [{"name": "s", "literals": literals, "type": "x/y"}],
            }
        )
    )
    out = subprocess.run(
        [str(kustomize_bin), "build", str(tmp_path)], capture_output=True, text=True, check=True
    ).stdout
    for printed in yaml.safe_load_all(out):
        base = printed["metadata"]["name"].rsplit("-", 1)
        assert name_hash(printed) == base[1], printed["kind"]
