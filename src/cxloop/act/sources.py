"""Built-in record sources for dry-runs and backlog evidence (survey responses, feedback,
digital sessions) and the re-survey sender, used when those areas are installed (a missing
model means none)."""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act.hooks import RecordSource, RuleRecord, register_source, register_survey_sender


def _model(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def response_record(row: Any, *, resurvey_case_id: int | None = None) -> RuleRecord:
    """The :class:`RuleRecord` of a stored survey response (for the survey area's hook call:
    ``hooks.record_arrived(session, response_record(response, resurvey_case_id=...))``)."""
    fields: dict[str, Any] = {
        k: getattr(row, k) for k in ("nps", "csat", "ces") if getattr(row, k) is not None
    }
    if row.comment:
        fields["text"] = row.comment
    if row.touchpoint:
        fields["touchpoint"] = row.touchpoint
    fields["language"] = row.language
    fields["source"] = "survey"
    return RuleRecord(
        "response",
        str(row.id),
        row.org_unit_id,
        fields,
        row.customer_id,
        row.completed_at,
        resurvey_case_id=resurvey_case_id,
    )


class ResponseSource:
    """Completed survey responses: ``nps``, ``csat``, ``ces``, ``text`` (the comment)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def _record(self, row: Any) -> RuleRecord:
        return response_record(row)

    def recent(
        self, session: Session, *, since: datetime, unit_ids: Sequence[int] | None
    ) -> Iterable[RuleRecord]:
        m = self.model
        stmt = select(m).where(m.completed_at >= since).order_by(m.id)
        if unit_ids is not None:
            stmt = stmt.where(m.org_unit_id.in_(unit_ids))
        for row in session.scalars(stmt).yield_per(500):
            yield self._record(row)

    def by_ids(self, session: Session, ids: Sequence[str]) -> list[RuleRecord]:
        m = self.model
        wanted = [int(i) for i in ids if str(i).isdigit()]
        return [self._record(r) for r in session.scalars(select(m).where(m.id.in_(wanted)))]


def feedback_records(session: Session, rows: Sequence[Any]) -> list[RuleRecord]:
    """The :class:`RuleRecord`s of stored feedback rows, themes included (for the feedback
    area's hook call after ingesting: ``for r in feedback_records(session, new_rows):
    hooks.record_arrived(session, r)``)."""
    feedback = _model("cxloop.store.models.feedback", "Feedback")
    theme = _model("cxloop.store.models.feedback", "FeedbackTheme")
    return FeedbackSource(feedback, theme)._records(session, list(rows))


def _in_batches(
    session: Session, stmt: Any, to_records: Callable[[Session, list[Any]], list[RuleRecord]]
) -> Iterator[RuleRecord]:
    """The records of the rows ``stmt`` selects, converted 500 rows at a time."""
    batch: list[Any] = []
    for row in session.scalars(stmt).yield_per(500):
        batch.append(row)
        if len(batch) == 500:
            yield from to_records(session, batch)
            batch = []
    yield from to_records(session, batch)


class FeedbackSource:
    """Analysed feedback: ``rating``, ``sentiment``, ``theme``, ``text`` (PII-masked)."""

    def __init__(self, model: Any, theme_model: Any) -> None:
        self.model = model
        self.theme_model = theme_model

    def _themes(self, session: Session, ids: list[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = defaultdict(list)
        if self.theme_model is None or not ids:
            return out
        t = self.theme_model
        for fid, theme in session.execute(
            select(t.feedback_id, t.theme_id).where(t.feedback_id.in_(ids))
        ):
            out[fid].append(theme)
        return out

    def _records(self, session: Session, rows: list[Any]) -> list[RuleRecord]:
        themes = self._themes(session, [r.id for r in rows])
        out = []
        for row in rows:
            fields: dict[str, Any] = {
                "text": row.display_text,
                "sentiment": row.sentiment_label,
                "sentiment_score": row.sentiment_score,
                "theme": themes.get(row.id, []),
                "language": row.language,
                "source": row.source,
            }
            if row.rating is not None:
                fields["rating"] = row.rating
                fields["rating_scale"] = row.rating_scale
            if row.touchpoint:
                fields["touchpoint"] = row.touchpoint
            out.append(
                RuleRecord(
                    "feedback",
                    str(row.id),
                    row.org_unit_id,
                    fields,
                    row.customer_id,
                    row.occurred_at,
                )
            )
        return out

    def recent(
        self, session: Session, *, since: datetime, unit_ids: Sequence[int] | None
    ) -> Iterable[RuleRecord]:
        m = self.model
        stmt = select(m).where(m.occurred_at >= since).order_by(m.id)
        if unit_ids is not None:
            stmt = stmt.where(m.org_unit_id.in_(unit_ids))
        yield from _in_batches(session, stmt, self._records)

    def by_ids(self, session: Session, ids: Sequence[str]) -> list[RuleRecord]:
        m = self.model
        wanted = [int(i) for i in ids if str(i).isdigit()]
        return self._records(session, list(session.scalars(select(m).where(m.id.in_(wanted)))))


def digital_session_record(row: Any, signal_types: Iterable[str]) -> RuleRecord:
    """The record of a scored digital session (kind ``digital_session``): ``dxs`` and
    ``signals``, the sorted distinct signal types."""
    return RuleRecord(
        "digital_session",
        str(row.id),
        row.org_unit_id,
        {
            "dxs": row.dxs,
            "signals": sorted(set(signal_types)),
            "source": "digital",
            "touchpoint": "web",
        },
        row.customer_id,
        row.last_seen_at,
    )


class DigitalSessionSource:
    """Scored sessions that were handed to the rules when they closed: the frustrated ones
    (a live rule never sees a calm session, so neither does a dry-run)."""

    def __init__(self, model: Any, signal_model: Any) -> None:
        self.model = model
        self.signal_model = signal_model

    def _records(self, session: Session, rows: list[Any]) -> list[RuleRecord]:
        sig = self.signal_model
        types: dict[int, set[str]] = defaultdict(set)
        if rows:
            for sid, type_ in session.execute(
                select(sig.session_id, sig.type)
                .where(sig.session_id.in_([r.id for r in rows]))
                .distinct()
            ):
                types[sid].add(type_)
        return [digital_session_record(r, types[r.id]) for r in rows]

    def _stmt(self) -> Any:
        m = self.model
        return select(m).where(m.frustrated.is_(True), m.dxs.is_not(None))

    def recent(
        self, session: Session, *, since: datetime, unit_ids: Sequence[int] | None
    ) -> Iterable[RuleRecord]:
        m = self.model
        stmt = self._stmt().where(m.last_seen_at >= since).order_by(m.id)
        if unit_ids is not None:
            stmt = stmt.where(m.org_unit_id.in_(unit_ids))
        yield from _in_batches(session, stmt, self._records)

    def by_ids(self, session: Session, ids: Sequence[str]) -> list[RuleRecord]:
        wanted = [int(i) for i in ids if str(i).isdigit()]
        rows = session.scalars(self._stmt().where(self.model.id.in_(wanted)))
        return self._records(session, list(rows))


def _register() -> None:
    response = _model("cxloop.store.models.surveys", "SurveyResponse")
    if _model("cxloop.signals.survey_invitations", "new_invitation") is not None:
        from cxloop.act.resurvey import send_resurvey

        register_survey_sender(send_resurvey)
    if response is not None:
        source: RecordSource = ResponseSource(response)
        register_source("response", source)
    feedback = _model("cxloop.store.models.feedback", "Feedback")
    if feedback is not None:
        theme = _model("cxloop.store.models.feedback", "FeedbackTheme")
        register_source("feedback", FeedbackSource(feedback, theme))
    digital = _model("cxloop.store.models.digital", "DigitalSession")
    if digital is not None:
        signal = _model("cxloop.store.models.digital", "DigitalSignal")
        register_source("digital_session", DigitalSessionSource(digital, signal))


_register()
