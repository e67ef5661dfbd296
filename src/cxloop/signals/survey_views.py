"""Read models for the survey admin pages: overviews and recent activity in a scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.insight.scores import Estimate, ces_mean, csat_top2, nps
from cxloop.signals.survey_definitions import SurveyDefinition
from cxloop.signals.surveys import readable_surveys, version_definition
from cxloop.store.models.surveys import (
    Survey,
    SurveyInvitation,
    SurveyProgram,
    SurveyResponse,
    SurveyVersion,
)
from cxloop.store.scope import Scope


@dataclass(frozen=True)
class SurveyRow:
    survey: Survey
    version: int
    responses: int
    nps: Estimate | None
    csat: Estimate | None
    ces: Estimate | None


@dataclass(frozen=True)
class AnswerLine:
    question: str
    answer: str


def _estimate(fn: Any, values: list[int]) -> Estimate | None:
    if not values:
        return None
    try:
        estimate: Estimate = fn(np.asarray(values, dtype=float))
    except ValueError:
        return None
    return estimate


def score_estimates(
    session: Session, survey_id: int, scope: Scope
) -> tuple[int, Estimate | None, Estimate | None, Estimate | None]:
    rows = session.execute(
        select(SurveyResponse.nps, SurveyResponse.csat, SurveyResponse.ces).where(
            SurveyResponse.survey_id == survey_id,
            SurveyResponse.status == "complete",
            scope.condition(SurveyResponse.org_unit_id),
        )
    ).all()
    cols: list[list[int]] = [[], [], []]
    for row in rows:
        for i, value in enumerate(row):
            if value is not None:
                cols[i].append(int(value))
    return (
        len(rows),
        _estimate(nps, cols[0]),
        _estimate(csat_top2, cols[1]),
        _estimate(ces_mean, cols[2]),
    )


def survey_overview(session: Session, scope: Scope) -> list[SurveyRow]:
    surveys, _ = readable_surveys(session, scope, limit=500)
    numbers = dict(session.execute(select(SurveyVersion.id, SurveyVersion.number)).all())
    out = []
    for s in surveys:
        n, e_nps, e_csat, e_ces = score_estimates(session, s.id, scope)
        if s.kind == "pulse":  # pulse scores only through the anonymity threshold
            e_nps = e_csat = e_ces = None
        out.append(SurveyRow(s, numbers.get(s.current_version_id or 0, 0), n, e_nps, e_csat, e_ces))
    return out


def programs_of(session: Session, survey: Survey) -> list[SurveyProgram]:
    stmt = select(SurveyProgram).where(SurveyProgram.survey_id == survey.id)
    return list(session.scalars(stmt.order_by(SurveyProgram.id)).all())


def recent_invitations(
    session: Session, survey: Survey, scope: Scope, limit: int = 50
) -> tuple[list[SurveyInvitation], dict[str, int]]:
    base = select(SurveyInvitation).where(
        SurveyInvitation.survey_id == survey.id, scope.condition(SurveyInvitation.org_unit_id)
    )
    rows = session.scalars(base.order_by(SurveyInvitation.id.desc()).limit(limit)).all()
    counts = dict(
        session.execute(
            select(SurveyInvitation.status, func.count())
            .where(
                SurveyInvitation.survey_id == survey.id,
                scope.condition(SurveyInvitation.org_unit_id),
            )
            .group_by(SurveyInvitation.status)
        ).all()
    )
    return list(rows), {str(k): int(v) for k, v in counts.items()}


def recent_responses(
    session: Session, survey: Survey, scope: Scope, limit: int = 50
) -> list[SurveyResponse]:
    stmt = (
        select(SurveyResponse)
        .where(
            SurveyResponse.survey_id == survey.id,
            SurveyResponse.status == "complete",
            scope.condition(SurveyResponse.org_unit_id),
        )
        .order_by(SurveyResponse.completed_at.desc(), SurveyResponse.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt).all())


def answer_lines(
    definition: SurveyDefinition, answers: dict[str, Any], lang: str
) -> list[AnswerLine]:
    """Answers with the question and choice texts of the version that was answered."""
    lines = []
    for q in definition.questions:
        if q.id not in answers:
            continue
        value = answers[q.id]
        labels = {c.value: c.label.get(lang) for c in q.choices}
        if isinstance(value, list):
            shown = ", ".join(labels.get(v, str(v)) for v in value)
        else:
            shown = labels.get(value, str(value)) if labels else str(value)
        lines.append(AnswerLine(q.text.get(lang), shown))
    return lines


def response_definition(session: Session, response: SurveyResponse) -> SurveyDefinition:
    version = session.get(SurveyVersion, response.version_id)
    assert version is not None
    return version_definition(version)
