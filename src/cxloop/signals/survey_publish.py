"""Completed survey responses reach the listeners from a job, in batches.

Submitting marks the response ``publish_pending`` in its own transaction (no listener runs
in the answering request) and :func:`mark_pending` notes on the session that a response
waits; the web layer then nudges the ``publish_survey_responses`` job once the transaction
has committed, and that job also runs every minute, so a response marked before a crash
is published after it. :func:`publish_pending` claims a batch and hands it to every
listener at once (:func:`~cxloop.signals.listeners.publish`: each in its savepoint).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, select, true, update
from sqlalchemy.orm import Session

from cxloop.signals.listeners import publish
from cxloop.store.models.surveys import SurveyResponse

TASK = "publish_survey_responses"
BATCH = 200  # a batch holds SQLite's write lock for about 20 ms at most
_FLAG = "cxloop.survey_publish_pending"

_RESPONSES = cast(Table, SurveyResponse.__table__)
_WAITING = _RESPONSES.alias("waiting")
# One statement claims and reads a batch. ``publish_pending`` is checked again on the
# claimed rows: a PostgreSQL drain that waited on another's row locks skips its rows.
_CLAIM = (
    update(_RESPONSES)
    .where(
        _RESPONSES.c.publish_pending == true(),
        _RESPONSES.c.id.in_(
            select(_WAITING.c.id)
            .where(_WAITING.c.publish_pending == true())
            .order_by(_WAITING.c.id)
            .limit(bindparam("n"))
        ),
    )
    .values(publish_pending=False)
    .returning(*_RESPONSES.c)
)


def mark_pending(session: Session) -> None:
    """Note that this transaction stores a response for the listeners (see
    :func:`has_pending`)."""
    session.info[_FLAG] = True


def has_pending(session: Session) -> bool:
    """Whether the work done in ``session`` left a response for the publishing job."""
    return bool(session.info.get(_FLAG))


def publish_pending(*, session: Session, limit: int = BATCH) -> int:
    """Hand up to ``limit`` waiting responses, oldest first, to the listeners in the
    caller's transaction; returns how many. Two drains at once never publish a row twice."""
    rows: list[Any] = list(session.connection().execute(_CLAIM, {"n": limit}).all())
    if rows:
        rows.sort(key=lambda r: r.id)
        publish(session, "survey_response", rows)
    return len(rows)
