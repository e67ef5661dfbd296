"""Scorecard KPIs: which metrics a unit follows, in what order, who owns each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.engage.cx_sources import SOURCES
from cxloop.engage.hierarchy import UnitRef
from cxloop.store.models.metrics import MetricDefinition
from cxloop.store.models.org import User
from cxloop.store.models.scorecard import Kpi

MAX_KPIS = 6


class ScorecardError(ValueError):
    """Bad scorecard input; ``field`` names the offending field, ``status`` the HTTP status."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True)
class MetricInfo:
    """What a KPI measures: ``cx:<name>`` or ``metric:<key>``."""

    ref: str
    source: str  # "cx" or "metric"
    name: str
    label: str
    label_ja: str | None
    unit: str
    direction: str
    cx_kind: str | None = None
    metric_id: int | None = None
    aggregation: str = "sum"


def resolve_metric(session: Session, ref: str) -> MetricInfo:
    prefix, _, name = ref.partition(":")
    if prefix == "cx" and name in SOURCES:
        s = SOURCES[name]
        return MetricInfo(ref, "cx", name, s.label_key, None, s.unit, s.direction, s.kind)
    if prefix == "metric":
        d = session.scalar(select(MetricDefinition).where(MetricDefinition.key == name))
        if d is not None:
            return MetricInfo(
                ref,
                "metric",
                name,
                d.name,
                d.name_ja,
                d.unit,
                d.direction,
                None,
                d.id,
                d.aggregation,
            )
    known = ", ".join(f"cx:{n}" for n in sorted(SOURCES))
    raise ScorecardError(
        f"unknown metric {ref!r}: use cx:<name> ({known}) or metric:<key> of a defined metric",
        field="metric",
    )


class KpiCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_unit_id: int
    metric: str = Field(max_length=80)
    rank: Annotated[int | None, Field(ge=1, le=MAX_KPIS)] = None
    owner_user_id: int | None = None
    label: Annotated[str | None, Field(max_length=200)] = None
    label_ja: Annotated[str | None, Field(max_length=200)] = None


class KpiUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rank: Annotated[int | None, Field(ge=1, le=MAX_KPIS)] = None
    owner_user_id: int | None = None
    label: Annotated[str | None, Field(max_length=200)] = None
    label_ja: Annotated[str | None, Field(max_length=200)] = None


def create_kpi(*, session: Session, data: KpiCreate) -> Kpi:
    resolve_metric(session, data.metric)
    existing = list(
        session.scalars(
            select(Kpi).where(Kpi.org_unit_id == data.org_unit_id).order_by(Kpi.rank, Kpi.id)
        )
    )
    if any(k.metric == data.metric for k in existing):
        raise ScorecardError(
            f"{data.metric} is already a KPI of this unit", field="metric", status=409
        )
    if len(existing) >= MAX_KPIS:
        raise ScorecardError(
            f"a scorecard holds at most {MAX_KPIS} KPIs; remove one first",
            field="metric",
            status=409,
        )
    _check_owner(session, data.owner_user_id)
    kpi = Kpi(
        org_unit_id=data.org_unit_id,
        metric=data.metric,
        owner_user_id=data.owner_user_id,
        label=data.label,
        label_ja=data.label_ja,
        rank=len(existing) + 1,
    )
    session.add(kpi)
    session.flush()
    if data.rank is not None:
        rerank(session=session, kpi=kpi, rank=data.rank)
    return kpi


def update_kpi(*, session: Session, kpi: Kpi, data: KpiUpdate) -> Kpi:
    fields = data.model_fields_set
    if "owner_user_id" in fields:
        _check_owner(session, data.owner_user_id)
        kpi.owner_user_id = data.owner_user_id
    for name in ("label", "label_ja"):
        if name in fields:
            setattr(kpi, name, getattr(data, name))
    if "rank" in fields and data.rank is not None:
        rerank(session=session, kpi=kpi, rank=data.rank)
    session.flush()
    return kpi


def rerank(*, session: Session, kpi: Kpi, rank: int) -> None:
    """Move ``kpi`` to ``rank`` among its unit's KPIs; the others keep their order."""
    others = [
        k
        for k in session.scalars(
            select(Kpi).where(Kpi.org_unit_id == kpi.org_unit_id).order_by(Kpi.rank, Kpi.id)
        )
        if k.id != kpi.id
    ]
    others.insert(min(rank, len(others) + 1) - 1, kpi)
    for i, k in enumerate(others, start=1):
        k.rank = i
    session.flush()


def _check_owner(session: Session, user_id: int | None) -> None:
    if user_id is not None and session.get(User, user_id) is None:
        raise ScorecardError(f"no user with id {user_id}", field="owner_user_id")


def kpis_for(session: Session, unit: UnitRef) -> tuple[list[Kpi], int | None]:
    """The KPIs of ``unit``: its own, else those of the nearest ancestor that has any."""
    ids = unit.ancestor_ids
    rows = list(session.scalars(select(Kpi).where(Kpi.org_unit_id.in_(ids))))
    for uid in ids:
        mine = sorted((k for k in rows if k.org_unit_id == uid), key=lambda k: (k.rank, k.id))
        if mine:
            return mine, uid
    return [], None


def owner_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
