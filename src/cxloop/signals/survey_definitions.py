"""Survey definitions: question types, bilingual texts and display logic, as Pydantic models.

A definition is stored as JSON on a survey version; these models validate it on the way
in and give it types on the way out. Pure: no database.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

QuestionType = Literal["nps", "csat", "ces", "rating", "single", "multi", "text"]
# Fixed scales of the standard CX questions; a rating question sets its own.
SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
SCORE_TYPES = ("nps", "csat", "ces")
_ID = r"^[a-z][a-z0-9_]{0,39}$"


class LocalText(BaseModel):
    """A text in both languages of the product; both are required."""

    model_config = ConfigDict(extra="forbid")
    en: str = Field(min_length=1, max_length=2000)
    ja: str = Field(min_length=1, max_length=2000)

    def get(self, lang: str) -> str:
        return self.ja if lang == "ja" else self.en


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str = Field(pattern=_ID)
    label: LocalText


class Condition(BaseModel):
    """Show a question only when an earlier answer meets this condition.

    ``lte``/``gte``/``eq`` compare a number or choice; ``in`` tests membership (for a
    multiple-choice answer: any overlap); ``answered`` needs any answer at all.
    """

    model_config = ConfigDict(extra="forbid")
    question: str = Field(pattern=_ID)
    op: Literal["lte", "gte", "eq", "in", "answered"]
    value: int | str | list[int | str] | None = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> Condition:
        if self.op == "answered":
            return self
        if self.op == "in" and not isinstance(self.value, list):
            raise ValueError("'in' needs a list value")
        if self.op in ("lte", "gte") and not isinstance(self.value, int):
            raise ValueError(f"{self.op!r} needs a number")
        if self.op == "eq" and (self.value is None or isinstance(self.value, list)):
            raise ValueError("'eq' needs a single value")
        return self

    def holds(self, answer: Any) -> bool:
        if answer is None or answer == "" or answer == []:
            return False
        if self.op == "answered":
            return True
        if self.op == "in":
            wanted = set(self.value or [])  # type: ignore[arg-type]
            given = set(answer) if isinstance(answer, list) else {answer}
            return bool(wanted & given)
        if self.op == "eq":
            return self.value in answer if isinstance(answer, list) else answer == self.value
        if not isinstance(answer, int):
            return False
        assert isinstance(self.value, int)
        return answer <= self.value if self.op == "lte" else answer >= self.value


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=_ID)
    type: QuestionType
    text: LocalText
    required: bool = False
    scale_min: int | None = None
    scale_max: int | None = None
    low_label: LocalText | None = None
    high_label: LocalText | None = None
    choices: list[Choice] = Field(default_factory=list, max_length=30)
    max_length: int = Field(2000, ge=1, le=10_000)
    show_if: Condition | None = None

    @model_validator(mode="after")
    def _shape(self) -> Question:
        if self.type in SCALES:
            lo, hi = SCALES[self.type]
            if self.scale_min not in (None, lo) or self.scale_max not in (None, hi):
                raise ValueError(f"{self.type} questions use the fixed scale {lo}..{hi}")
            self.scale_min, self.scale_max = lo, hi
        elif self.type == "rating":
            self.scale_min = 1 if self.scale_min is None else self.scale_min
            self.scale_max = 5 if self.scale_max is None else self.scale_max
            if not 0 <= self.scale_min < self.scale_max <= 10:
                raise ValueError("a rating scale runs from 0 or more up to at most 10")
        if self.type in ("single", "multi"):
            if len(self.choices) < 2:
                raise ValueError("a choice question needs at least two choices")
            values = [c.value for c in self.choices]
            if len(set(values)) != len(values):
                raise ValueError("choice values must be unique")
        elif self.choices:
            raise ValueError(f"{self.type} questions have no choices")
        return self

    @property
    def scale(self) -> list[int]:
        if self.scale_min is None or self.scale_max is None:
            return []
        return list(range(self.scale_min, self.scale_max + 1))


class SurveyDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    intro: LocalText | None = None
    thanks: LocalText | None = None
    questions: list[Question] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> SurveyDefinition:
        ids = [q.id for q in self.questions]
        seen: dict[str, Question] = {}
        for i, q in enumerate(self.questions):
            if q.id in seen:
                raise ValueError(f"questions[{i}]: duplicate question id {q.id!r}")
            if q.show_if is not None:
                where = f"questions[{i}] ({q.id}): show_if"
                target = q.show_if.question
                ref = seen.get(target)
                if ref is None and target in ids:
                    raise ValueError(
                        f"{where} refers to {target!r}, which comes later (question "
                        f"{ids.index(target) + 1}); logic can only use earlier answers"
                    )
                if ref is None:
                    raise ValueError(
                        f"{where} refers to {target!r}, which is not a question of this survey"
                    )
                if q.show_if.op in ("lte", "gte") and not ref.scale:
                    raise ValueError(f"{where}: {q.show_if.op!r} needs a scale question")
                # Stored versions are read as written: a check added later locks none out.
                problem = None if _stored(info) else impossible(q.show_if, ref)
                if problem:
                    raise ValueError(f"{where}: {problem}")
            seen[q.id] = q
        return self

    def question(self, qid: str) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)

    def score_question(self, kind: str) -> Question | None:
        """The first question of a score type (nps, csat, ces): its answer is the score."""
        return next((q for q in self.questions if q.type == kind), None)


def _stored(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("stored"))


def _answers_of(q: Question) -> list[int | str] | None:
    """Every answer ``q`` can take, or ``None`` for free text."""
    if q.scale:
        return list(q.scale)
    if q.choices:
        return [c.value for c in q.choices]
    return None


def impossible(cond: Condition, ref: Question) -> str | None:
    """What is wrong with the values ``cond`` tests on question ``ref``, else ``None``: a
    bound outside the scale, a value no answer can take."""
    answers = _answers_of(ref)
    if answers is None or cond.op == "answered":
        return None
    if ref.scale:
        lo, hi = ref.scale[0], ref.scale[-1]
        if cond.op == "lte" and isinstance(cond.value, int) and cond.value < lo:
            return f"can never be true: {ref.id} runs from {lo} to {hi}, never ≤ {cond.value}"
        if cond.op == "gte" and isinstance(cond.value, int) and cond.value > hi:
            return f"can never be true: {ref.id} runs from {lo} to {hi}, never ≥ {cond.value}"
    wanted = cond.value if isinstance(cond.value, list) else [cond.value]
    if cond.op in ("eq", "in"):
        unknown = [v for v in wanted if v not in answers]
        if unknown:
            shown = ", ".join(str(a) for a in answers)
            return f"{unknown[0]!r} is not an answer of {ref.id} (its answers: {shown})"
    return None


def parse_definition(data: dict[str, Any]) -> SurveyDefinition:
    """A stored definition (see ``_references``: read as it was accepted)."""
    return SurveyDefinition.model_validate(data, context={"stored": True})
