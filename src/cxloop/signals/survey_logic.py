"""Answer validation and display logic for a survey definition. Pure: no database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cxloop.signals.survey_definitions import SCORE_TYPES, Question, SurveyDefinition


class AnswerError(ValueError):
    """An answer is not valid for its question; ``question`` names it."""

    def __init__(self, question: str, message: str) -> None:
        super().__init__(f"{question}: {message}")
        self.question = question
        self.message = message


def _as_int(q: Question, value: Any) -> int:
    if isinstance(value, bool):
        raise AnswerError(q.id, "must be a whole number")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise AnswerError(q.id, "must be a whole number")
    if value not in q.scale:
        raise AnswerError(q.id, f"must be between {q.scale_min} and {q.scale_max}")
    return value


def clean_answer(q: Question, value: Any) -> Any:
    """The normalised answer, ``None`` for an empty one; raises ``AnswerError``."""
    if value is None or value == "" or value == []:
        return None
    if q.scale:
        return _as_int(q, value)
    if q.type == "text":
        if not isinstance(value, str):
            raise AnswerError(q.id, "must be text")
        text = value.replace("\x00", "").strip()
        if len(text) > q.max_length:
            raise AnswerError(q.id, f"must be at most {q.max_length} characters")
        return text or None
    allowed = {c.value for c in q.choices}
    if q.type == "single":
        if not isinstance(value, str) or value not in allowed:
            raise AnswerError(q.id, f"must be one of {', '.join(sorted(allowed))}")
        return value
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) and v in allowed for v in values):
        raise AnswerError(q.id, f"each choice must be one of {', '.join(sorted(allowed))}")
    return [c.value for c in q.choices if c.value in set(values)]


def visible_questions(definition: SurveyDefinition, answers: dict[str, Any]) -> list[Question]:
    """Questions shown for these answers; a hidden question hides those that depend on it."""
    shown: list[Question] = []
    visible_ids: set[str] = set()
    for q in definition.questions:
        cond = q.show_if
        if cond is None or (
            cond.question in visible_ids and cond.holds(answers.get(cond.question))
        ):
            shown.append(q)
            visible_ids.add(q.id)
    return shown


def merge_answers(
    definition: SurveyDefinition, current: dict[str, Any], given: dict[str, Any]
) -> dict[str, Any]:
    """``current`` updated with ``given`` (validated), keeping only visible questions."""
    merged = dict(current)
    for qid, value in given.items():
        q = definition.question(qid)
        if q is None:
            raise AnswerError(qid, "no such question in this survey")
        cleaned = clean_answer(q, value)
        if cleaned is None:
            merged.pop(qid, None)
        else:
            merged[qid] = cleaned
    visible = {q.id for q in visible_questions(definition, merged)}
    return {k: v for k, v in merged.items() if k in visible}


def missing_required(definition: SurveyDefinition, answers: dict[str, Any]) -> list[str]:
    return [
        q.id for q in visible_questions(definition, answers) if q.required and q.id not in answers
    ]


@dataclass(frozen=True)
class Extracted:
    nps: int | None
    csat: int | None
    ces: int | None
    comment: str | None


def extract(definition: SurveyDefinition, answers: dict[str, Any]) -> Extracted:
    """The score answers (first question of each type) and the free-text comments joined."""
    scores: dict[str, int | None] = {}
    for kind in SCORE_TYPES:
        q = definition.score_question(kind)
        scores[kind] = answers.get(q.id) if q is not None else None
    texts = [
        str(answers[q.id]) for q in definition.questions if q.type == "text" and q.id in answers
    ]
    return Extracted(scores["nps"], scores["csat"], scores["ces"], "\n\n".join(texts) or None)
