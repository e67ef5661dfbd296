"""Survey invitations, responses (and their audited CSV export) and pulse results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from cxloop.csv_export import csv_download
from cxloop.signals.survey_export import responses_csv
from cxloop.signals.survey_pulse import pulse_results, pulse_waves
from cxloop.store import audit
from cxloop.store.models.surveys import Survey, SurveyInvitation, SurveyResponse
from cxloop.store.scope import scoped_get, scoped_page
from cxloop.web.api.surveys import visible_survey
from cxloop.web.deps import CurrentPrincipal, Pagination, SessionDep, SettingsDep
from cxloop.web.errors import ApiError, NotFound, visible_or_404
from cxloop.web.schemas import Page

router = APIRouter(tags=["surveys"])


class InvitationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_unit_id: int
    survey_id: int
    program_id: int | None
    event_id: int | None
    customer_id: int | None
    wave: str
    touchpoint: str | None
    channel: str
    language: str
    status: str
    reason_code: str | None
    reason: str | None
    due_at: datetime
    sent_at: datetime | None
    expires_at: datetime | None
    attempts: int
    last_error: str | None
    reminder_sent_at: datetime | None
    responded_on: date | None


class ResponsePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_unit_id: int
    survey_id: int
    version_id: int
    program_id: int | None
    invitation_id: int | None
    event_id: int | None
    customer_id: int | None
    channel: str
    touchpoint: str | None
    wave: str
    language: str
    status: str
    answers: dict[str, Any]
    nps: int | None
    csat: int | None
    ces: int | None
    comment: str | None
    feedback_ids: list[str]
    started_at: datetime
    completed_at: datetime | None


class QuestionResultPublic(BaseModel):
    question: str
    type: str
    n: int
    status: str
    mean: float | None = None
    distribution: dict[str, int] | None = None
    comments: list[str] | None = None


class PulseGroupPublic(BaseModel):
    unit_id: int
    parent_id: int | None
    name: str
    respondents: int
    status: str
    questions: list[QuestionResultPublic]


class PulseResultsPublic(BaseModel):
    survey_id: int
    wave: str
    min_group: int
    waves: list[str]
    groups: list[PulseGroupPublic]


@router.get("/survey-invitations")
def list_invitations(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: Pagination,
    survey_id: int | None = None,
    program_id: int | None = None,
    status: str | None = None,
) -> Page[InvitationPublic]:
    principal.require("surveys:read")
    filters = []
    if survey_id is not None:
        filters.append(SurveyInvitation.survey_id == survey_id)
    if program_id is not None:
        filters.append(SurveyInvitation.program_id == program_id)
    if status is not None:
        filters.append(SurveyInvitation.status == status)
    rows, count = scoped_page(
        session,
        principal.scope,
        SurveyInvitation,
        filters=filters,
        limit=page.limit,
        offset=page.offset,
    )
    data = [InvitationPublic.model_validate(r) for r in rows]
    return Page(data=data, count=count, limit=page.limit, offset=page.offset)


@router.get("/survey-invitations/{invitation_id}")
def get_invitation(
    invitation_id: int, principal: CurrentPrincipal, session: SessionDep
) -> InvitationPublic:
    principal.require("surveys:read")
    row = visible_or_404(
        session, principal.scope, SurveyInvitation, invitation_id, "survey invitation"
    )
    return InvitationPublic.model_validate(row)


def _no_pulse(survey: Survey) -> None:
    if survey.kind == "pulse":
        raise ApiError(
            403,
            "individual pulse responses are never shown; use /surveys/{id}/pulse for results",
            field="survey_id",
        )


@router.get("/survey-responses")
def list_responses(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: Pagination,
    survey_id: int,
    status: str = "complete",
) -> Page[ResponsePublic]:
    principal.require("surveys:read")
    _no_pulse(visible_survey(session, principal, survey_id))
    rows, count = scoped_page(
        session,
        principal.scope,
        SurveyResponse,
        filters=[SurveyResponse.survey_id == survey_id, SurveyResponse.status == status],
        limit=page.limit,
        offset=page.offset,
    )
    data = [ResponsePublic.model_validate(r) for r in rows]
    return Page(data=data, count=count, limit=page.limit, offset=page.offset)


@router.get("/survey-responses/{response_id}")
def get_response(
    response_id: int, principal: CurrentPrincipal, session: SessionDep
) -> ResponsePublic:
    principal.require("surveys:read")
    row = scoped_get(session, principal.scope, SurveyResponse, response_id)
    survey = session.get(Survey, row.survey_id) if row is not None else None
    if row is None or survey is None or survey.kind == "pulse":
        raise NotFound("survey response")
    return ResponsePublic.model_validate(row)


@router.get("/surveys/{survey_id}/responses.csv", response_class=Response)
def export_responses(survey_id: int, principal: CurrentPrincipal, session: SessionDep) -> Response:
    principal.require("surveys:read")
    principal.require("export")
    survey = visible_survey(session, principal, survey_id)
    _no_pulse(survey)
    text, n = responses_csv(session=session, survey=survey, scope=principal.scope)
    audit.record(
        session,
        principal.actor,
        "export",
        target_type="survey_responses",
        target_id=survey.id,
        org_unit_id=survey.org_unit_id,
        rows=n,
    )
    return csv_download(text, f"survey-{survey.key}.csv")


@router.get("/surveys/{survey_id}/pulse")
def get_pulse_results(
    survey_id: int,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    wave: str | None = None,
) -> PulseResultsPublic:
    """Per-unit pulse results; groups under the minimum size show their count only."""
    principal.require("surveys:read")
    survey = visible_survey(session, principal, survey_id)
    if survey.kind != "pulse":
        raise ApiError(409, "not a pulse survey", field="survey_id")
    waves = pulse_waves(session, survey)
    chosen = wave or (waves[0] if waves else "")
    groups = pulse_results(
        session=session,
        survey=survey,
        wave=chosen,
        scope=principal.scope,
        min_group=settings.pulse_min_group,
        lang=principal.language,
    )
    return PulseResultsPublic(
        survey_id=survey.id,
        wave=chosen,
        min_group=max(3, settings.pulse_min_group),
        waves=waves,
        groups=[PulseGroupPublic.model_validate(g, from_attributes=True) for g in groups],
    )
