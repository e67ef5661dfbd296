"""Scorecard settings pages: choose and rank a unit's KPIs, their owners, targets and
thresholds, and the digest groups that receive the scorecard (en/ja, CSRF-protected forms)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from cxloop.engage import access
from cxloop.engage.digest import CADENCES, DigestCreate, create_subscription
from cxloop.engage.kpis import (
    MAX_KPIS,
    KpiCreate,
    KpiUpdate,
    ScorecardError,
    create_kpi,
    resolve_metric,
    update_kpi,
)
from cxloop.engage.scorecard import PERIODS
from cxloop.engage.scorecard_settings import (
    MetricChoice,
    check_people,
    metric_choices,
    own_kpis,
    parse_date,
    people_in_scope,
    unit_digests,
    unit_targets,
    update_digest,
)
from cxloop.engage.targets import TargetIn, set_targets
from cxloop.signals.metrics import period_floor
from cxloop.store import audit
from cxloop.store.models.scorecard import DigestSubscription, Kpi
from cxloop.web.api._scorecard_schemas import errors, label_of
from cxloop.web.deps import PageUser, Principal, SessionDep
from cxloop.web.errors import visible_or_404
from cxloop.web.render import render

router = APIRouter(include_in_schema=False)


def _back(unit_id: int) -> Response:
    return RedirectResponse(f"/scorecard/settings?unit_id={unit_id}", status_code=303)


def _optional_int(value: str, field: str) -> int | None:
    if not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise ScorecardError(f"{value!r} is not a number", field=field) from None


@router.get("/scorecard/settings")
def settings_page(
    request: Request, principal: PageUser, session: SessionDep, unit_id: int | None = None
) -> Response:
    principal.require("scorecard:write")
    with errors():
        unit = access.visible_unit(session, principal.scope, unit_id)
    mine, following = own_kpis(session, unit)
    lang = principal.language
    metrics = {m.ref: m for m in metric_choices(session)}
    labels = {
        k.id: k.label_ja
        if lang == "ja" and k.label_ja
        else k.label or _label(metrics, k.metric, lang)
        for k in following
    }
    return render(
        request,
        "scorecard/settings.html",
        principal,
        session=session,
        unit=unit,
        mine=mine,
        following=following,
        inherited=bool(following) and not mine,
        labels=labels,
        metrics=[(ref, _label(metrics, ref, lang)) for ref in metrics],
        people=people_in_scope(session, principal.scope),
        targets=unit_targets(session, [k.id for k in following], unit.id),
        digests=unit_digests(session, unit.id),
        periods=PERIODS,
        cadences=CADENCES,
        max_kpis=MAX_KPIS,
    )


def _kpi_label(k: Kpi, metrics: dict[str, MetricChoice], lang: str) -> str:
    if lang == "ja" and k.label_ja:
        return k.label_ja
    return k.label or _label(metrics, k.metric, lang)


def _label(metrics: dict[str, MetricChoice], ref: str, lang: str) -> str:
    m = metrics.get(ref)
    return label_of(m.label, m.label_ja, lang) if m else ref


@router.post("/scorecard/settings/kpis")
def add_kpi_form(
    principal: PageUser,
    session: SessionDep,
    unit_id: int = Form(),
    metric: str = Form(),
    owner_user_id: str = Form(""),
    label: str = Form(""),
    label_ja: str = Form(""),
) -> Response:
    principal.require("scorecard:write")
    with errors():
        unit = access.visible_unit(session, principal.scope, unit_id, field="unit_id")
        owner = _optional_int(owner_user_id, "owner_user_id")
        if owner is not None:
            check_people(session, principal.scope, [owner], "owner_user_id")
        create_kpi(
            session=session,
            data=KpiCreate(
                org_unit_id=unit.id,
                metric=metric,
                owner_user_id=owner,
                label=label.strip() or None,
                label_ja=label_ja.strip() or None,
            ),
        )
    return _back(unit.id)


@router.post("/scorecard/settings/kpi/{kpi_id}")
def edit_kpi_form(
    kpi_id: int,
    principal: PageUser,
    session: SessionDep,
    rank: int = Form(),
    owner_user_id: str = Form(""),
    label: str = Form(""),
    label_ja: str = Form(""),
) -> Response:
    principal.require("scorecard:write")
    with errors():
        kpi = access.editable_kpi(session, principal.scope, kpi_id)
        owner = _optional_int(owner_user_id, "owner_user_id")
        if owner is not None:
            check_people(session, principal.scope, [owner], "owner_user_id")
        data = KpiUpdate(
            rank=max(1, min(MAX_KPIS, rank)),
            owner_user_id=owner,
            label=label.strip() or None,
            label_ja=label_ja.strip() or None,
        )
        update_kpi(session=session, kpi=kpi, data=data)
    return _back(kpi.org_unit_id)


@router.post("/scorecard/settings/kpi/{kpi_id}/delete")
def delete_kpi_form(kpi_id: int, principal: PageUser, session: SessionDep) -> Response:
    principal.require("scorecard:write")
    with errors():
        kpi = access.editable_kpi(session, principal.scope, kpi_id)
    unit_id = kpi.org_unit_id
    audit.record(
        session,
        principal.actor,
        "delete",
        target_type="kpi",
        target_id=kpi.id,
        org_unit_id=unit_id,
        metric=kpi.metric,
    )
    session.delete(kpi)
    return _back(unit_id)


@router.post("/scorecard/settings/kpi/{kpi_id}/target")
def target_form(
    kpi_id: int,
    principal: PageUser,
    session: SessionDep,
    unit_id: int = Form(),
    period: str = Form("month"),
    start: str = Form(),
    target: float = Form(),
    threshold: str = Form(""),
) -> Response:
    principal.require("scorecard:write")
    with errors():
        kpi = access.visible_kpi(session, principal.scope, kpi_id)
        unit = access.visible_unit(session, principal.scope, unit_id, field="unit_id")
        access.check_applies(session, kpi, unit, field="unit_id")
        if period not in PERIODS:
            raise ScorecardError(f"period must be one of {', '.join(PERIODS)}", field="period")
        begin = period_floor(period, parse_date(start, "start"))
        limit = threshold.strip()
        try:
            bound = float(limit) if limit else None
        except ValueError:
            raise ScorecardError(f"{limit!r} is not a number", field="threshold") from None
        set_targets(
            session=session,
            kpi=kpi,
            direction=resolve_metric(session, kpi.metric).direction,
            targets=[
                TargetIn(
                    org_unit_id=unit.id,
                    period=period,
                    period_start=begin,
                    target=target,
                    threshold=bound,
                )
            ],
        )
    return _back(unit.id)


@router.post("/scorecard/settings/digests")
def add_digest_form(
    principal: PageUser,
    session: SessionDep,
    unit_id: int = Form(),
    name: str = Form(),
    cadence: str = Form("weekly"),
    member_ids: Annotated[list[int] | None, Form()] = None,
) -> Response:
    principal.require("scorecard:write")
    with errors():
        unit = access.visible_unit(session, principal.scope, unit_id, field="unit_id")
        member_ids = member_ids or []
        if not member_ids:
            raise ScorecardError("choose at least one member", field="member_ids")
        check_people(session, principal.scope, member_ids, "member_ids")
        if cadence not in CADENCES:
            raise ScorecardError(f"cadence must be one of {', '.join(CADENCES)}", field="cadence")
        if not name.strip():
            raise ScorecardError("give the group a name", field="name")
        create_subscription(
            session=session,
            data=DigestCreate(
                name=name.strip()[:200], org_unit_id=unit.id, cadence=cadence, member_ids=member_ids
            ),
        )
    return _back(unit.id)


@router.post("/scorecard/settings/digest/{digest_id}")
def edit_digest_form(
    digest_id: int,
    principal: PageUser,
    session: SessionDep,
    name: str = Form(),
    cadence: str = Form("weekly"),
    member_ids: Annotated[list[int] | None, Form()] = None,
    active: str = Form(""),
) -> Response:
    principal.require("scorecard:write")
    sub = _digest(session, principal, digest_id)
    with errors():
        members = member_ids or []
        check_people(session, principal.scope, members, "member_ids")
        update_digest(
            session=session,
            sub=sub,
            name=name,
            cadence=cadence,
            member_ids=members,
            active=bool(active),
        )
    return _back(sub.org_unit_id)


def _digest(session: SessionDep, principal: Principal, digest_id: int) -> DigestSubscription:
    sub = visible_or_404(session, principal.scope, DigestSubscription, digest_id, "digest")
    return sub
