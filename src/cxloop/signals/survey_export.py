"""CSV export of survey responses, safe to open in a spreadsheet."""

from __future__ import annotations

import io

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.csv_export import csv_safe, csv_writer
from cxloop.signals.surveys import current_version, version_definition
from cxloop.store.models.surveys import Survey, SurveyResponse, SurveyVersion
from cxloop.store.scope import Scope

FIXED = [
    "response_id",
    "completed_at",
    "version",
    "org_unit_id",
    "customer_id",
    "program_id",
    "event_id",
    "touchpoint",
    "channel",
    "language",
    "nps",
    "csat",
    "ces",
    "comment",
]


def responses_csv(*, session: Session, survey: Survey, scope: Scope) -> tuple[str, int]:
    """Completed responses in ``scope`` as CSV text, and how many rows."""
    definition = version_definition(current_version(session=session, survey=survey))
    qids = [q.id for q in definition.questions]
    numbers = dict(
        session.execute(
            select(SurveyVersion.id, SurveyVersion.number).where(
                SurveyVersion.survey_id == survey.id
            )
        ).all()
    )
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(FIXED + [f"q_{q}" for q in qids])
    stmt = (
        select(SurveyResponse)
        .where(
            SurveyResponse.survey_id == survey.id,
            SurveyResponse.status == "complete",
            scope.condition(SurveyResponse.org_unit_id),
        )
        .order_by(SurveyResponse.id)
    )
    n = 0
    for r in session.scalars(stmt):
        fixed = [
            r.id,
            r.completed_at.isoformat() if r.completed_at else "",
            numbers.get(r.version_id, ""),
            r.org_unit_id,
            r.customer_id,
            r.program_id,
            r.event_id,
            r.touchpoint,
            r.channel,
            r.language,
            r.nps,
            r.csat,
            r.ces,
            r.comment,
        ]
        writer.writerow([csv_safe(v) for v in fixed] + [csv_safe(r.answers.get(q)) for q in qids])
        n += 1
    return out.getvalue(), n
