"""``hakobu rollout status|promote|abort|retry|run ENV APP``: canary rollouts by hand."""

from __future__ import annotations

import argparse
from typing import Any

from hakobu.cli.kube import add_cluster_options, connect
from hakobu.cli.options import add_output_option, add_project_option, load
from hakobu.cli.output import Progress, print_json
from hakobu.model.canary import Analysis, Pause, SetWeight
from hakobu.releases.canary.analysis import Measurement
from hakobu.releases.canary.driver import drive
from hakobu.releases.canary.engine import Rollout, find, request, status

_ACTIONS = {
    "status": "show the step, the weights, the replicas of each side and the measurements",
    "promote": "go past the current pause, or an Inconclusive analysis",
    "abort": "scale the canary away; the stable version takes every replica (Degraded)",
    "retry": "start an aborted or Inconclusive rollout again from its first step",
    "run": "advance the rollout until it is promoted, aborted or waits for a person",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "rollout",
        help="a canary rollout's state; promote, abort or retry it",
        description="A canary rollout moves a rising share of an app's replicas to its new "
        "version, step by step (rollout: in the app spec). Its state lives on the app's "
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


def rollout_json(rollout: Rollout) -> dict[str, Any]:
    state = rollout.state
    return {
        "name": rollout.name,
        "phase": state.phase if state else "Healthy",
        "step": state.step if state else None,
        "steps": len(rollout.canary.steps),
        "weight": rollout.weight,
        "stableReplicas": rollout.stable_replicas,
        "canaryReplicas": rollout.canary_replicas,
        "canaryReady": rollout.canary_ready,
        "message": state.message if state else "",
        "measurements": [_measurement_json(m) for m in (state.measurements if state else ())],
        "backgroundMeasurements": [_measurement_json(m) for m in rollout.background],
    }


def _measurement_json(m: Measurement) -> dict[str, Any]:
    return {"verdict": m.verdict.value, "values": list(m.values), "message": m.message, "at": m.at}


def rollout_text(rollout: Rollout) -> str:
    state = rollout.state
    phase = state.phase if state else "Healthy"
    lines = [
        f"{rollout.name}: {phase}" + (f" — {state.message}" if state and state.message else "")
    ]
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
