"""Submitting a personal link's form in a few Core statements (the hot path).

:func:`open_personal` reads the invitation, its survey, any saved response and the
version key in one query; the parsed definition comes from the per-process cache.
:func:`complete` writes what ``save_answers`` writes for a completed response (the same
columns and values) with one INSERT or UPDATE and one UPDATE of the invitation; like every
completion it leaves the response to the publishing job (``survey_publish``). Anything
unusual (a pulse, a closed or used link) is left to the ORM path in ``survey_responses``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from cxloop.signals.survey_definitions import SurveyDefinition
from cxloop.signals.survey_logic import extract
from cxloop.signals.survey_publish import mark_pending
from cxloop.signals.survey_responses import FormState, invitation_state
from cxloop.signals.surveys import cached_definition
from cxloop.store.models.surveys import (
    Survey,
    SurveyEvent,
    SurveyInvitation,
    SurveyResponse,
    SurveyVersion,
)

_I, _S, _R, _V, _E = SurveyInvitation, Survey, SurveyResponse, SurveyVersion, SurveyEvent
_RESPONSES = cast(Table, SurveyResponse.__table__)
_INVITATIONS = cast(Table, SurveyInvitation.__table__)


@dataclass
class _Invitation:
    id: int
    nonce: str
    status: str
    expires_at: datetime | None
    responded_on: date | None
    org_unit_id: int
    program_id: int | None
    customer_id: int | None
    touchpoint: str | None
    wave: str
    language: str


@dataclass
class _Survey:
    id: int
    kind: str
    status: str
    closes_at: datetime | None


@dataclass
class QuickForm:
    """A personal link's form, as plain values."""

    invitation: _Invitation
    survey: _Survey
    state: FormState
    version_id: int
    definition: SurveyDefinition
    response_id: int | None
    answers: dict[str, Any]
    event_id: int | None
    event_touchpoint: str | None


_QUERY = (
    select(
        _I.id,
        _I.nonce,
        _I.status,
        _I.expires_at,
        _I.responded_on,
        _I.org_unit_id,
        _I.program_id,
        _I.customer_id,
        _I.touchpoint,
        _I.wave,
        _I.language,
        _S.id,
        _S.kind,
        _S.status,
        _S.closes_at,
        _R.id,
        _R.status,
        _R.answers,
        _V.id,
        _V.survey_id,
        _V.created_at,
        _E.id,
        _E.touchpoint,
    )
    .join(_S, _S.id == _I.survey_id)
    .outerjoin(_R, _R.invitation_id == _I.id)
    .outerjoin(_V, _V.id == func.coalesce(_R.version_id, _S.current_version_id))
    .outerjoin(_E, _E.id == _I.event_id)
)


_OPEN = _QUERY.where(_I.id == bindparam("invitation_id"))
# Built once, values bound at execution: building ``.values(...)`` per submit cost more
# than running the statement.
_INSERT = insert(_RESPONSES)
_UPDATE = update(_RESPONSES).where(_R.id == bindparam("b_id"))
_RESPONDED = (
    update(_INVITATIONS).where(_I.id == bindparam("b_id")).values(responded_on=bindparam("b_day"))
)


def open_personal(session: Session, invitation_id: int, now: datetime) -> QuickForm | None:
    """The form behind invitation ``invitation_id``; ``None`` if there is none (or no
    version). The caller checks the link's HMAC against ``form.invitation``."""
    row: Any = session.connection().execute(_OPEN, {"invitation_id": invitation_id}).one_or_none()
    if row is None or row[18] is None:
        return None
    inv = _Invitation(*row[:11])
    survey = _Survey(*row[11:15])
    key = (row[18], row[19], row[20])

    def load() -> dict[str, Any]:
        return session.scalars(select(_V.definition).where(_V.id == key[0])).one()

    return QuickForm(
        invitation=inv,
        survey=survey,
        state=invitation_state(survey, inv, row[16], now),
        version_id=key[0],
        definition=cached_definition(key, load),
        response_id=row[15],
        answers=dict(row[17] or {}) if row[15] is not None else {},
        event_id=row[21],
        event_touchpoint=row[22],
    )


def complete(
    session: Session, form: QuickForm, answers: dict[str, Any], *, language: str, now: datetime
) -> int:
    """Store checked ``answers`` as the completed response (``save_answers(complete=True)``
    for a customer survey's open personal link); returns the response id."""
    inv = form.invitation
    conn = session.connection()  # Core all the way: no ORM state to flush for these rows
    found = extract(form.definition, answers)
    values: dict[str, Any] = {
        "answers": answers,
        "language": language,
        "nps": found.nps,
        "csat": found.csat,
        "ces": found.ces,
        "comment": found.comment,
        "status": "complete",
        "completed_at": now,
        "comment_pending": bool(found.comment),
        "publish_pending": True,
    }
    if form.response_id is None:
        values.update(
            org_unit_id=inv.org_unit_id,
            survey_id=form.survey.id,
            version_id=form.version_id,
            program_id=inv.program_id,
            invitation_id=inv.id,
            event_id=form.event_id,
            customer_id=inv.customer_id,
            form_nonce=None,
            channel="email",
            touchpoint=inv.touchpoint or form.event_touchpoint,
            wave=inv.wave,
            started_at=now,
        )
        result = conn.execute(_INSERT, values)
        response_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    else:
        response_id = form.response_id
        conn.execute(_UPDATE, {**values, "b_id": response_id})
    conn.execute(_RESPONDED, {"b_id": inv.id, "b_day": now.date()})
    mark_pending(session)
    return response_id
