"""Answering a survey: open a form by personal or public link, save each answer, submit.

Personal links are single-use: once a response is complete the first answer stands.
Anonymous pulse answers are kept on the invitation while in progress and, on submission,
written as a response with no link to the person and a day-rounded date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.signals.survey_definitions import SurveyDefinition
from cxloop.signals.survey_logic import (
    AnswerError,
    extract,
    merge_answers,
    missing_required,
)
from cxloop.signals.survey_publish import mark_pending
from cxloop.signals.surveys import current_version, version_definition
from cxloop.store.models.customers import CustomerIdentity
from cxloop.store.models.surveys import (
    Survey,
    SurveyEvent,
    SurveyInvitation,
    SurveyProgram,
    SurveyResponse,
    SurveyVersion,
)

FormState = Literal["open", "used", "closed", "expired"]

log = logging.getLogger(__name__)


@dataclass
class Form:
    """A survey form as one visitor sees it."""

    state: FormState
    survey: Survey
    version: SurveyVersion
    definition: SurveyDefinition
    answers: dict[str, Any]
    language: str
    invitation: SurveyInvitation | None = None
    response: SurveyResponse | None = None

    @property
    def anonymous_pulse(self) -> bool:
        return self.survey.kind == "pulse" and self.survey.anonymous


def day_of(moment: datetime) -> datetime:
    """Midnight UTC of ``moment``: precise enough to count, too coarse to re-identify."""
    return datetime.combine(moment.astimezone(UTC).date(), time(), tzinfo=UTC)


def has_completed(session: Session, inv: SurveyInvitation) -> bool:
    if inv.responded_on is not None:
        return True
    stmt = select(SurveyResponse.status).where(SurveyResponse.invitation_id == inv.id)
    return session.scalar(stmt) == "complete"


def _survey_state(survey: Any, now: datetime) -> FormState:
    if survey.status != "live" or (survey.closes_at is not None and survey.closes_at <= now):
        return "closed"
    return "open"


def invitation_state(
    survey: Any, inv: Any, response_status: str | None, now: datetime
) -> FormState:
    """Open, used, closed or expired: of an invitation (row or model) and its survey."""
    state = _survey_state(survey, now)
    if inv.responded_on is not None or response_status == "complete":
        return "used"
    if state == "open" and (
        inv.status not in ("sent", "sending", "scheduled")
        or (inv.expires_at is not None and inv.expires_at <= now)
    ):
        return "expired"
    return state


def open_invitation(
    *, session: Session, inv: SurveyInvitation, now: datetime, language: str | None = None
) -> Form:
    """The form behind a personal link, in its state (open, used, closed or expired)."""
    survey = session.get(Survey, inv.survey_id)
    assert survey is not None
    response = session.scalar(select(SurveyResponse).where(SurveyResponse.invitation_id == inv.id))
    version = (
        session.get(SurveyVersion, response.version_id)
        if response is not None
        else current_version(session=session, survey=survey)
    )
    assert version is not None
    lang = language or (response.language if response and response.language else inv.language)
    state = invitation_state(survey, inv, response.status if response else None, now)
    answers = response.answers if response is not None else dict(inv.draft or {})
    return Form(state, survey, version, version_definition(version), answers, lang, inv, response)


def open_public(*, session: Session, survey: Survey, nonce: str | None, language: str) -> Form:
    """The anonymous public or widget form; ``nonce`` names the visitor's response."""
    response = None
    if nonce:
        response = session.scalar(
            select(SurveyResponse).where(
                SurveyResponse.form_nonce == nonce, SurveyResponse.survey_id == survey.id
            )
        )
    version = (
        session.get(SurveyVersion, response.version_id)
        if response is not None
        else current_version(session=session, survey=survey)
    )
    assert version is not None
    state: FormState = (
        "closed" if not survey.anonymous else _survey_state(survey, datetime.now(UTC))
    )
    if response is not None and response.status == "complete":
        state = "used"
    answers = response.answers if response is not None else {}
    return Form(
        state, survey, version, version_definition(version), answers, language, None, response
    )


def _new_response(session: Session, form: Form, *, channel: str, nonce: str | None, now: datetime):
    inv = form.invitation
    event = session.get(SurveyEvent, inv.event_id) if inv and inv.event_id else None
    response = SurveyResponse(
        org_unit_id=inv.org_unit_id if inv else form.survey.org_unit_id,
        survey_id=form.survey.id,
        version_id=form.version.id,
        program_id=inv.program_id if inv else None,
        invitation_id=inv.id if inv else None,
        event_id=event.id if event else None,
        customer_id=inv.customer_id if inv else None,
        form_nonce=nonce,
        channel=channel,
        touchpoint=(inv.touchpoint if inv else None) or (event.touchpoint if event else None),
        wave=inv.wave if inv else "",
        language=form.language,
        status="partial",
        answers={},
        started_at=now,
    )
    session.add(response)
    form.response = response
    return response


def save_answers(
    *,
    session: Session,
    form: Form,
    given: dict[str, Any],
    complete: bool,
    now: datetime,
    channel: str = "email",
    nonce: str | None = None,
) -> Form:
    """Validate and store ``given`` answers; with ``complete`` check required and submit.

    Raises ``AnswerError`` naming the question. Only an open form takes answers. The
    comment of a completed response goes to the feedback pipeline afterwards, as a job
    (``survey_comment_to_feedback``): sentiment analysis has no place in the request; so
    does the completed response to the listeners (``publish_survey_responses``).
    """
    if form.state != "open":
        raise AnswerError("survey", f"this survey link is {form.state}")
    answers = merge_answers(form.definition, form.answers, given)
    if complete:
        missing = missing_required(form.definition, answers)
        if missing:
            raise AnswerError(missing[0], "an answer is required")
    form.answers = answers
    if form.anonymous_pulse and form.invitation is not None:
        _save_anonymous_pulse(session, form, complete, now)
        return form
    response = form.response or _new_response(
        session, form, channel=channel if form.invitation else "link", nonce=nonce, now=now
    )
    response.answers = answers
    response.language = form.language
    if complete:
        found = extract(form.definition, answers)
        response.nps, response.csat, response.ces = found.nps, found.csat, found.ces
        response.comment = found.comment
        response.status, response.completed_at = "complete", now
        response.comment_pending = bool(found.comment) and form.survey.kind != "pulse"
        response.publish_pending = form.survey.kind != "pulse"
        if form.invitation is not None:
            form.invitation.responded_on = now.date()
        form.state = "used"
    session.flush()
    if complete and response.publish_pending:
        mark_pending(session)
    return form


def _save_anonymous_pulse(session: Session, form: Form, complete: bool, now: datetime) -> None:
    inv = form.invitation
    assert inv is not None
    if not complete:
        inv.draft = dict(form.answers)
        return
    found = extract(form.definition, form.answers)
    day = day_of(now)
    program = session.get(SurveyProgram, inv.program_id) if inv.program_id else None
    # No invitation, person, customer, language or precise time: nothing to join on.
    session.add(
        SurveyResponse(
            org_unit_id=inv.org_unit_id,
            survey_id=form.survey.id,
            version_id=form.version.id,
            program_id=program.id if program else None,
            channel="pulse",
            wave=inv.wave,
            language="",
            status="complete",
            answers=dict(form.answers),
            nps=found.nps,
            csat=found.csat,
            ces=found.ces,
            comment=found.comment,
            started_at=day,
            completed_at=day,
        )
    )
    inv.draft = {}
    inv.responded_on = day.date()
    form.state = "used"
    session.flush()


def _feedback_item(session: Session, response: SurveyResponse, survey_key: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "source": "survey_comment",
        "text": response.comment,
        "external_id": f"survey-response-{response.id}",
        "occurred_at": response.completed_at or response.started_at,
        "language": response.language or None,
        "org_unit_id": response.org_unit_id,
        "touchpoint": (response.touchpoint or "")[:64] or None,
        "channel": "survey",
        "attributes": {"survey": survey_key, "response_id": response.id},
    }
    rating = next(
        ((v, scale) for v, scale in ((response.nps, 10), (response.csat, 5)) if v is not None),
        None,
    )
    if rating is not None:
        item["rating"], item["rating_scale"] = float(rating[0]), rating[1]
    if response.customer_id is not None:
        identity = session.scalar(
            select(CustomerIdentity)
            .where(CustomerIdentity.customer_id == response.customer_id)
            .order_by(CustomerIdentity.id)
        )
        if identity is not None:
            item["customer"] = {identity.kind: identity.value}
    return item


def comments_to_feedback(*, session: Session, limit: int = 500) -> int:
    """Hand pending survey comments to the feedback pipeline (source ``survey_comment``),
    where they get sentiment and themes; returns how many were handed over.

    Runs as a job, in batches (analysis is batched too), never in the answering request.
    Idempotent: the feedback external id is the response id. Pulse comments never go
    there: feedback records are read one by one, which would undo the anonymity threshold.
    """
    from cxloop.signals.feedback import IngestContext, ingest

    rows = session.execute(
        select(SurveyResponse, Survey.key, Survey.kind)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(SurveyResponse.comment_pending.is_(True))
        .order_by(SurveyResponse.id)
        .limit(limit)
    ).all()
    todo = []
    for response, key, kind in rows:
        response.comment_pending = False
        if kind != "pulse" and response.comment:
            todo.append((response, _feedback_item(session, response, key)))
    if not todo:
        session.flush()
        return 0
    results = ingest(
        session=session, items=[item for _, item in todo], context=IngestContext(scope=None)
    )
    for (response, _), result in zip(todo, results, strict=True):
        response.feedback_ids = [str(result.id)] if result.id is not None else []
    session.flush()
    return sum(1 for r in results if r.id is not None)
