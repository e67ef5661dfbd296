"""The demo company: a bilingual home-and-living retailer, deterministic from a seed.

Each area adds its data in a module of this package that defines ``ORDER`` (when it runs)
and ``add(ctx)``; :func:`load_demo` runs them all in one transaction.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.plugins import submodules
from cxloop.store.engine import session_scope
from cxloop.store.models.customers import Customer
from cxloop.store.models.org import OrgUnit, User

DEMO_PASSWORD = "cxloop-demo-2026"


@dataclass
class DemoContext:
    session: Session
    settings: Settings
    rng: random.Random
    now: datetime
    units: dict[str, OrgUnit] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    customers: list[Customer] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def stores(self) -> list[OrgUnit]:
        return [u for u in self.units.values() if u.kind == "store"]


def demo_steps() -> list[Any]:
    steps = [m for m in submodules(__name__) if hasattr(m, "add")]
    return sorted(steps, key=lambda m: (getattr(m, "ORDER", 50), m.__name__))


def load_demo(settings: Settings, *, seed: int = 7, console: Console | None = None) -> bool:
    """Fill an empty database with the demo company; ``False`` when it already has data."""
    # Anchored to today's midnight so the story is always recent, yet the same all day.
    today = datetime.combine(datetime.now(UTC).date(), time(), tzinfo=UTC)
    with session_scope(settings.resolved_database_url) as session:
        if session.scalar(select(func.count()).select_from(OrgUnit)):
            return False
        ctx = DemoContext(session, settings, random.Random(seed), today)
        for step in demo_steps():
            if console:
                console.print(f"demo: {step.__name__.rsplit('.', 1)[-1]}")
            step.add(ctx)
            session.flush()
    return True
