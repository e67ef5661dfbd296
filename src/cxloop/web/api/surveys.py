"""Surveys, versions, programs and waves, and sensitivity rules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from cxloop.signals import survey_programs as programs
from cxloop.signals import surveys as service
from cxloop.signals.survey_definitions import SurveyDefinition
from cxloop.signals.survey_waves import WaveSummary, run_pulse_wave, run_relationship_wave
from cxloop.store.base import utcnow
from cxloop.store.models.surveys import SensitivityRuleRow, Survey, SurveyProgram, SurveyVersion
from cxloop.store.scope import scoped_page
from cxloop.web.deps import CurrentPrincipal, Pagination, Principal, SessionDep, SettingsDep
from cxloop.web.errors import ApiError, NotFound, visible_or_404
from cxloop.web.schemas import Page

router = APIRouter(tags=["surveys"])


class SurveyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    key: str
    org_unit_id: int
    kind: str
    status: str
    title: dict[str, str]
    anonymous: bool
    embed_origins: list[str]
    current_version_id: int | None
    closes_at: datetime | None
    created_at: datetime
    public_url: str | None = None
    widget_snippet: str | None = None


class VersionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    survey_id: int
    number: int
    definition: dict[str, Any]
    created_at: datetime


class ProgramPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    key: str
    name: str
    kind: str
    survey_id: int
    org_unit_id: int
    active: bool
    event_types: list[str]
    delay_minutes: int
    unknown_customer: str
    reminder_after_days: int | None
    expires_after_days: int
    every_months: int | None
    next_wave_at: datetime | None
    segment: dict[str, Any]
    policy: dict[str, Any]


class WaveCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    wave: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    send_at: datetime | None = None


class WavePublic(BaseModel):
    program: str
    wave: str
    planned: int
    counts: dict[str, int]


class SensitivityRulePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_unit_id: int
    name: str
    attribute: str
    values: list[str]
    start: date
    end: date
    reason: str
    programs: list[str]
    active: bool
    created_by: str
    created_at: datetime


class SensitivityRuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool


def widget_snippet(base_url: str, survey: Survey) -> str:
    src = f"{base_url.rstrip('/')}/s/w/{survey.public_token}"
    return (
        f'<iframe src="{src}" title="survey" loading="lazy" '
        'style="width:100%;max-width:480px;height:560px;border:0"></iframe>'
    )


def survey_public(survey: Survey, base_url: str) -> SurveyPublic:
    out = SurveyPublic.model_validate(survey)
    if survey.anonymous:
        out.public_url = f"{base_url.rstrip('/')}/s/p/{survey.public_token}"
        out.widget_snippet = widget_snippet(base_url, survey)
    return out


def visible_survey(session: Session, principal: Principal, survey_id: int) -> Survey:
    """A survey the caller may read (its unit, or one covering theirs); else 404."""
    survey = service.readable_survey(session, principal.scope, survey_id)
    if survey is None:
        raise NotFound("survey")
    return survey


def writable_survey(session: Session, principal: Principal, survey_id: int) -> Survey:
    """A survey of the caller's own units; a covering survey is read-only to them."""
    survey = visible_or_404(session, principal.scope, Survey, survey_id, "survey")
    return survey


def _unit_in_scope(session: Session, principal: Principal, unit_id: int) -> None:
    if not principal.scope.contains(session, unit_id):
        raise ApiError(404, f"org unit {unit_id} not found", field="org_unit_id")


@router.get("/surveys")
def list_surveys(
    principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep, page: Pagination
) -> Page[SurveyPublic]:
    principal.require("surveys:read")
    rows, count = service.readable_surveys(
        session, principal.scope, limit=page.limit, offset=page.offset
    )
    data = [survey_public(r, settings.base_url) for r in rows]
    return Page(data=data, count=count, limit=page.limit, offset=page.offset)


@router.post("/surveys", status_code=201)
def create_survey(
    body: service.SurveyCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> SurveyPublic:
    principal.require("surveys:write")
    _unit_in_scope(session, principal, body.org_unit_id)
    try:
        survey = service.create_survey(session=session, data=body)
    except service.SurveyError as exc:
        raise ApiError(409, str(exc), field=exc.field) from None
    return survey_public(survey, settings.base_url)


@router.get("/surveys/{survey_id}")
def get_survey(
    survey_id: int, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> SurveyPublic:
    principal.require("surveys:read")
    return survey_public(visible_survey(session, principal, survey_id), settings.base_url)


@router.patch("/surveys/{survey_id}")
def update_survey(
    survey_id: int,
    body: service.SurveyUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> SurveyPublic:
    principal.require("surveys:write")
    survey = writable_survey(session, principal, survey_id)
    service.update_survey(session=session, survey=survey, data=body)
    return survey_public(survey, settings.base_url)


@router.put("/surveys/{survey_id}/definition")
def put_definition(
    survey_id: int, body: SurveyDefinition, principal: CurrentPrincipal, session: SessionDep
) -> VersionPublic:
    """Replace the questions; a survey that is live or answered gets a new version."""
    principal.require("surveys:write")
    survey = writable_survey(session, principal, survey_id)
    version = service.set_definition(session=session, survey=survey, definition=body)
    return VersionPublic.model_validate(version)


@router.get("/surveys/{survey_id}/versions")
def list_versions(
    survey_id: int, principal: CurrentPrincipal, session: SessionDep
) -> list[VersionPublic]:
    principal.require("surveys:read")
    survey = visible_survey(session, principal, survey_id)
    return [
        VersionPublic.model_validate(v) for v in service.versions(session=session, survey=survey)
    ]


@router.get("/surveys/{survey_id}/versions/{number}")
def get_version(
    survey_id: int, number: int, principal: CurrentPrincipal, session: SessionDep
) -> VersionPublic:
    principal.require("surveys:read")
    survey = visible_survey(session, principal, survey_id)
    found: SurveyVersion | None = next(
        (v for v in service.versions(session=session, survey=survey) if v.number == number), None
    )
    if found is None:
        raise NotFound("survey version")
    return VersionPublic.model_validate(found)


@router.get("/survey-programs")
def list_programs(
    principal: CurrentPrincipal, session: SessionDep, page: Pagination
) -> Page[ProgramPublic]:
    principal.require("surveys:read")
    rows, count = scoped_page(
        session, principal.scope, SurveyProgram, limit=page.limit, offset=page.offset
    )
    data = [ProgramPublic.model_validate(r) for r in rows]
    return Page(data=data, count=count, limit=page.limit, offset=page.offset)


@router.post("/survey-programs", status_code=201)
def create_program(
    body: programs.ProgramCreate, principal: CurrentPrincipal, session: SessionDep
) -> ProgramPublic:
    principal.require("surveys:write")
    _unit_in_scope(session, principal, body.org_unit_id)
    writable_survey(session, principal, body.survey_id)
    try:
        program = programs.create_program(session=session, data=body)
    except programs.ProgramError as exc:
        raise ApiError(422, str(exc), field=exc.field) from None
    return ProgramPublic.model_validate(program)


def _visible_program(session: Session, principal: Principal, program_id: int) -> SurveyProgram:
    program = visible_or_404(session, principal.scope, SurveyProgram, program_id, "survey program")
    return program


@router.get("/survey-programs/{program_id}")
def get_program(program_id: int, principal: CurrentPrincipal, session: SessionDep) -> ProgramPublic:
    principal.require("surveys:read")
    return ProgramPublic.model_validate(_visible_program(session, principal, program_id))


@router.patch("/survey-programs/{program_id}")
def update_program(
    program_id: int, body: programs.ProgramUpdate, principal: CurrentPrincipal, session: SessionDep
) -> ProgramPublic:
    principal.require("surveys:write")
    program = _visible_program(session, principal, program_id)
    programs.update_program(session=session, program=program, data=body)
    return ProgramPublic.model_validate(program)


@router.post("/survey-programs/{program_id}/waves", status_code=201)
def start_wave(
    program_id: int,
    body: WaveCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> WavePublic:
    """Plan a relationship wave (contact policy for every customer) or start a pulse wave."""
    principal.require("surveys:write")
    program = _visible_program(session, principal, program_id)
    send_at = body.send_at or utcnow()
    if send_at.tzinfo is None:
        raise ApiError(422, "send_at: needs a time zone offset", field="send_at")
    summary: WaveSummary
    try:
        if program.kind == "relationship":
            summary = run_relationship_wave(
                session=session,
                program=program,
                send_at=send_at,
                wave=body.wave,
                default_language=settings.default_language,
            )
        elif program.kind == "pulse":
            summary = run_pulse_wave(
                session=session,
                program=program,
                wave=body.wave,
                now=send_at,
                default_language=settings.default_language,
            )
        else:
            raise ApiError(409, "transactional programs are started by events, not waves")
    except ValueError as exc:
        raise ApiError(409, str(exc), field="wave") from None
    return WavePublic(**summary.__dict__)


@router.get("/survey-sensitivity-rules")
def list_sensitivity_rules(
    principal: CurrentPrincipal, session: SessionDep, page: Pagination
) -> Page[SensitivityRulePublic]:
    principal.require("surveys:read")
    rows, count = scoped_page(
        session, principal.scope, SensitivityRuleRow, limit=page.limit, offset=page.offset
    )
    data = [SensitivityRulePublic.model_validate(r) for r in rows]
    return Page(data=data, count=count, limit=page.limit, offset=page.offset)


@router.post("/survey-sensitivity-rules", status_code=201)
def create_sensitivity_rule(
    body: programs.SensitivityRuleCreate, principal: CurrentPrincipal, session: SessionDep
) -> SensitivityRulePublic:
    principal.require("surveys:write")
    _unit_in_scope(session, principal, body.org_unit_id)
    row = programs.create_sensitivity_rule(
        session=session, data=body, created_by=principal.actor.label
    )
    return SensitivityRulePublic.model_validate(row)


@router.patch("/survey-sensitivity-rules/{rule_id}")
def update_sensitivity_rule(
    rule_id: int, body: SensitivityRuleUpdate, principal: CurrentPrincipal, session: SessionDep
) -> SensitivityRulePublic:
    principal.require("surveys:write")
    row = visible_or_404(session, principal.scope, SensitivityRuleRow, rule_id, "sensitivity rule")
    row.active = body.active
    session.flush()
    return SensitivityRulePublic.model_validate(row)


@router.delete("/survey-sensitivity-rules/{rule_id}", status_code=204)
def delete_sensitivity_rule(
    rule_id: int, principal: CurrentPrincipal, session: SessionDep
) -> Response:
    principal.require("surveys:write")
    row = visible_or_404(session, principal.scope, SensitivityRuleRow, rule_id, "sensitivity rule")
    session.delete(row)
    return Response(status_code=204)
