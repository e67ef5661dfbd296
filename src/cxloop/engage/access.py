"""Which units and KPIs a caller's scope reaches (out of scope answers "not found")."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.engage.hierarchy import UnitRef, unit_ref
from cxloop.engage.kpis import ScorecardError
from cxloop.store.models.org import OrgUnit
from cxloop.store.models.scorecard import Kpi
from cxloop.store.scope import Scope


class NotVisible(LookupError):
    """The thing does not exist or lies outside the caller's scope."""

    def __init__(self, what: str, field: str | None = None) -> None:
        super().__init__(f"{what} not found")
        self.what = what
        self.field = field


def top_unit(session: Session, scope: Scope) -> UnitRef:
    """The first unit of the caller's scope (the default of every dashboard)."""
    if not scope.unit_paths:
        raise NotVisible("org unit")
    path = scope.unit_paths[0]
    unit = session.scalar(select(OrgUnit).where(OrgUnit.path == path))
    if unit is None:
        raise NotVisible("org unit")
    return unit_ref(unit)


def visible_unit(
    session: Session, scope: Scope, unit_id: int | None, field: str = "unit_id"
) -> UnitRef:
    if unit_id is None:
        return top_unit(session, scope)
    if not scope.contains(session, unit_id):
        raise NotVisible(f"org unit {unit_id}", field)
    unit = session.get(OrgUnit, unit_id)
    assert unit is not None
    return unit_ref(unit)


def visible_kpi(session: Session, scope: Scope, kpi_id: int) -> Kpi:
    """A KPI the caller can read: defined in their scope or inherited by a unit in it."""
    kpi = session.get(Kpi, kpi_id)
    if kpi is None:
        raise NotVisible("kpi")
    if scope.contains(session, kpi.org_unit_id):
        return kpi
    path = session.scalar(select(OrgUnit.path).where(OrgUnit.id == kpi.org_unit_id))
    if path is not None and any(p.startswith(path) for p in scope.unit_paths):
        return kpi
    raise NotVisible("kpi")


def editable_kpi(session: Session, scope: Scope, kpi_id: int) -> Kpi:
    """A KPI the caller may change: defined on a unit inside their scope."""
    kpi = visible_kpi(session, scope, kpi_id)
    if not scope.contains(session, kpi.org_unit_id):
        raise ScorecardError(
            "this KPI is set by a unit above yours; ask its owner to change it", status=403
        )
    return kpi


def check_applies(session: Session, kpi: Kpi, unit: UnitRef, field: str = "org_unit_id") -> None:
    """Targets and commentary for ``unit`` must be for a KPI that unit follows."""
    if kpi.org_unit_id not in unit.ancestor_ids:
        raise ScorecardError(
            f"KPI {kpi.id} belongs to another part of the organisation than unit {unit.id}",
            field=field,
        )
