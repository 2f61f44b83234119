"""The rollouts of one environment, app by app, for the views that show every app at once.

A Deployment is listed once it carries a rollout's state: while the rollout runs, and after
it ended (promoted, or aborted until the next version), so a person sees how the last one
went. What is shown of each is ``status``'s reading, the same ``hakobu rollout status`` has.
"""

from __future__ import annotations

from hakobu.cluster.api import KubeApi
from hakobu.model.canary import ROLLOUT_ANNOTATION, STATE_ANNOTATION
from hakobu.releases.canary.strategy import AnyRollout, status
from hakobu.sync.ownership import APP_LABEL, ENVIRONMENT_LABEL, PROJECT_LABEL


def environment_rollouts(kube: KubeApi, project: str, environment: str) -> dict[str, AnyRollout]:
    """Each app of ``environment`` whose Deployment holds a rollout's state, by app name."""
    selector = f"{PROJECT_LABEL}={project},{ENVIRONMENT_LABEL}={environment}"
    found: dict[str, AnyRollout] = {}
    for deployment in kube.list("apps/v1", "Deployment", label_selector=selector).items:
        meta = deployment["metadata"]
        annotations = meta.get("annotations") or {}
        if ROLLOUT_ANNOTATION not in annotations or STATE_ANNOTATION not in annotations:
            continue
        app = (meta.get("labels") or {}).get(APP_LABEL)
        if app is not None:
            found[app] = status(kube, meta["namespace"], meta["name"])
    return found
