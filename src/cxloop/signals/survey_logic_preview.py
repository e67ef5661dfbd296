"""Display logic in words, and a dry run of a definition with sample answers, for the
question editor. Pure: no database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cxloop.signals.survey_definitions import Condition, Question, SurveyDefinition
from cxloop.signals.survey_logic import AnswerError, clean_answer, visible_questions

_TYPES = {
    "en": {
        "nps": "NPS",
        "csat": "CSAT",
        "ces": "CES",
        "rating": "rating",
        "single": "single choice",
        "multi": "multiple choice",
        "text": "free text",
    },
    "ja": {
        "nps": "NPS",
        "csat": "CSAT",
        "ces": "CES",
        "rating": "評価",
        "single": "単一選択",
        "multi": "複数選択",
        "text": "自由記述",
    },
}
_PHRASES = {
    "en": {
        "lte": "{ref} ≤ {value}",
        "gte": "{ref} ≥ {value}",
        "eq": "{ref} is {value}",
        "eq_multi": "{ref} includes {value}",
        "in": "{ref} is any of {value}",
        "in_multi": "{ref} includes any of {value}",
        "answered": "{ref} is answered",
        "shown_when": "shown when {condition}",
        "or": ", ",
    },
    "ja": {
        "lte": "{ref}が{value}以下",
        "gte": "{ref}が{value}以上",
        "eq": "{ref}が{value}",
        "eq_multi": "{ref}に{value}を含む",
        "in": "{ref}が{value}のいずれか",
        "in_multi": "{ref}に{value}のいずれかを含む",
        "answered": "{ref}に回答あり",
        "shown_when": "{condition}のときに表示",
        "or": "、",
    },
}


def _lang(lang: str) -> str:
    return "ja" if lang == "ja" else "en"


def question_label(definition: SurveyDefinition, q: Question, lang: str) -> str:
    """``Q1 (NPS)``: the question's number in the form and its type."""
    number = definition.questions.index(q) + 1
    kind = _TYPES[_lang(lang)][q.type]
    return f"Q{number}（{kind}）" if _lang(lang) == "ja" else f"Q{number} ({kind})"


def _value_text(ref: Question, value: Any, lang: str) -> str:
    labels = {c.value: c.label.get(lang) for c in ref.choices}
    values = value if isinstance(value, list) else [value]
    texts = [f"“{labels[v]}”" if v in labels else str(v) for v in values]
    return _PHRASES[_lang(lang)]["or"].join(texts)


def describe_condition(definition: SurveyDefinition, q: Question, lang: str) -> str | None:
    """``shown when Q1 (NPS) ≤ 6``, or ``None`` for a question always shown."""
    cond: Condition | None = q.show_if
    if cond is None:
        return None
    phrases = _PHRASES[_lang(lang)]
    ref = definition.question(cond.question)
    if ref is None:  # only for a definition that failed validation
        return phrases["shown_when"].format(condition=f"{cond.question} {cond.op} {cond.value}")
    op = f"{cond.op}_multi" if ref.type == "multi" and cond.op in ("eq", "in") else cond.op
    text = phrases[op].format(
        ref=question_label(definition, ref, lang), value=_value_text(ref, cond.value, lang)
    )
    return phrases["shown_when"].format(condition=text)


@dataclass(frozen=True)
class TriedQuestion:
    question: Question
    label: str
    condition: str | None
    shown: bool
    answer: Any
    error: str | None


def try_answers(
    definition: SurveyDefinition, given: dict[str, Any], lang: str
) -> list[TriedQuestion]:
    """Each question with whether the form shows it for the sample answers ``given``.

    ``given`` maps question ids to a value or a list of values (form fields). An invalid
    sample answer counts as unanswered and carries its error, so a half-typed try-out
    still shows the rest.
    """
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for q in definition.questions:
        value = given.get(q.id)
        if isinstance(value, list) and q.type != "multi":
            value = value[0] if value else None
        try:
            value = clean_answer(q, value)
        except AnswerError as exc:
            errors[q.id] = exc.message
            continue
        if value is not None:
            answers[q.id] = value
    shown = {q.id for q in visible_questions(definition, answers)}
    return [
        TriedQuestion(
            question=q,
            label=question_label(definition, q, lang),
            condition=describe_condition(definition, q, lang),
            shown=q.id in shown,
            answer=answers.get(q.id) if q.id in shown else None,
            error=errors.get(q.id),
        )
        for q in definition.questions
    ]
