"""Alert rules: CRUD, dry-run against the last 30 days, and evaluating a posted record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Response
from pydantic import BaseModel, ConfigDict, Field

from cxloop.act import dry_run, rules
from cxloop.act.hooks import RuleRecord, record_arrived
from cxloop.store.models.act import AlertRule
from cxloop.store.scope import scoped_page
from cxloop.web.api._act_common import send_after_commit
from cxloop.web.deps import CurrentPrincipal, HueyDep, Pagination, Principal, SessionDep
from cxloop.web.errors import ApiError, visible_or_404
from cxloop.web.schemas import Page

router = APIRouter(tags=["rules"])


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    org_unit_id: int
    condition: str = Field(min_length=1, max_length=10_000)
    actions: list[dict[str, Any]] = Field(min_length=1, max_length=20)
    segments: dict[str, Any] = Field(default_factory=dict)
    is_active: bool = True


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    org_unit_id: int | None = None
    condition: str | None = Field(None, min_length=1, max_length=10_000)
    actions: list[dict[str, Any]] | None = Field(None, min_length=1, max_length=20)
    segments: dict[str, Any] | None = None
    is_active: bool | None = None


class RulePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    org_unit_id: int
    condition: str
    actions: list[dict[str, Any]]
    segments: dict[str, Any]
    is_active: bool
    created_at: datetime
    updated_at: datetime


class DryRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    condition: str = Field(min_length=1, max_length=10_000)
    org_unit_id: int
    segments: dict[str, Any] = Field(default_factory=dict)
    days: int = Field(30, ge=1, le=366)


class DryRunHitPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kind: str
    id: str
    org_unit_id: int
    at: datetime | None
    text: str | None
    score: float | None


class DryRunPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    evaluated: int
    matched: int
    by_kind: dict[str, int]
    sources: list[str]
    samples: list[DryRunHitPublic]


class RecordCreate(BaseModel):
    """A record to run the rules on (e.g. an operational metric reading)."""

    model_config = ConfigDict(extra="forbid")
    kind: str
    id: str = Field(min_length=1, max_length=64)
    org_unit_id: int
    customer_id: int | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    mentioned_user_ids: list[int] = Field(default_factory=list, max_length=20)


class FiringPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    rule_id: int
    rule_name: str
    record_kind: str
    record_id: str
    case_id: int | None
    delivery_ids: list[int]
    message_ids: list[int]


def _rule_error(exc: rules.RuleError) -> ApiError:
    return ApiError(422, exc.message, field=exc.field)


def _check_unit(principal: Principal, session: SessionDep, unit_id: int) -> None:
    if not principal.scope.contains(session, unit_id):
        raise ApiError(404, f"org unit {unit_id} not found", field="org_unit_id")


@router.get("/rules")
def list_rules(
    principal: CurrentPrincipal, session: SessionDep, page: Pagination
) -> Page[RulePublic]:
    principal.require("rules:admin")
    rows, count = scoped_page(
        session, principal.scope, AlertRule, limit=page.limit, offset=page.offset
    )
    return Page(
        data=[RulePublic.model_validate(r) for r in rows],
        count=count,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("/rules", status_code=201)
def create_rule(body: RuleCreate, principal: CurrentPrincipal, session: SessionDep) -> RulePublic:
    principal.require("rules:admin")
    _check_unit(principal, session, body.org_unit_id)
    try:
        rule = rules.create_rule(
            session=session,
            org_unit_id=body.org_unit_id,
            name=body.name,
            condition=body.condition,
            actions=body.actions,
            segments=body.segments,
            is_active=body.is_active,
            created_by_id=principal.user.id if principal.user else None,
        )
    except rules.RuleError as exc:
        raise _rule_error(exc) from None
    return RulePublic.model_validate(rule)


@router.post("/rules/dry-run")
def dry_run_condition(
    body: DryRunCreate, principal: CurrentPrincipal, session: SessionDep
) -> DryRunPublic:
    principal.require("rules:admin")
    _check_unit(principal, session, body.org_unit_id)
    try:
        result = dry_run.dry_run(
            session=session,
            condition=body.condition,
            org_unit_id=body.org_unit_id,
            segments=body.segments,
            days=body.days,
        )
    except rules.RuleError as exc:
        raise _rule_error(exc) from None
    return DryRunPublic.model_validate(result)


@router.post("/rules/evaluate")
def evaluate(
    body: RecordCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    huey: HueyDep,
    background: BackgroundTasks,
) -> list[FiringPublic]:
    """Run the active rules on one record now (machines feeding metrics or external signals)."""
    if not any(principal.can(p) for p in ("rules:admin", "metrics:write", "feedback:write")):
        raise ApiError(403, "this action needs 'rules:admin', 'metrics:write' or 'feedback:write'")
    _check_unit(principal, session, body.org_unit_id)
    record = RuleRecord(
        body.kind,
        body.id,
        body.org_unit_id,
        body.fields,
        body.customer_id,
        None,
        tuple(body.mentioned_user_ids),
    )
    try:
        firings = record_arrived(session, record)
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        raise ApiError(422, str(exc), field=field if message else None) from None
    send_after_commit(background, huey, session)
    return [FiringPublic.model_validate(f) for f in firings]


def _rule(principal: Principal, session: SessionDep, rule_id: int) -> AlertRule:
    principal.require("rules:admin")
    rule = visible_or_404(session, principal.scope, AlertRule, rule_id, "rule")
    return rule


@router.get("/rules/{rule_id}")
def get_rule(rule_id: int, principal: CurrentPrincipal, session: SessionDep) -> RulePublic:
    return RulePublic.model_validate(_rule(principal, session, rule_id))


@router.patch("/rules/{rule_id}")
def update_rule(
    rule_id: int, body: RuleUpdate, principal: CurrentPrincipal, session: SessionDep
) -> RulePublic:
    rule = _rule(principal, session, rule_id)
    changes = body.model_dump(exclude_unset=True)
    if "org_unit_id" in changes:
        _check_unit(principal, session, changes["org_unit_id"])
    try:
        rules.update_rule(session=session, rule=rule, changes=changes)
    except rules.RuleError as exc:
        raise _rule_error(exc) from None
    return RulePublic.model_validate(rule)


@router.post("/rules/{rule_id}/dry-run")
def dry_run_rule(
    rule_id: int, principal: CurrentPrincipal, session: SessionDep, days: int = 30
) -> DryRunPublic:
    rule = _rule(principal, session, rule_id)
    result = dry_run.dry_run(
        session=session,
        condition=rule.condition,
        org_unit_id=rule.org_unit_id,
        segments=rule.segments,
        days=max(1, min(days, 366)),
    )
    return DryRunPublic.model_validate(result)


@router.delete("/rules/{rule_id}", status_code=204)
def delete_rule(rule_id: int, principal: CurrentPrincipal, session: SessionDep) -> Response:
    rules.delete_rule(session=session, rule=_rule(principal, session, rule_id))
    return Response(status_code=204)
