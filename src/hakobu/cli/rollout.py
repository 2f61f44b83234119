"""``hakobu rollout status|promote|abort|retry|run ENV APP``: canary and blue-green
rollouts by hand."""

from __future__ import annotations

import argparse

from hakobu.cli.kube import add_cluster_options, connect
from hakobu.cli.options import add_output_option, add_project_option, load
from hakobu.cli.output import Progress, print_json
from hakobu.model.bluegreen import stages
from hakobu.model.canary import Analysis, Pause, SetWeight
from hakobu.releases.canary.bluegreen import BlueGreenRollout
from hakobu.releases.canary.driver import drive
from hakobu.releases.canary.engine import find
from hakobu.releases.canary.strategy import AnyRollout, request, status
from hakobu.releases.canary.summary import rollout_json

_ACTIONS = {
    "status": "show the step, the weights, the replicas of each side and the measurements",
    "promote": "go past the current pause, or an Inconclusive analysis",
    "abort": "scale the canary (or the preview) away; the stable version serves everything "
    "(Degraded)",
    "retry": "start an aborted or Inconclusive rollout again from its first step",
    "run": "advance the rollout until it is promoted, aborted or waits for a person",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "rollout",
        help="a canary or blue-green rollout's state; promote, abort or retry it",
        description="A canary rollout moves a rising share of an app's replicas to its new "
        "version, step by step; a blue-green one runs the new version beside the old behind "
        "a preview Service and switches the app's Service to it (rollout: in the app spec). "
        "Its state lives on the app's "
        "Deployment in the cluster; these commands read and change it. Exit codes: 0 done "
        "or waiting, 1 the rollout is Degraded (aborted), 2 invalid input.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, help_text in _ACTIONS.items():
        sub = actions.add_parser(action, help=help_text, description=help_text)
        sub.add_argument("env", metavar="ENV", help="the environment, as named in hakobu.yaml")
        sub.add_argument("app", metavar="APP", help="the app")
        add_project_option(sub)
        add_cluster_options(sub)
        add_output_option(sub)
        sub.set_defaults(handler=_rollout)


def _rollout(args: argparse.Namespace) -> int:
    project = load(args)
    env = project.environment(args.env)
    with connect(args, log=Progress()) as kube:
        namespace, name = find(kube, project.name, env.name, args.app)
        if args.action in ("promote", "abort", "retry"):
            request(kube, namespace, name, args.action)
        if args.action == "run":
            drive(kube, namespace, name)
        rollout = status(kube, namespace, name)
    if args.output == "json":
        print_json(rollout_json(rollout))
    else:
        print(rollout_text(rollout))
    return 1 if rollout.state is not None and rollout.state.phase == "Degraded" else 0


# The request is recorded on the Deployment; the controller's next pass (or `rollout run`)
# acts on it, so the state printed right after still shows the pause.
PROMOTION_REQUESTED = (
    "  promotion requested: the controller, or `hakobu rollout run`, carries it out"
)


def rollout_text(rollout: AnyRollout) -> str:
    if isinstance(rollout, BlueGreenRollout):
        return _blue_green_text(rollout)
    state = rollout.state
    phase = state.phase if state else "Healthy"
    lines = [
        f"{rollout.name}: {phase}" + (f" — {state.message}" if state and state.message else "")
    ]
    if state is not None and state.promote and state.phase != "Healthy":
        lines.append(PROMOTION_REQUESTED)
    if state is not None and state.phase != "Healthy":
        steps = rollout.canary.steps
        shown = _describe(steps[state.step]) if state.step < len(steps) else "done"
        lines.append(f"  step {min(state.step + 1, len(steps))}/{len(steps)}: {shown}")
    lines.append(
        f"  weight {rollout.weight}%: canary {rollout.canary_ready}/{rollout.canary_replicas} "
        f"ready, stable {rollout.stable_replicas}"
    )
    for m in state.measurements if state else ():
        lines.append(f"  measurement {m.verdict.value}: {m.message}")
    for m in rollout.background:
        lines.append(f"  background measurement {m.verdict.value}: {m.message}")
    return "\n".join(lines)


def _describe(step: SetWeight | Pause | Analysis) -> str:
    if isinstance(step, SetWeight):
        return f"setWeight {step.weight}"
    if isinstance(step, Pause):
        return "pause until promoted" if step.seconds is None else f"pause {step.seconds:g}s"
    if step.web is not None:
        return f"analysis of {step.web.method} {step.web.url}"
    return f"analysis of {step.query!r}"


def _blue_green_text(rollout: BlueGreenRollout) -> str:
    state = rollout.state
    phase = state.phase if state else "Healthy"
    lines = [
        f"{rollout.name}: {phase}" + (f" — {state.message}" if state and state.message else "")
    ]
    if state is not None and state.promote and state.phase != "Healthy":
        lines.append(PROMOTION_REQUESTED)
    if state is not None and rollout.stage is not None:
        path = stages(rollout.blue_green)
        lines.append(f"  stage {path.index(rollout.stage) + 1}/{len(path)}: {rollout.stage}")
    blue_green = rollout.blue_green
    lines.append(
        f"  active Service {blue_green.active(rollout.name)} → "
        f"{rollout.active_revision or 'every pod'}, preview Service "
        f"{blue_green.preview(rollout.name)} → {rollout.preview_revision or 'every pod'}"
    )
    lines.append(
        f"  replicas {rollout.replicas}, preview {rollout.preview_ready}/"
        f"{rollout.preview_replicas} ready"
    )
    for m in state.measurements if state else ():
        lines.append(f"  measurement {m.verdict.value}: {m.message}")
    return "\n".join(lines)
