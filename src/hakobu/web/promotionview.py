"""What a promotion FROM → TO would carry, side by side: per app, the images and sync state
each environment runs now, and the values ``promote: {values: […]}`` names in hakobu.yaml,
as each environment holds them. Read-only: it reads the monitor's snapshots and the
project file, not git history or the cluster."""

from __future__ import annotations

from typing import Any

from hakobu.model.project import Environment, Project
from hakobu.web.snapshot import EnvSnapshot

_ABSENT = {"absent": True}


def promotion(project: Project, source: EnvSnapshot, target: EnvSnapshot) -> dict[str, Any]:
    apps = []
    for name in sorted(source.apps.keys() | target.apps.keys()):
        before, after = source.apps.get(name), target.apps.get(name)
        apps.append(
            {
                "app": name,
                "from": before.json() if before else None,
                "to": after.json() if after else None,
                "same_images": bool(before and after and before.images == after.images),
            }
        )
    values = [
        {
            "path": ".".join(path),
            "from": _value(project.environment(source.env), path),
            "to": _value(project.environment(target.env), path),
        }
        for path in project.promoted_values
    ]
    for value in values:
        value["same"] = value["from"] == value["to"]
    return {
        "from": {"env": source.env, "revision": source.revision},
        "to": {"env": target.env, "revision": target.revision},
        "apps": apps,
        "values": values,
    }


def _value(env: Environment, path: tuple[str, ...]) -> Any:
    """The value at ``path`` in the environment's values, or a marker that it is absent."""
    data: Any = env.values
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return _ABSENT
        data = data[key]
    return {"value": data}
