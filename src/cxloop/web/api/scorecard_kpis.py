"""Scorecard API: KPIs, their targets and commentary, and why a KPI moved."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Response
from sqlalchemy import select

from cxloop.engage import access
from cxloop.engage.hierarchy import UnitRef
from cxloop.engage.kpis import (
    KpiCreate,
    KpiUpdate,
    create_kpi,
    kpis_for,
    resolve_metric,
    update_kpi,
)
from cxloop.engage.scorecard import PERIODS
from cxloop.engage.targets import (
    CommentCreate,
    add_comment,
    comment_history,
    set_targets,
)
from cxloop.signals.metrics import period_floor
from cxloop.store import audit
from cxloop.store.models.scorecard import Kpi, KpiTarget
from cxloop.web.api._scorecard_schemas import (
    CommentPublic,
    ExplanationPublic,
    KpiPublic,
    TargetPublic,
    TargetsSet,
    errors,
)
from cxloop.web.api.scorecard import explain_between
from cxloop.web.deps import CurrentPrincipal, Principal, SessionDep
from cxloop.web.errors import ApiError

router = APIRouter(tags=["scorecard"])


@router.get("/scorecard/kpis")
def list_kpis(
    principal: CurrentPrincipal, session: SessionDep, unit_id: int | None = None
) -> list[KpiPublic]:
    """The KPIs a unit follows (its own or inherited from the nearest ancestor)."""
    principal.require("scorecard:read")
    with errors():
        unit = access.visible_unit(session, principal.scope, unit_id)
    return [KpiPublic.model_validate(k) for k in kpis_for(session, unit)[0]]


@router.post("/scorecard/kpis", status_code=201)
def add_kpi(body: KpiCreate, principal: CurrentPrincipal, session: SessionDep) -> KpiPublic:
    principal.require("scorecard:write")
    with errors():
        access.visible_unit(session, principal.scope, body.org_unit_id, field="org_unit_id")
        return KpiPublic.model_validate(create_kpi(session=session, data=body))


@router.patch("/scorecard/kpis/{kpi_id}")
def change_kpi(
    kpi_id: int, body: KpiUpdate, principal: CurrentPrincipal, session: SessionDep
) -> KpiPublic:
    principal.require("scorecard:write")
    with errors():
        kpi = access.editable_kpi(session, principal.scope, kpi_id)
        return KpiPublic.model_validate(update_kpi(session=session, kpi=kpi, data=body))


@router.delete("/scorecard/kpis/{kpi_id}", status_code=204)
def remove_kpi(kpi_id: int, principal: CurrentPrincipal, session: SessionDep) -> Response:
    principal.require("scorecard:write")
    with errors():
        kpi = access.editable_kpi(session, principal.scope, kpi_id)
    audit.record(
        session,
        principal.actor,
        "delete",
        target_type="kpi",
        target_id=kpi.id,
        org_unit_id=kpi.org_unit_id,
        metric=kpi.metric,
    )
    session.delete(kpi)
    return Response(status_code=204)


def _set_targets(
    kpi_id: int, body: TargetsSet, principal: Principal, session: SessionDep, replace: bool
) -> dict[str, int]:
    principal.require("scorecard:write")
    with errors():
        kpi = access.visible_kpi(session, principal.scope, kpi_id)
        for i, t in enumerate(body.targets):
            unit = access.visible_unit(
                session, principal.scope, t.org_unit_id, field=f"targets[{i}].org_unit_id"
            )
            access.check_applies(session, kpi, unit, field=f"targets[{i}].org_unit_id")
        direction = resolve_metric(session, kpi.metric).direction
        report = set_targets(
            session=session, kpi=kpi, direction=direction, targets=body.targets, replace=replace
        )
    return {"created": report.created, "updated": report.updated}


@router.put("/scorecard/kpis/{kpi_id}/targets")
def put_targets(
    kpi_id: int, body: TargetsSet, principal: CurrentPrincipal, session: SessionDep
) -> dict[str, int]:
    """Set targets, replacing any for the same unit and period."""
    return _set_targets(kpi_id, body, principal, session, replace=True)


@router.post("/scorecard/kpis/{kpi_id}/targets", status_code=201)
def post_targets(
    kpi_id: int, body: TargetsSet, principal: CurrentPrincipal, session: SessionDep
) -> dict[str, int]:
    """Add targets; one that already exists for the unit and period is a conflict (409)."""
    return _set_targets(kpi_id, body, principal, session, replace=False)


@router.get("/scorecard/kpis/{kpi_id}/targets")
def get_targets(
    kpi_id: int, principal: CurrentPrincipal, session: SessionDep
) -> list[TargetPublic]:
    principal.require("scorecard:read")
    with errors():
        kpi = access.visible_kpi(session, principal.scope, kpi_id)
    rows = session.scalars(
        select(KpiTarget)
        .where(KpiTarget.kpi_id == kpi.id, principal.scope.condition(KpiTarget.org_unit_id))
        .order_by(KpiTarget.period_start, KpiTarget.org_unit_id)
    )
    return [TargetPublic.model_validate(r) for r in rows]


def _unit_for(
    session: SessionDep, principal: Principal, kpi_id: int, unit_id: int | None
) -> tuple[Kpi, UnitRef]:
    kpi = access.visible_kpi(session, principal.scope, kpi_id)
    unit = access.visible_unit(session, principal.scope, unit_id)
    access.check_applies(session, kpi, unit, field="unit_id")
    return kpi, unit


@router.post("/scorecard/kpis/{kpi_id}/comments", status_code=201)
def post_comment(
    kpi_id: int, body: CommentCreate, principal: CurrentPrincipal, session: SessionDep
) -> CommentPublic:
    """Add a version of the commentary for a unit and period (edits keep history)."""
    principal.require("scorecard:write")
    with errors():
        kpi = access.visible_kpi(session, principal.scope, kpi_id)
        unit = access.visible_unit(session, principal.scope, body.org_unit_id, field="org_unit_id")
        access.check_applies(session, kpi, unit)
        user = principal.user
        row = add_comment(
            session=session,
            kpi=kpi,
            data=body,
            author_user_id=user.id if user else None,
            author=user.name if user else principal.actor.label,
        )
    return CommentPublic(
        version=row.version,
        why=row.why,
        action=row.action,
        author=row.author_label,
        created_at=row.created_at,
    )


@router.get("/scorecard/kpis/{kpi_id}/comments")
def get_comments(
    kpi_id: int,
    principal: CurrentPrincipal,
    session: SessionDep,
    start: date,
    unit_id: int | None = None,
    period: str = "month",
) -> list[CommentPublic]:
    """Every version of the commentary, newest first."""
    principal.require("scorecard:read")
    with errors():
        kpi, unit = _unit_for(session, principal, kpi_id, unit_id)
    history = comment_history(session, kpi.id, unit.id, period, period_floor(period, start))
    return [CommentPublic.model_validate(c) for c in history]


@router.get("/scorecard/kpis/{kpi_id}/explain")
def explain_kpi(
    kpi_id: int,
    principal: CurrentPrincipal,
    session: SessionDep,
    unit_id: int | None = None,
    period: str = "month",
    start: date | None = None,
) -> ExplanationPublic:
    """Why the KPI moved from the previous period: mix vs rate, and theme shifts."""
    principal.require("scorecard:read")
    if period not in PERIODS:
        raise ApiError(422, f"period must be one of {', '.join(PERIODS)}", field="period")
    with errors():
        kpi, unit = _unit_for(session, principal, kpi_id, unit_id)
        metric = resolve_metric(session, kpi.metric)
    got = explain_between(session, metric, unit, period, start, principal.language)
    return got
