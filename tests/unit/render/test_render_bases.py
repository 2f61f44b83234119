"""The bases of one render: each version read and compiled once, shared by its apps, and
still recorded as an input of every app on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.model.appspec import load_app_document
from hakobu.model.project import load_project
from hakobu.model.source import load_one
from hakobu.render.bases import RenderBases, chosen_base
from hakobu.render.inputs import Inputs
from hakobu.render.sandbox import TemplateSandbox
from tests.unit.render.test_project import project

__all__ = ["project"]  # the fixture: a project `hakobu init` wrote, committed to git


@pytest.fixture
def two_on_web2(project: Path) -> Path:
    """The example with a second app, ``api2``, on web@2 beside ``api``."""
    spec = (project / "apps" / "api.yaml").read_text()
    (project / "apps" / "api2.yaml").write_text(spec.replace("name: api", "name: api2"))
    return project


def _render_objects(bases: RenderBases, project: Path, app: str, inputs: Inputs) -> list[str]:
    loaded = load_project(project)
    env = loaded.environments[0]
    file = project / "apps" / f"{app}.yaml"
    document = load_one(file, file.read_text())
    chosen = chosen_base(document, env.name, env.base, loaded.file)
    assert chosen is not None
    base = bases.load(chosen, inputs)
    spec = load_app_document(document, base.defaults)
    added = bases.apply(
        base, spec, [], environment=env.name, namespace=env.namespace, inputs=inputs
    )
    return [f"{obj['kind']}/{obj['metadata']['name']}" for obj in added]


def test_apps_on_one_version_share_its_base_and_each_records_its_files(
    two_on_web2: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandboxes: list[TemplateSandbox] = []
    original = TemplateSandbox.__init__

    def counted(self: TemplateSandbox, *args: object, **kwargs: object) -> None:
        sandboxes.append(self)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(TemplateSandbox, "__init__", counted)
    bases = RenderBases(two_on_web2.resolve(), {})
    first, second = Inputs(), Inputs()
    assert _render_objects(bases, two_on_web2, "api", first) == [
        "NetworkPolicy/api",
        "ServiceMonitor/api",
    ]
    assert _render_objects(bases, two_on_web2, "api2", second) == [
        "NetworkPolicy/api2",
        "ServiceMonitor/api2",
    ]
    # One sandbox compiled the version's templates for both apps.
    assert len(sandboxes) == 1
    version = two_on_web2.resolve() / "platform" / "bases" / "web" / "2"
    expected = {
        ("file", str(version / "base.yaml")),
        ("file", str(version / "values.schema.json")),
        ("dir", str(version / "templates")),
        ("file", str(version / "templates" / "networkpolicy.yaml.j2")),
        ("file", str(version / "templates" / "servicemonitor.yaml.j2")),
    }
    for inputs in (first, second):
        assert expected <= set(inputs.recorded)


def test_a_budget_is_each_apps_own(two_on_web2: Path) -> None:
    """A template past its bound for one app fails that app, and the next app on the same
    compiled version starts with a whole budget."""
    template = two_on_web2 / "platform" / "bases" / "web" / "2" / "templates" / "loop.yaml.j2"
    # One name in allowFrom: about 200,000 steps; the bound is 250,000 per app.
    template.write_text(
        "{% for i in range(values.allowFrom | length * 100000) %}{% endfor %}"
        "{% for i in range(values.allowFrom | length * 100000) %}{% endfor %}\n"
    )
    bases = RenderBases(two_on_web2.resolve(), {})
    for app in ("api", "api2", "api"):
        # Inside the bound every time only if each render starts from zero.
        _render_objects(bases, two_on_web2, app, Inputs())
