"""Discovery of the modules each area contributes (routers, models, tasks, demo steps).

Areas are added by dropping a module in the right package; no central list to edit.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def submodules(package: str) -> list[ModuleType]:
    """Every module directly inside ``package``, imported, in name order."""
    pkg = importlib.import_module(package)
    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))
    return [importlib.import_module(f"{package}.{name}") for name in names]


def modules_named(leaf: str, root: str = "cxloop") -> list[ModuleType]:
    """Every module called ``leaf`` or ``*_leaf`` (e.g. ``tasks``, ``feedback_tasks``)
    anywhere below ``root``."""
    pkg = importlib.import_module(root)
    found = []
    for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{root}."):
        name = info.name.rsplit(".", 1)[-1]
        if name == leaf or name.endswith(f"_{leaf}"):
            found.append(importlib.import_module(info.name))
    return sorted(found, key=lambda m: m.__name__)
