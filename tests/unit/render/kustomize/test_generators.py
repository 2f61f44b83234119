"""configMapGenerator and secretGenerator: unit cases and the real kustomize as oracle."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.errors import InvalidInput
from hakobu.model.source import SourceError, load_one
from hakobu.render.kustomize.generators import (
    Generated,
    generate,
    merge_generated,
    merged_hash_suffix,
)
from hakobu.render.kustomize.hashing import with_hash_suffix
from hakobu.render.kustomize.resource import NEEDS_HASH_SUFFIX

BINARY = bytes([0xFF, 0x68, 0x65, 0x6C, 0x6C, 0x6F]) * 30


def _kustomize(binary: Path, directory: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [str(binary), "build", str(directory)], capture_output=True, text=True, check=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def _final(items: list[Generated]) -> list[dict[str, Any]]:
    return [with_hash_suffix(g.object) if g.hash_suffix else g.object for g in items]


def _by_name(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects}


def _write(directory: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


KUSTOMIZATION: dict[str, Any] = {
    "generatorOptions": {
        "labels": {"team": "core", "tier": "global"},
        "annotations": {"note": "from-options"},
    },
    "configMapGenerator": [
        {
            "name": "app",
            "namespace": "shop",
            "envs": ["app.env"],
            "literals": ['GREETING="hello world"', "EQ=a=b=c", "SINGLE='x'", "MIXED=\"y'"],
            "files": ["config/settings.ini", "renamed.txt=config/other.txt", "blob.bin"],
            "options": {"labels": {"tier": "local"}, "immutable": True},
        },
        {"name": "plain", "literals": ["a=1"], "options": {"disableNameSuffixHash": True}},
        {"name": "empty"},
    ],
    "secretGenerator": [
        {"name": "creds", "literals": ["user=admin", "password=s3cr=t"], "files": ["blob.bin"]},
        {
            "name": "tls",
            "type": "kubernetes.io/tls",
            "files": ["tls.crt=config/settings.ini", "tls.key=config/other.txt"],
        },
        {"name": "nothing"},
    ],
}
FILES: dict[str, str | bytes] = {
    "app.env": (
        '\ufeff# comment\n\n   INDENTED=yes\nQUOTED="kept quotes"\nBARE\nSPACES= a b \n'
        "WINDOWS=crlf\r\nEMPTY=\nURL=http://x/?a=b\n"
    ),
    "config/settings.ini": "[main]\nkey = value\n",
    "config/other.txt": "x" * 200,
    "blob.bin": BINARY,
}


def test_matches_kustomize(kustomize_bin: Path, tmp_path: Path) -> None:
    _write(tmp_path, {**FILES, "kustomization.yaml": yaml.safe_dump(KUSTOMIZATION)})
    expected = _by_name(_kustomize(kustomize_bin, tmp_path))
    options = KUSTOMIZATION["generatorOptions"]
    ours = _final(
        generate(
            KUSTOMIZATION["configMapGenerator"],
            "ConfigMap",
            tmp_path,
            options,
            read=Path.read_bytes,
        )
        + generate(
            KUSTOMIZATION["secretGenerator"], "Secret", tmp_path, options, read=Path.read_bytes
        )
    )
    assert _by_name(ours) == expected


def test_env_file_rules(tmp_path: Path) -> None:
    _write(tmp_path, FILES)
    [made] = generate(
        [{"name": "e", "envs": ["app.env"]}], "ConfigMap", tmp_path, None, read=Path.read_bytes
    )
    assert made.object["data"] == {
        "BARE": "",
        "EMPTY": "",
        "INDENTED": "yes",
        "QUOTED": '"kept quotes"',
        "SPACES": " a b ",
        "URL": "http://x/?a=b",
        "WINDOWS": "crlf",
    }
    assert made.behavior == "create"
    assert made.hash_suffix


def test_binary_goes_to_binary_data_in_lines_of_70(tmp_path: Path) -> None:
    _write(tmp_path, FILES)
    [made] = generate(
        [{"name": "b", "files": ["blob.bin"]}], "ConfigMap", tmp_path, None, read=Path.read_bytes
    )
    assert "data" not in made.object
    lines = made.object["binaryData"]["blob.bin"].split("\n")
    assert lines[-1] == ""
    assert {len(line) for line in lines[:-2]} == {70}


MERGE_CASES = ["merge", "replace"]


@pytest.mark.parametrize("behavior", MERGE_CASES)
@pytest.mark.parametrize("base_hash", [True, False])
@pytest.mark.parametrize("overlay_hash", [True, False])
def test_merge_and_replace_match_kustomize(
    kustomize_bin: Path, tmp_path: Path, behavior: str, base_hash: bool, overlay_hash: bool
) -> None:
    base_entries = [
        {
            "name": "cm",
            "literals": ["a=1", "b=2"],
            "options": {
                "labels": {"from": "base", "keep": "me"},
                "disableNameSuffixHash": not base_hash,
            },
        }
    ]
    base_secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "sec", "labels": {"x": "1"}},
        "type": "kubernetes.io/tls",
        "data": {"old": "b2xk"},
        "stringData": {"plain": "text"},
    }
    overlay_entries = [
        {
            "name": "cm",
            "behavior": behavior,
            "literals": ["b=20", "c=30"],
            "options": {"labels": {"from": "overlay"}, "disableNameSuffixHash": not overlay_hash},
        }
    ]
    overlay_secrets = [{"name": "sec", "behavior": behavior, "literals": ["new=v"]}]
    _write(
        tmp_path,
        {
            "base/kustomization.yaml": yaml.safe_dump(
                {"configMapGenerator": base_entries, "resources": ["secret.yaml"]}
            ),
            "base/secret.yaml": yaml.safe_dump(base_secret),
            "overlay/kustomization.yaml": yaml.safe_dump(
                {
                    "resources": ["../base"],
                    "namePrefix": "p-",
                    "configMapGenerator": overlay_entries,
                    "secretGenerator": overlay_secrets,
                }
            ),
        },
    )
    expected = _by_name(_kustomize(kustomize_bin, tmp_path / "overlay"))

    [base_cm] = generate(base_entries, "ConfigMap", tmp_path / "base", None, read=Path.read_bytes)
    existing_cm = base_cm.annotated()
    existing_cm["metadata"]["name"] = "p-cm"  # the overlay's prefix applies before the merge
    [over_cm] = generate(overlay_entries, "ConfigMap", tmp_path, None, read=Path.read_bytes)
    merged_cm = merge_generated(existing_cm, over_cm.annotated(), over_cm.behavior)
    needs = NEEDS_HASH_SUFFIX in merged_cm["metadata"].get("annotations", {})
    assert needs == merged_hash_suffix(base_cm.hash_suffix, over_cm)
    del merged_cm["metadata"]["annotations"]
    [over_secret] = generate(overlay_secrets, "Secret", tmp_path, None, read=Path.read_bytes)
    merged_secret = merge_generated(
        {**base_secret, "metadata": {"name": "p-sec", "labels": {"x": "1"}}},
        over_secret.object,
        over_secret.behavior,
    )
    ours = [with_hash_suffix(merged_cm) if needs else merged_cm, merged_secret]
    assert _by_name(ours) == expected


def test_errors_name_the_entry_and_line(tmp_path: Path) -> None:
    text = "configMapGenerator:\n- name: app\n  literals:\n  - a=1\n  - a=2\n"
    document = load_one(tmp_path / "kustomization.yaml", text)
    with pytest.raises(SourceError) as caught:
        generate(
            document.data["configMapGenerator"],
            "ConfigMap",
            tmp_path,
            None,
            read=Path.read_bytes,
            document=document,
        )
    message = str(caught.value)
    assert message.startswith(
        f"{tmp_path / 'kustomization.yaml'}:5: configMapGenerator[0].literals[1]:"
    )
    assert "configMapGenerator[0] (app)" in message
    assert "'a' appears more than once" in message


@pytest.mark.parametrize(
    ("entry", "files", "fragment"),
    [
        ({"name": "x", "files": ["missing.txt"]}, {}, "'missing.txt' does not exist"),
        (
            {"name": "x", "envs": ["bad.env"]},
            {"bad.env": "export A=1\n"},
            "bad.env:1: 'export A' is not a valid key",
        ),
        (
            {"name": "x", "envs": ["bin.env"]},
            {"bin.env": b"A=\xff\n"},
            "bin.env:1: not valid UTF-8",
        ),
        ({"name": "x", "literals": ["novalue"]}, {}, "expected KEY=VALUE"),
        ({"name": "x", "literals": ["=v"]}, {}, "expected KEY=VALUE"),
        ({"name": "x", "literals": ["a b=v"]}, {}, "key 'a b' may only contain"),
        ({"name": "x", "literals": ["..a=v"]}, {}, "may not be '.' or '..'"),
        ({"name": "x", "files": ["k=a=b"]}, {}, "contains '='"),
        ({"name": "x", "files": ["=a"]}, {}, "missing key"),
        ({"name": "x", "files": ["k="]}, {}, "missing path"),
        (
            {"name": "x", "files": ["f.txt", "f.txt"]},
            {"f.txt": "1"},
            "'f.txt' appears more than once",
        ),
        ({"literals": ["a=1"]}, {}, "a name is required"),
        ({"name": "x", "behavior": "upsert"}, {}, "behavior must be create, merge or replace"),
        ({"name": "x", "type": "Opaque"}, {}, "unknown field 'type'"),
        ({"name": "x", "options": {"labels": {"a": 1}}}, {}, "expected a string, got int"),
        ({"name": "x", "options": {"immutable": "yes"}}, {}, "expected true or false"),
    ],
)
def test_invalid_entries(
    tmp_path: Path, entry: dict[str, Any], files: dict[str, str | bytes], fragment: str
) -> None:
    _write(tmp_path, files)
    with pytest.raises(InvalidInput, match="configMapGenerator\\[0\\]") as caught:
        generate([entry], "ConfigMap", tmp_path, None, read=Path.read_bytes)
    assert fragment in str(caught.value)


def test_read_callback_errors_pass_through(tmp_path: Path) -> None:
    def restricted(path: Path) -> bytes:
        raise InvalidInput(f"{path} is outside the kustomization root")

    with pytest.raises(InvalidInput, match="outside the kustomization root"):
        generate(
            [{"name": "x", "files": ["../etc/passwd"]}], "Secret", tmp_path, None, read=restricted
        )


def test_generated_objects_are_deterministic(tmp_path: Path) -> None:
    _write(tmp_path, FILES)
    runs = [
        _final(
            generate(
                KUSTOMIZATION["configMapGenerator"],
                "ConfigMap",
                tmp_path,
                None,
                read=Path.read_bytes,
            )
        )
        for _ in range(2)
    ]
    assert yaml.safe_dump(runs[0]) == yaml.safe_dump(runs[1])
