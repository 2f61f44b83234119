"""Promotion of an app spec: the image that runs in one environment becomes another's.

The image (repository, tag, digest, pull policy) of ``FROM``'s merged spec is written as
``environments.<TO>.image`` in the app's file with a minimal text edit. The edited file is
loaded again and compared with the original, environment by environment: the promotion
fails rather than commit a file in which anything but ``TO``'s image changed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hakobu.errors import OperationFailed
from hakobu.model.appspec import AppSpec, Image, load_app
from hakobu.repo.overrides import set_override

PROMOTED_FIELDS = ("image",)


@dataclass(frozen=True)
class SpecPromotion:
    app: str
    before: str  # TO's image reference before
    after: str  # FROM's, now TO's
    text: str  # the spec file's new content


def promote_spec(
    app: str, file: Path, text: str, from_env: str, to_env: str
) -> SpecPromotion | None:
    """The edited spec, or None when ``to_env`` already runs ``from_env``'s image."""
    spec = load_app(file, text)
    source = spec.for_environment(from_env).image
    target = spec.for_environment(to_env).image
    if source == target:
        return None
    edited = set_override(text, file, to_env, "image", _value(source))
    _check_only_image(spec, load_app(file, edited), to_env, source, file)
    return SpecPromotion(app, target.reference, source.reference, edited)


def _value(image: Image) -> str | dict[str, Any]:
    if image.pull_policy is None:
        return image.reference
    # Keys set to null remove what the base spec says, so the result is exactly this image.
    return {
        "repository": image.repository,
        "tag": image.tag,
        "digest": image.digest,
        "pullPolicy": image.pull_policy,
    }


def _check_only_image(
    before: AppSpec, after: AppSpec, to_env: str, image: Image, file: Path
) -> None:
    names = {"", *before.environments, *after.environments, to_env}
    for env in sorted(names):
        old = _comparable(before.for_environment(env) if env else before)
        new = _comparable(after.for_environment(env) if env else after)
        if env == to_env:
            old = replace(old, image=image)
        if old != new:
            raise OperationFailed(
                f"{file}: writing environments.{to_env}.image would change more than "
                f"{to_env}'s image" + (f" (environment {env})" if env != to_env else ""),
                hint=f"set environments.{to_env}.image by hand to {image.reference}",
            )


def _comparable(spec: AppSpec) -> AppSpec:
    # A patch's location is its line in the file, which an inserted line shifts.
    patches = tuple(replace(p, location="") for p in spec.patches)
    return replace(spec, patches=patches, environments={})
