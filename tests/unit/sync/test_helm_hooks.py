"""Charts' hook annotations, read as Argo CD reads them."""

from __future__ import annotations

import pytest

from hakobu.errors import InvalidInput
from hakobu.sync.ordering import Phase
from hakobu.sync.ownership import Owner
from hakobu.sync.plan import Action, DeletePolicy, plan_app
from hakobu.sync.policy import ApplyPolicy
from hakobu.sync.prune import verdict
from tests.unit.sync.test_plan import OWNER, configmap, resource


@pytest.mark.parametrize(
    ("events", "phase"),
    [
        ("pre-install", Phase.PRE_SYNC),
        ("pre-upgrade", Phase.PRE_SYNC),
        ("pre-install,pre-upgrade", Phase.PRE_SYNC),
        ("post-install", Phase.POST_SYNC),
        ("post-install, post-upgrade", Phase.POST_SYNC),
        ("pre-install,post-install", Phase.PRE_SYNC),
        ("post-upgrade,pre-delete", Phase.POST_SYNC),
    ],
)
def test_install_and_upgrade_events_map_to_phases(events: str, phase: Phase) -> None:
    hook = resource(configmap("migrate", **{"helm.sh/hook": events}))
    assert hook.hook
    assert hook.phase is phase
    assert hook.policy is ApplyPolicy.OVERRIDE
    # Helm's default, and Argo CD's: the previous copy goes before the new one is made.
    assert hook.delete_policies == {DeletePolicy.BEFORE_HOOK_CREATION}


@pytest.mark.parametrize(
    "events", ["test", "test-success", "pre-delete", "post-delete", "pre-rollback,post-rollback"]
)
def test_events_argo_cd_does_not_run_make_a_hook_that_never_runs(events: str) -> None:
    hook = resource(configmap("check", **{"helm.sh/hook": events}))
    plain = resource(configmap("settings"))
    plan = plan_app(OWNER, [hook, plain], {}, [])
    assert [s.resource.id.name for s in plan.steps] == ["settings"]
    assert [r.id.name for r in plan.ignored] == ["check"]
    # Never part of the inventory, so never pruned either.
    assert {e.id.name for e in plan.inventory} == {"settings"}


def test_crd_install_is_not_a_hook() -> None:
    crd = resource(configmap("defs", **{"helm.sh/hook": "crd-install"}))
    assert not crd.hook
    assert crd.phase is Phase.SYNC


def test_hook_weight_is_the_wave_unless_a_sync_wave_is_set() -> None:
    weighted = resource(
        configmap("migrate", **{"helm.sh/hook": "pre-install", "helm.sh/hook-weight": "-5"})
    )
    assert weighted.wave == -5
    # Argo CD reads the weight on any object, hook or not.
    assert resource(configmap("plain", **{"helm.sh/hook-weight": "3"})).wave == 3
    both = resource(configmap("both", **{"helm.sh/hook-weight": "3", "hakobu.dev/sync-wave": "7"}))
    assert both.wave == 7


def test_hakobu_hook_wins_over_the_charts() -> None:
    hook = resource(
        configmap("migrate", **{"hakobu.dev/hook": "PostSync", "helm.sh/hook": "pre-install"})
    )
    assert hook.phase is Phase.POST_SYNC


def test_delete_policies_map_and_join_hakobus() -> None:
    hook = resource(
        configmap(
            "migrate",
            **{
                "helm.sh/hook": "pre-upgrade",
                "helm.sh/hook-delete-policy": "hook-succeeded, before-hook-creation",
                "hakobu.dev/hook-delete-policy": "HookFailed",
            },
        )
    )
    assert hook.delete_policies == {
        DeletePolicy.HOOK_SUCCEEDED,
        DeletePolicy.BEFORE_HOOK_CREATION,
        DeletePolicy.HOOK_FAILED,
    }
    plan = plan_app(OWNER, [hook], {hook.id: hook.obj}, [])
    assert plan.steps[0].action is Action.RECREATE


@pytest.mark.parametrize(
    ("annotation", "value"),
    [("helm.sh/hook-weight", "first"), ("helm.sh/hook-delete-policy", "never")],
)
def test_bad_chart_annotations_name_the_object(annotation: str, value: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        resource(configmap("migrate", **{"helm.sh/hook": "pre-install", annotation: value}))
    message = str(raised.value)
    assert "ConfigMap/dev/migrate" in message
    assert annotation in message and value in message


def test_resource_policy_keep_is_never_pruned() -> None:
    owner = Owner("shop", "dev", "web")
    live = configmap("data", **{"helm.sh/resource-policy": "keep"})
    live["metadata"]["labels"] = owner.labels
    judged = verdict(live, owner)
    assert not judged.prune
    assert "helm.sh/resource-policy" in judged.reason
