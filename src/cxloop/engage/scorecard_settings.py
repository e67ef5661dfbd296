"""What the scorecard settings page edits: a unit's KPIs, its targets, the people who may
own a KPI or receive a digest, and the digest groups — all limited to the caller's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.engage.cx_sources import available
from cxloop.engage.digest import CADENCES
from cxloop.engage.hierarchy import UnitRef
from cxloop.engage.kpis import ScorecardError, kpis_for
from cxloop.store.models.metrics import MetricDefinition
from cxloop.store.models.org import OrgUnit, User, UserUnit
from cxloop.store.models.scorecard import DigestSubscription, Kpi, KpiTarget
from cxloop.store.scope import Scope


@dataclass(frozen=True)
class MetricChoice:
    ref: str
    label: str
    label_ja: str | None


@dataclass(frozen=True)
class PersonChoice:
    id: int
    name: str


def metric_choices(session: Session) -> list[MetricChoice]:
    """Every metric a KPI can follow: the installed CX figures, then defined metrics."""
    out = [MetricChoice(f"cx:{s.name}", s.label_key, None) for s in available()]
    for d in session.scalars(select(MetricDefinition).order_by(MetricDefinition.key)):
        out.append(MetricChoice(f"metric:{d.key}", d.name, d.name_ja))
    return out


def people_in_scope(session: Session, scope: Scope) -> list[PersonChoice]:
    """Active users assigned to a unit inside ``scope`` (owners and digest members)."""
    rows = session.execute(
        select(User.id, User.name)
        .join(UserUnit, UserUnit.user_id == User.id)
        .join(OrgUnit, OrgUnit.id == UserUnit.org_unit_id)
        .where(User.is_active.is_(True), scope.condition(OrgUnit.id))
        .distinct()
        .order_by(User.name)
    )
    return [PersonChoice(int(i), str(n)) for i, n in rows]


def check_people(session: Session, scope: Scope, ids: list[int], field: str) -> None:
    allowed = {p.id for p in people_in_scope(session, scope)}
    for i in ids:
        if i not in allowed:
            raise ScorecardError(
                f"no user with id {i} in your part of the organisation", field=field
            )


def own_kpis(session: Session, unit: UnitRef) -> tuple[list[Kpi], list[Kpi]]:
    """(KPIs defined on ``unit``, KPIs it follows — its own or the nearest ancestor's)."""
    following, _ = kpis_for(session, unit)
    mine = list(
        session.scalars(select(Kpi).where(Kpi.org_unit_id == unit.id).order_by(Kpi.rank, Kpi.id))
    )
    return mine, following


def unit_targets(session: Session, kpi_ids: list[int], unit_id: int) -> list[KpiTarget]:
    if not kpi_ids:
        return []
    return list(
        session.scalars(
            select(KpiTarget)
            .where(KpiTarget.kpi_id.in_(kpi_ids), KpiTarget.org_unit_id == unit_id)
            .order_by(KpiTarget.kpi_id, KpiTarget.period, KpiTarget.period_start.desc())
        )
    )


def unit_digests(session: Session, unit_id: int) -> list[DigestSubscription]:
    return list(
        session.scalars(
            select(DigestSubscription)
            .where(DigestSubscription.org_unit_id == unit_id)
            .order_by(DigestSubscription.id)
        )
    )


def update_digest(
    *,
    session: Session,
    sub: DigestSubscription,
    name: str,
    cadence: str,
    member_ids: list[int],
    active: bool,
) -> DigestSubscription:
    if cadence not in CADENCES:
        raise ScorecardError(f"cadence must be one of {', '.join(CADENCES)}", field="cadence")
    if not name.strip():
        raise ScorecardError("give the group a name", field="name")
    if not member_ids:
        raise ScorecardError("choose at least one member", field="member_ids")
    sub.name = name.strip()[:200]
    sub.cadence = cadence
    sub.member_ids = sorted(set(member_ids))
    sub.active = active
    session.flush()
    return sub


def parse_date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ScorecardError(f"{value!r} is not a date (YYYY-MM-DD)", field=field) from None
