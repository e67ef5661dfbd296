"""Employee-pulse results per org unit, with the anonymity threshold applied.

Visibility is decided on the whole unit tree of the survey, the same for every viewer,
and only then narrowed to the viewer's scope: two managers comparing notes see
consistent, equally suppressed figures. Results exist per wave only; there is no
cross-wave total that could be differenced against a single wave.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.insight.pulse import Why, subtree_counts, visible_groups
from cxloop.signals.survey_definitions import Question
from cxloop.signals.surveys import current_version, version_definition
from cxloop.store.models.org import OrgUnit
from cxloop.store.models.surveys import Survey, SurveyResponse, SurveyVersion
from cxloop.store.scope import Scope


@dataclass(frozen=True)
class QuestionResult:
    question: str
    type: str
    n: int
    status: Why
    mean: float | None = None
    distribution: dict[str, int] | None = None
    comments: list[str] | None = None


@dataclass(frozen=True)
class GroupResult:
    unit_id: int
    parent_id: int | None
    name: str
    respondents: int
    status: Why
    questions: list[QuestionResult]


def pulse_waves(session: Session, survey: Survey) -> list[str]:
    stmt = (
        select(SurveyResponse.wave)
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.status == "complete")
        .distinct()
    )
    return sorted((w for w in session.scalars(stmt).all()), reverse=True)


def _summary(q: Question, values: list[Any], status: Why) -> QuestionResult:
    if status != "shown":
        return QuestionResult(q.id, q.type, len(values), status)
    if q.scale:
        counts = Counter(int(v) for v in values)
        mean = sum(values) / len(values) if values else None
        dist = {str(s): counts[s] for s in q.scale}
        return QuestionResult(q.id, q.type, len(values), status, mean, dist)
    if q.type in ("single", "multi"):
        picked: Counter[str] = Counter(
            v for value in values for v in (value if isinstance(value, list) else [value])
        )
        dist = {c.value: picked[c.value] for c in q.choices}
        return QuestionResult(q.id, q.type, len(values), status, None, dist)
    # Sorted, not in arrival order: order could be matched against who answered when.
    return QuestionResult(q.id, q.type, len(values), status, comments=sorted(map(str, values)))


def pulse_results(
    *, session: Session, survey: Survey, wave: str, scope: Scope, min_group: int, lang: str
) -> list[GroupResult]:
    """Per-unit results of one wave; suppressed groups carry counts only."""
    root_path = session.scalar(select(OrgUnit.path).where(OrgUnit.id == survey.org_unit_id))
    units = session.scalars(
        select(OrgUnit).where(OrgUnit.path.startswith(root_path or "/")).order_by(OrgUnit.path)
    ).all()
    pairs = [(u.id, u.parent_id if u.id != survey.org_unit_id else None) for u in units]
    rows = session.execute(
        select(SurveyResponse.org_unit_id, SurveyResponse.answers, SurveyResponse.version_id).where(
            SurveyResponse.survey_id == survey.id,
            SurveyResponse.status == "complete",
            SurveyResponse.wave == wave,
        )
    ).all()
    definition = version_definition(current_version(session=session, survey=survey))
    # Older versions' answers count for questions that still exist under the same id.
    defs = {
        v.id: version_definition(v)
        for v in session.scalars(select(SurveyVersion).where(SurveyVersion.survey_id == survey.id))
    }
    direct = Counter(unit for unit, _, _ in rows)
    respondents = visible_groups(subtree_counts(pairs, dict(direct)), min_group)
    per_question: dict[str, dict[int, list[Any]]] = {q.id: {} for q in definition.questions}
    for unit, answers, version_id in rows:
        known = defs.get(version_id, definition)
        for qid, value in answers.items():
            if qid in per_question and known.question(qid) is not None:
                per_question[qid].setdefault(unit, []).append(value)
    parent_of = dict(pairs)
    subtree: dict[int, list[int]] = {u.id: [] for u in units}
    for u in units:
        node: int | None = u.id
        while node is not None and node in subtree:
            subtree[node].append(u.id)
            node = parent_of.get(node)
    visibility = {
        q.id: visible_groups(
            subtree_counts(pairs, {u: len(v) for u, v in per_question[q.id].items()}), min_group
        )
        for q in definition.questions
    }
    visible_units = {u.id for u in units if scope.contains(session, u.id)}
    out = []
    for u in units:
        if u.id not in visible_units:
            continue
        questions = []
        for q in definition.questions:
            values = [v for d in subtree[u.id] for v in per_question[q.id].get(d, [])]
            questions.append(_summary(q, values, visibility[q.id].status[u.id]))
        total = sum(direct.get(d, 0) for d in subtree[u.id])
        out.append(
            GroupResult(
                u.id,
                parent_of.get(u.id),
                u.display_name(lang),
                total,
                respondents.status[u.id],
                questions,
            )
        )
    return out
