"""Local clusters side by side: a state directory per name, and admin kubeconfigs whose
entries are named after the context, so ``KUBECONFIG=a:b`` keeps both."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hakobu.cluster.kubeconfig import load
from hakobu.errors import InvalidInput
from hakobu.localcluster.controlplane import named_state_dir
from hakobu.localcluster.kubeconfigs import write_kubeconfig
from hakobu.localcluster.pki import ADMIN, create_pki


def test_each_name_has_its_own_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert named_state_dir("eu") == tmp_path / "hakobu" / "clusters" / "eu"
    with pytest.raises(InvalidInput, match="expected a DNS label"):
        named_state_dir("../eu")


def test_two_admin_kubeconfigs_merge_with_both_contexts(tmp_path: Path) -> None:
    files = []
    for index, name in enumerate(("eu", "us")):
        pki = create_pki(tmp_path / name / "pki")
        path = tmp_path / name / "kubeconfig"
        write_kubeconfig(
            path,
            server=f"https://127.0.0.1:{6443 + index}",
            pki=pki,
            identity=ADMIN,
            context=name,
            embed=True,
        )
        files.append(path)
    assert yaml.safe_load(files[1].read_text())["users"][0]["name"] == "hakobu-admin@us"
    for index, name in enumerate(("eu", "us")):
        connection = load(files, name)
        assert (connection.context_name, connection.server) == (
            name,
            f"https://127.0.0.1:{6443 + index}",
        )
