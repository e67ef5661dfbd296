"""The seam between the signal areas and closing the loop.

Ingestion code calls :func:`record_arrived` once per stored record; the act area never
imports the signal areas, and they never import the act internals. The other direction goes
through registries: a survey area registers a :data:`SurveySender` for re-survey invitations,
and each area with stored records registers a :class:`RecordSource` so rules can be
dry-run against the last 30 days and backlog items can gather evidence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuleRecord:
    """One incoming signal as the rule engine sees it.

    ``fields`` is the record shape of the rule language (``nps``, ``csat``, ``rating``,
    ``sentiment``, ``theme``, ``text``, ``dxs``, ``metrics``, ``segment``, ...); ``kind`` and
    ``org_unit`` are filled in from the other attributes. ``mentioned_user_ids`` are people the
    record names (praise goes to them). ``resurvey_case_id`` marks the reply to a case's
    re-survey: it updates that case's recovery score and fires no rule.
    """

    kind: str
    id: str
    org_unit_id: int
    fields: dict[str, Any] = field(default_factory=dict)
    customer_id: int | None = None
    at: datetime | None = None
    mentioned_user_ids: tuple[int, ...] = ()
    resurvey_case_id: int | None = None

    @property
    def score(self) -> float | None:
        """The headline score of the record (NPS, CSAT, CES or rating), for recovery."""
        for name in ("nps", "csat", "ces", "rating"):
            value = self.fields.get(name)
            if isinstance(value, int | float):
                return float(value)
        return None


@dataclass(frozen=True)
class Firing:
    rule_id: int
    rule_name: str
    record_kind: str
    record_id: str
    case_id: int | None = None
    delivery_ids: tuple[int, ...] = ()
    message_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class SurveyRequest:
    """Ask the survey program to invite a customer (a case's re-survey)."""

    customer_id: int | None
    org_unit_id: int
    case_id: int | None
    record_kind: str | None
    record_id: str | None
    reason: str = "resurvey"


# Returns an identifier of the invitation, or None when the program declined (contact
# policy, opted out, no survey configured).
SurveySender = Callable[..., str | None]


class RecordSource(Protocol):
    """Stored records of one kind, as :class:`RuleRecord`s."""

    def recent(
        self, session: Session, *, since: datetime, unit_ids: Sequence[int] | None
    ) -> Iterable[RuleRecord]: ...

    def by_ids(self, session: Session, ids: Sequence[str]) -> list[RuleRecord]: ...


_SOURCES: dict[str, RecordSource] = {}
_SURVEY_SENDERS: list[SurveySender] = []


def record_arrived(session: Session, record: RuleRecord) -> list[Firing]:
    """Evaluate the alert rules against a record that was just stored (same transaction)."""
    from cxloop.act.rules import evaluate_record

    return evaluate_record(session=session, record=record)


def records_arrived(session: Session, records: list[RuleRecord]) -> list[Firing]:
    """:func:`record_arrived` for a batch (imports): one rule-table check for all."""
    from cxloop.act.rules import evaluate_records

    return evaluate_records(session=session, records=records)


def register_source(kind: str, source: RecordSource) -> None:
    _SOURCES[kind] = source


def sources() -> dict[str, RecordSource]:
    from cxloop.act import sources as _builtin  # noqa: F401 - registers the built-in sources

    return dict(_SOURCES)


def register_survey_sender(sender: SurveySender) -> None:
    """``sender(session=..., request=SurveyRequest)``; the last registered one is used."""
    _SURVEY_SENDERS.append(sender)


def unregister_survey_sender(sender: SurveySender) -> None:
    if sender in _SURVEY_SENDERS:
        _SURVEY_SENDERS.remove(sender)


def request_survey(session: Session, request: SurveyRequest) -> str | None:
    """Send the invitation through the registered survey program; ``None`` when there is
    none or it declined."""
    from cxloop.act import sources as _builtin  # noqa: F401 - may register the survey sender

    if not _SURVEY_SENDERS:
        log.info("no survey sender registered; survey for case %s not sent", request.case_id)
        return None
    return _SURVEY_SENDERS[-1](session=session, request=request)
