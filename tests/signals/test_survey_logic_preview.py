"""Display logic in words, the dry run with sample answers, and the validation that names
the question and the problem (unknown, later, impossible values)."""

import copy

import pytest
from pydantic import ValidationError

from cxloop.signals.survey_definitions import SurveyDefinition, parse_definition
from cxloop.signals.survey_logic_preview import describe_condition, try_answers
from tests.survey_helpers import DEFINITION

DEF = SurveyDefinition.model_validate(DEFINITION)


def _q(qid: str):
    return DEF.question(qid)


def test_conditions_read_as_sentences_in_both_languages():
    assert describe_condition(DEF, _q("nps"), "en") is None
    assert describe_condition(DEF, _q("why_low"), "en") == "shown when Q1 (NPS) ≤ 6"
    assert describe_condition(DEF, _q("why_low"), "ja") == "Q1（NPS）が6以下のときに表示"
    assert describe_condition(DEF, _q("csat_fix"), "en") == "shown when Q3 (CSAT) ≤ 2"


def test_choice_conditions_use_the_choice_labels():
    data = copy.deepcopy(DEFINITION)
    data["questions"].append(
        {
            "id": "why_web",
            "type": "text",
            "text": {"en": "Web?", "ja": "ウェブ？"},
            "show_if": {"question": "channels", "op": "in", "value": ["web", "phone"]},
        }
    )
    data["questions"].append(
        {
            "id": "why_wait",
            "type": "text",
            "text": {"en": "Wait?", "ja": "待ち？"},
            "show_if": {"question": "csat_fix", "op": "eq", "value": "wait"},
        }
    )
    d = SurveyDefinition.model_validate(data)
    assert (
        describe_condition(d, d.question("why_web"), "en")
        == "shown when Q6 (multiple choice) includes any of “Web”, “Phone”"
    )
    assert (
        describe_condition(d, d.question("why_wait"), "ja")
        == "Q4（単一選択）が“待ち時間”のときに表示"
    )


def test_try_answers_shows_which_questions_appear():
    detractor = {t.question.id: t.shown for t in try_answers(DEF, {"nps": ["3"]}, "en")}
    assert detractor["why_low"] is True and detractor["csat_fix"] is False
    promoter = {t.question.id: t.shown for t in try_answers(DEF, {"nps": "9", "csat": "1"}, "en")}
    assert promoter["why_low"] is False and promoter["csat_fix"] is True
    rows = try_answers(DEF, {"nps": "11"}, "en")
    assert rows[0].error == "must be between 0 and 10" and rows[1].shown is False


def _with_logic(show_if, ref=None):
    data = copy.deepcopy(DEFINITION)
    data["questions"].insert(
        1 if ref is None else ref,
        {"id": "follow", "type": "text", "text": {"en": "x", "ja": "x"}, "show_if": show_if},
    )
    return data


@pytest.mark.parametrize(
    ("show_if", "message"),
    [
        (
            {"question": "nps", "op": "lte", "value": -1},
            r"questions\[1\] \(follow\): show_if: can never be true: nps runs from 0 to 10, "
            "never ≤ -1",
        ),
        (
            {"question": "nps", "op": "gte", "value": 11},
            "can never be true: nps runs from 0 to 10, never ≥ 11",
        ),
        (
            {"question": "nps", "op": "eq", "value": "high"},
            r"'high' is not an answer of nps \(its answers: 0, 1, 2",
        ),
        (
            {"question": "nps", "op": "in", "value": [3, 12]},
            "12 is not an answer of nps",
        ),
    ],
)
def test_impossible_values_are_refused_naming_the_question(show_if, message):
    with pytest.raises(ValidationError, match=message):
        SurveyDefinition.model_validate(_with_logic(show_if))


def test_later_and_unknown_questions_are_told_apart():
    later = _with_logic({"question": "csat", "op": "lte", "value": 2})
    with pytest.raises(
        ValidationError, match=r"refers to 'csat', which comes later \(question 4\)"
    ):
        SurveyDefinition.model_validate(later)
    unknown = _with_logic({"question": "nope", "op": "answered"})
    with pytest.raises(ValidationError, match="'nope', which is not a question of this survey"):
        SurveyDefinition.model_validate(unknown)


def test_choice_values_must_exist():
    data = _with_logic({"question": "csat_fix", "op": "eq", "value": "price"}, ref=4)
    with pytest.raises(ValidationError, match=r"'price' is not an answer of csat_fix"):
        SurveyDefinition.model_validate(data)


def test_stored_versions_are_read_as_they_were_accepted():
    """A version stored before the impossible-value check still opens."""
    stored = _with_logic({"question": "nps", "op": "gte", "value": 11})
    assert parse_definition(stored).question("follow") is not None
