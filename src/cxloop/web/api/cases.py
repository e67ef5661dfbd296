"""Cases: the scoped inbox, detail with history, workflow, notes, contacts, root causes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, BackgroundTasks
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select

from cxloop.act import cases
from cxloop.act.loop_metrics import loop_metrics
from cxloop.store.base import utcnow
from cxloop.store.models.act import Case, CaseEscalation, RootCause
from cxloop.store.models.org import OrgUnit, User
from cxloop.store.scope import scoped_page
from cxloop.web.api._act_common import author, send_after_commit
from cxloop.web.deps import CurrentPrincipal, HueyDep, Pagination, Principal, SessionDep
from cxloop.web.errors import ApiError, NotFound, visible_or_404
from cxloop.web.schemas import Page

router = APIRouter(tags=["cases"])

Priority = Literal["low", "normal", "high", "urgent"]


class CasePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_unit_id: int
    rule_id: int | None
    record_kind: str | None
    record_id: str | None
    customer_id: int | None
    title: str
    summary: str
    priority: str
    status: str
    owner_user_id: int | None
    escalated_to_user_id: int | None
    escalation_level: int
    due_at: datetime | None
    original_score: float | None
    resurvey_score: float | None
    resurvey_requested_at: datetime | None
    root_cause_id: int | None
    resolution: str | None
    first_contact_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    created_at: datetime


class CaseEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    author_user_id: int | None
    author_label: str
    body: str
    detail: dict[str, Any]
    at: datetime


class EscalationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    level: int
    to_unit_id: int
    to_user_id: int | None
    at: datetime


class CaseDetailPublic(CasePublic):
    events: list[CaseEventPublic]
    escalations: list[EscalationPublic]
    allowed_statuses: list[str]


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org_unit_id: int
    title: str = Field(min_length=1, max_length=300)
    summary: str = Field("", max_length=10_000)
    priority: Priority = "normal"
    sla_hours: float | None = Field(48, gt=0, le=24 * 365)
    business_hours: dict[str, str | list[str]] | None = None
    owner_email: str | None = None
    customer_id: int | None = None
    resurvey_on_close: bool = False


class CaseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    priority: Priority | None = None
    owner_user_id: int | None = None
    root_cause_id: int | None = None
    resolution: str | None = Field(None, max_length=10_000)


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["new", "in_progress", "contacted", "resolved", "closed", "reopened"]
    root_cause_id: int | None = None
    resolution: str | None = Field(None, max_length=10_000)


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=10_000)


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["phone", "email", "in_person", "chat", "letter", "other"]
    body: str = Field("", max_length=10_000)
    reached: bool = True
    at: datetime | None = None


class RootCauseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str = Field(min_length=1, max_length=200)
    name_ja: str | None = Field(None, max_length=200)


class RootCauseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    name_ja: str | None = Field(None, max_length=200)
    is_active: bool | None = None


class RootCausePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    name_ja: str | None
    is_active: bool


class LoopMetricsPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    cases: int
    open: int
    overdue: int
    resolved: int
    closed_within_sla: float | None
    median_hours_to_first_contact: float | None
    resurveyed: int
    recovery_rate: float | None
    mean_score_change: float | None


def _case_error(exc: cases.CaseError) -> ApiError:
    return ApiError(exc.status, exc.message, field=exc.field)


@router.get("/cases")
def list_cases(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: Pagination,
    status: str | None = None,
    mine: bool = False,
    overdue: bool = False,
    open: bool = False,
) -> Page[CasePublic]:
    principal.require("cases:read")
    filters = []
    if status:
        filters.append(Case.status == status)
    if open:
        filters.append(Case.status.in_(cases.OPEN_STATUSES))
    if overdue:
        filters += [Case.status.in_(cases.OPEN_STATUSES), Case.due_at < utcnow()]
    if mine:
        uid = principal.user.id if principal.user else -1
        filters.append(or_(Case.owner_user_id == uid, Case.escalated_to_user_id == uid))
    rows, count = scoped_page(
        session,
        principal.scope,
        Case,
        filters=filters,
        order_by=Case.due_at.asc().nulls_last(),
        limit=page.limit,
        offset=page.offset,
    )
    return Page(
        data=[CasePublic.model_validate(r) for r in rows],
        count=count,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("/cases", status_code=201)
def create_case(
    body: CaseCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    huey: HueyDep,
    background: BackgroundTasks,
) -> CasePublic:
    principal.require("cases:write")
    unit = session.get(OrgUnit, body.org_unit_id)
    if unit is None or not principal.scope.contains(session, unit.id):
        raise ApiError(404, f"org unit {body.org_unit_id} not found", field="org_unit_id")
    try:
        case = cases.open_case(
            session=session,
            unit=unit,
            title=body.title,
            summary=body.summary,
            priority=body.priority,
            sla_hours=body.sla_hours,
            business_hours=body.business_hours,
            owner_email=body.owner_email,
            customer_id=body.customer_id,
            resurvey_on_close=body.resurvey_on_close,
            author=author(principal),
        )
    except ValueError as exc:
        if isinstance(exc, cases.CaseError):
            raise _case_error(exc) from None
        raise ApiError(422, f"business_hours: {exc}", field="business_hours") from None
    send_after_commit(background, huey, session)
    return CasePublic.model_validate(case)


@router.get("/cases/metrics")
def case_metrics(
    principal: CurrentPrincipal, session: SessionDep, days: int = 90
) -> LoopMetricsPublic:
    principal.require("cases:read")
    now = utcnow()
    since = now - timedelta(days=max(1, min(days, 3660)))
    result = loop_metrics(session=session, scope=principal.scope, since=since, now=now)
    return LoopMetricsPublic.model_validate(result)


@router.get("/cases/root-causes")
def list_root_causes(
    principal: CurrentPrincipal, session: SessionDep, all: bool = False
) -> list[RootCausePublic]:
    principal.require("cases:read")
    rows = cases.root_causes(session, active_only=not all)
    return [RootCausePublic.model_validate(r) for r in rows]


@router.post("/cases/root-causes", status_code=201)
def create_root_cause(
    body: RootCauseCreate, principal: CurrentPrincipal, session: SessionDep
) -> RootCausePublic:
    principal.require("rules:admin")
    if session.scalar(select(RootCause.id).where(RootCause.code == body.code)) is not None:
        raise ApiError(409, f"root cause {body.code!r} already exists", field="code")
    top = (
        principal.scope.unit_paths[0].strip("/").split("/")[-1]
        if principal.scope.unit_paths
        else None
    )
    if top is None:
        raise ApiError(403, "no org unit in scope")
    cause = RootCause(org_unit_id=int(top), code=body.code, name=body.name, name_ja=body.name_ja)
    session.add(cause)
    session.flush()
    return RootCausePublic.model_validate(cause)


@router.patch("/cases/root-causes/{cause_id}")
def update_root_cause(
    cause_id: int, body: RootCauseUpdate, principal: CurrentPrincipal, session: SessionDep
) -> RootCausePublic:
    principal.require("rules:admin")
    cause = session.get(RootCause, cause_id)
    if cause is None:
        raise NotFound("root cause")
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(cause, name, value)
    session.flush()
    return RootCausePublic.model_validate(cause)


def load_case(principal: Principal, session: SessionDep, case_id: int) -> Case:
    principal.require("cases:read")
    case = visible_or_404(session, principal.scope, Case, case_id, "case")
    return case


def case_detail(session: SessionDep, case: Case) -> CaseDetailPublic:
    escalations = session.scalars(
        select(CaseEscalation)
        .where(CaseEscalation.case_id == case.id)
        .order_by(CaseEscalation.level)
    ).all()
    base = CasePublic.model_validate(case).model_dump()
    return CaseDetailPublic(
        **base,
        events=[CaseEventPublic.model_validate(e) for e in cases.events(session, case)],
        escalations=[EscalationPublic.model_validate(e) for e in escalations],
        allowed_statuses=sorted(cases.TRANSITIONS[case.status]),
    )


@router.get("/cases/{case_id}")
def get_case(case_id: int, principal: CurrentPrincipal, session: SessionDep) -> CaseDetailPublic:
    return case_detail(session, load_case(principal, session, case_id))


@router.patch("/cases/{case_id}")
def update_case(
    case_id: int, body: CaseUpdate, principal: CurrentPrincipal, session: SessionDep
) -> CaseDetailPublic:
    case = load_case(principal, session, case_id)
    principal.require("cases:write")
    changes = body.model_dump(exclude_unset=True)
    try:
        if "owner_user_id" in changes:
            owner_id = changes["owner_user_id"]
            user = session.get(User, owner_id) if owner_id is not None else None
            if owner_id is not None and user is None:
                raise ApiError(422, f"user {owner_id} not found", field="owner_user_id")
            cases.assign(session=session, case=case, user=user, author=author(principal))
        if changes.get("root_cause_id") is not None:
            cases.set_root_cause(
                session=session,
                case=case,
                root_cause_id=changes["root_cause_id"],
                author=author(principal),
            )
        if changes.get("priority"):
            case.priority = changes["priority"]
        if "resolution" in changes:
            case.resolution = changes["resolution"]
    except cases.CaseError as exc:
        raise _case_error(exc) from None
    session.flush()
    return case_detail(session, case)


@router.post("/cases/{case_id}/status")
def change_status(
    case_id: int, body: StatusChange, principal: CurrentPrincipal, session: SessionDep
) -> CaseDetailPublic:
    case = load_case(principal, session, case_id)
    principal.require("cases:write")
    try:
        cases.change_status(
            session=session,
            case=case,
            status=body.status,
            author=author(principal),
            root_cause_id=body.root_cause_id,
            resolution=body.resolution,
        )
    except cases.CaseError as exc:
        raise _case_error(exc) from None
    return case_detail(session, case)


@router.post("/cases/{case_id}/notes", status_code=201)
def add_note(
    case_id: int, body: NoteCreate, principal: CurrentPrincipal, session: SessionDep
) -> CaseEventPublic:
    case = load_case(principal, session, case_id)
    principal.require("cases:write")
    try:
        event = cases.add_note(session=session, case=case, body=body.body, author=author(principal))
    except cases.CaseError as exc:
        raise _case_error(exc) from None
    return CaseEventPublic.model_validate(event)


@router.post("/cases/{case_id}/contacts", status_code=201)
def add_contact(
    case_id: int, body: ContactCreate, principal: CurrentPrincipal, session: SessionDep
) -> CaseEventPublic:
    case = load_case(principal, session, case_id)
    principal.require("cases:write")
    if body.at is not None and body.at.tzinfo is None:
        raise ApiError(422, "at: give a time zone (e.g. 2026-03-01T10:00:00+09:00)", field="at")
    try:
        event = cases.add_contact(
            session=session,
            case=case,
            channel=body.channel,
            body=body.body,
            reached=body.reached,
            author=author(principal),
            at=body.at,
        )
    except cases.CaseError as exc:
        raise _case_error(exc) from None
    return CaseEventPublic.model_validate(event)
