"""Survey admin pages: surveys, responses, invitations with their reasons, pulse results,
sensitivity rules."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from cxloop.signals import survey_programs as programs
from cxloop.signals import survey_views as views
from cxloop.signals.survey_definitions import SurveyDefinition
from cxloop.signals.survey_logic_preview import try_answers
from cxloop.signals.survey_pulse import pulse_results, pulse_waves
from cxloop.signals.surveys import (
    current_version,
    readable_survey,
    set_definition,
    title_in,
    versions,
)
from cxloop.store.models.surveys import SensitivityRuleRow, Survey, SurveyResponse
from cxloop.store.scope import scoped_get, scoped_page
from cxloop.web.api.surveys import widget_snippet
from cxloop.web.deps import PageUser, SessionDep, SettingsDep
from cxloop.web.errors import NotFound, visible_or_404
from cxloop.web.render import NavItem, render

router = APIRouter(include_in_schema=False)
NAV = [
    NavItem("signals", "surveys.nav.surveys", "/surveys", "surveys:read", 20),
    NavItem("signals", "surveys.nav.sensitivity", "/surveys/sensitivity-rules", "surveys:read", 21),
]


@router.get("/surveys")
def survey_list(request: Request, principal: PageUser, session: SessionDep) -> Response:
    principal.require("surveys:read")
    rows = views.survey_overview(session, principal.scope)
    return render(
        request, "surveys/list.html", principal, session=session, rows=rows, title_in=title_in
    )


def _survey(
    session: SessionDep, principal: PageUser, survey_id: int, *, write: bool = False
) -> Survey:
    survey = (
        scoped_get(session, principal.scope, Survey, survey_id)
        if write
        else readable_survey(session, principal.scope, survey_id)
    )
    if survey is None:
        raise NotFound("survey")
    return survey


@router.get("/surveys/sensitivity-rules")
def sensitivity_rules(request: Request, principal: PageUser, session: SessionDep) -> Response:
    principal.require("surveys:read")
    return _rules_page(request, principal, session)


def _rules_page(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    rows, _ = scoped_page(session, principal.scope, SensitivityRuleRow, limit=200)
    return render(
        request,
        "surveys/rules.html",
        principal,
        session=session,
        rules=rows,
        attributes=programs.SEGMENT_ATTRIBUTES,
        error=error,
        today=date.today(),
        status_code=status,
    )


@router.post("/surveys/sensitivity-rules")
def add_sensitivity_rule(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)],
    attribute: Annotated[str, Form(max_length=64)],
    values: Annotated[str, Form(max_length=2000)],
    start: Annotated[str, Form(max_length=10)],
    end: Annotated[str, Form(max_length=10)],
    reason: Annotated[str, Form(max_length=2000)],
) -> Response:
    principal.require("surveys:write")
    assert principal.user is not None
    try:
        data = programs.SensitivityRuleCreate(
            org_unit_id=principal.user.unit_ids[0],
            name=name,
            attribute=attribute,
            values=[v.strip() for v in values.split(",") if v.strip()],
            start=start,  # type: ignore[arg-type]
            end=end,  # type: ignore[arg-type]
            reason=reason,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "rule"
        return _rules_page(
            request, principal, session, error=f"{where}: {first['msg']}", status=422
        )
    programs.create_sensitivity_rule(session=session, data=data, created_by=principal.actor.label)
    return RedirectResponse("/surveys/sensitivity-rules", status_code=303)


@router.post("/surveys/sensitivity-rules/{rule_id}/toggle")
def toggle_sensitivity_rule(rule_id: int, principal: PageUser, session: SessionDep) -> Response:
    principal.require("surveys:write")
    row = visible_or_404(session, principal.scope, SensitivityRuleRow, rule_id, "sensitivity rule")
    row.active = not row.active
    return RedirectResponse("/surveys/sensitivity-rules", status_code=303)


@router.get("/surveys/responses/{response_id}")
def response_detail(
    response_id: int, request: Request, principal: PageUser, session: SessionDep
) -> Response:
    principal.require("surveys:read")
    row = scoped_get(session, principal.scope, SurveyResponse, response_id)
    survey = session.get(Survey, row.survey_id) if row else None
    if row is None or survey is None or survey.kind == "pulse":
        raise NotFound("survey response")
    definition = views.response_definition(session, row)
    return render(
        request,
        "surveys/response.html",
        principal,
        session=session,
        response=row,
        survey=survey,
        title=title_in(survey, principal.language),
        lines=views.answer_lines(definition, row.answers, principal.language),
    )


@router.get("/surveys/{survey_id}")
def survey_detail(
    survey_id: int,
    request: Request,
    principal: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    wave: str | None = None,
) -> Response:
    principal.require("surveys:read")
    survey = _survey(session, principal, survey_id)
    lang = principal.language
    version = current_version(session=session, survey=survey)
    invitations, counts = views.recent_invitations(session, survey, principal.scope)
    ctx: dict = {}
    if survey.kind == "pulse":
        waves = pulse_waves(session, survey)
        chosen = wave if wave in waves else (waves[0] if waves else "")
        ctx["pulse"] = pulse_results(
            session=session,
            survey=survey,
            wave=chosen,
            scope=principal.scope,
            min_group=settings.pulse_min_group,
            lang=lang,
        )
        ctx.update(waves=waves, wave=chosen, min_group=max(3, settings.pulse_min_group))
    else:
        ctx["responses"] = views.recent_responses(session, survey, principal.scope)
    n, e_nps, e_csat, e_ces = views.score_estimates(session, survey.id, principal.scope)
    base = settings.base_url.rstrip("/")
    return render(
        request,
        "surveys/detail.html",
        principal,
        session=session,
        survey=survey,
        title=title_in(survey, lang),
        version=version,
        definition=views.version_definition(version),
        versions=versions(session=session, survey=survey),
        programs=views.programs_of(session, survey),
        invitations=invitations,
        invitation_counts=counts,
        n=n,
        scores=None if survey.kind == "pulse" else {"nps": e_nps, "csat": e_csat, "ces": e_ces},
        public_url=f"{base}/s/p/{survey.public_token}" if survey.anonymous else None,
        snippet=widget_snippet(base, survey) if survey.anonymous else None,
        **ctx,
    )


@router.get("/surveys/{survey_id}/edit")
def edit_definition(
    survey_id: int, request: Request, principal: PageUser, session: SessionDep
) -> Response:
    principal.require("surveys:write")
    survey = _survey(session, principal, survey_id, write=True)
    version = current_version(session=session, survey=survey)
    text = json.dumps(version.definition, ensure_ascii=False, indent=2)
    return _edit_page(request, principal, session, survey, text)


def _parse(text: str) -> SurveyDefinition | str:
    """The definition, or an error that names the line or the question and the problem."""
    try:
        return SurveyDefinition.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        return f"JSON, line {exc.lineno}: {exc.msg}"
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "definition"
        return f"{where}: {first['msg'].removeprefix('Value error, ')}"


def _edit_page(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    survey: Survey,
    text: str,
    *,
    error: str | None = None,
    samples: dict[str, list[str]] | None = None,
    status: int | None = None,
    fragment: bool = False,
) -> Response:
    """The editor, or only its logic panel (``fragment``, for htmx: always a 200 so that
    htmx shows the error it carries)."""
    parsed = _parse(text)
    if status is None:
        status = 422 if isinstance(parsed, str) and not fragment else 200
    lang = principal.language
    samples = samples or {}
    tried = try_answers(parsed, samples, lang) if isinstance(parsed, SurveyDefinition) else None
    return render(
        request,
        "surveys/_logic_preview.html" if fragment else "surveys/edit.html",
        principal,
        session=session,
        survey=survey,
        title=title_in(survey, lang),
        text=text,
        error=error,
        preview_error=parsed if isinstance(parsed, str) else None,
        tried=tried,
        samples=samples,
        status_code=status,
    )


@router.post("/surveys/{survey_id}/edit")
def save_definition(
    survey_id: int,
    request: Request,
    principal: PageUser,
    session: SessionDep,
    definition: Annotated[str, Form(max_length=200_000)],
) -> Response:
    principal.require("surveys:write")
    survey = _survey(session, principal, survey_id, write=True)
    parsed = _parse(definition)
    if isinstance(parsed, str):
        return _edit_page(request, principal, session, survey, definition, error=parsed, status=422)
    set_definition(session=session, survey=survey, definition=parsed)
    return RedirectResponse(f"/surveys/{survey.id}", status_code=303)


async def _posted(request: Request) -> FormData:
    return await request.form()


@router.post("/surveys/{survey_id}/edit/preview")
def preview_definition(
    survey_id: int,
    request: Request,
    principal: PageUser,
    session: SessionDep,
    data: Annotated[FormData, Depends(_posted)],
    definition: Annotated[str, Form(max_length=200_000)],
) -> Response:
    """The logic panel for the draft in the editor and the sample answers picked in it:
    the panel alone for htmx, the whole editor otherwise (no script needed)."""
    principal.require("surveys:write")
    survey = _survey(session, principal, survey_id, write=True)
    samples = {
        key.removeprefix("s_"): [v for v in data.getlist(key) if isinstance(v, str) and v]
        for key in data
        if key.startswith("s_")
    }
    htmx = request.headers.get("hx-request") == "true"
    return _edit_page(
        request,
        principal,
        session,
        survey,
        definition,
        samples=samples,
        fragment=htmx,
    )
