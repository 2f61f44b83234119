"""A package's exported names stay what it exports once all its modules are imported.

Importing ``hakobu.sync.history`` (a module) used to replace the package's ``history``
function with the module, so ``from hakobu.sync import history`` gave a module or a
function depending on what had been imported before.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types

import pytest

import hakobu

PACKAGES = sorted(
    info.name for info in pkgutil.walk_packages(hakobu.__path__, "hakobu.") if info.ispkg
)


@pytest.mark.parametrize("name", PACKAGES)
def test_no_exported_name_is_shadowed_by_a_module(name: str) -> None:
    package = importlib.import_module(name)
    exported = getattr(package, "__all__", ())
    for info in pkgutil.iter_modules(package.__path__, f"{name}."):
        importlib.import_module(info.name)
    source = inspect.getsource(package)
    shadowed = [
        n
        for n in exported
        if isinstance(getattr(package, n), types.ModuleType)
        # A module exported on purpose is imported as one by the package itself.
        and f"from {name} import {n}\n" not in source
    ]
    assert not shadowed, f"{name}: {shadowed} name both an export and a module"
