"""A whole environment's status and diff, read from the project as the commands read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.errors import InvalidInput
from hakobu.model.project import load_project
from hakobu.sync.diff import environment_diff
from hakobu.sync.status import SyncState, environment_status
from tests.fakes.kube import FakeKube
from tests.unit.releases.test_rollback import Shop


def test_an_environment_never_synced_is_out_of_sync_and_would_be_created(
    tmp_path: Path,
) -> None:
    shop = Shop(tmp_path / "shop")
    shop.render_and_commit("web 1.27")
    kube = FakeKube()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop-dev"}})
    project = load_project(shop.root)
    dev = project.environment("dev")
    [web] = environment_status(kube, project, dev)
    assert (web.app, web.sync, web.good) == ("web", SyncState.OUT_OF_SYNC, False)
    diffs = environment_diff(kube, project, dev)
    assert {(d.app, d.change) for d in diffs} == {("web", "create")}
    assert {d.ref.split("/")[0] for d in diffs} == {"Deployment", "Service"}
    with pytest.raises(InvalidInput, match="no app named 'other'"):
        environment_diff(kube, project, dev, only_app="other")
