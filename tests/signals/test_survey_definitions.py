"""Question types, display logic and score extraction of survey definitions."""

import pytest
from pydantic import ValidationError

from cxloop.signals.survey_definitions import SurveyDefinition
from cxloop.signals.survey_logic import (
    AnswerError,
    extract,
    merge_answers,
    missing_required,
    visible_questions,
)
from tests.survey_helpers import DEFINITION, en_ja

D = SurveyDefinition.model_validate(DEFINITION)


@pytest.mark.parametrize(
    ("qid", "good", "bad", "message"),
    [
        ("nps", [0, 10, "7"], [-1, 11, 3.5, True, "seven"], "between 0 and 10"),
        ("csat", [1, 5], [0, 6], "between 1 and 5"),
        ("ces", [1, 7], [0, 8], "between 1 and 7"),
        ("stars", [1, 4], [0, 5], "between 1 and 4"),
        (
            "channels",
            [["web"], ["store", "phone"]],
            [["fax"], "nope"],
            "each choice must be one of",
        ),
    ],
)
def test_each_scale_and_choice_type_checks_its_values(qid, good, bad, message):
    for value in good:
        merge_answers(D, {}, {qid: value})
    for value in bad:
        with pytest.raises(AnswerError) as err:
            merge_answers(D, {}, {qid: value})
        assert err.value.question == qid
        assert message in err.value.message or "whole number" in err.value.message


def test_single_choice_and_text_types():
    answers = merge_answers(D, {}, {"csat": 1, "csat_fix": "staff"})
    assert answers["csat_fix"] == "staff"
    with pytest.raises(AnswerError, match="csat_fix: must be one of staff, wait"):
        merge_answers(D, {"csat": 1}, {"csat_fix": "price"})
    with pytest.raises(AnswerError, match="comment: must be at most 500 characters"):
        merge_answers(D, {}, {"comment": "x" * 501})
    assert merge_answers(D, {}, {"comment": "  とても良い  "}) == {"comment": "とても良い"}


def test_multi_choice_keeps_definition_order_and_drops_duplicates():
    assert merge_answers(D, {}, {"channels": ["phone", "store", "phone"]})["channels"] == [
        "store",
        "phone",
    ]


def test_follow_up_only_for_detractors():
    ids = lambda answers: [q.id for q in visible_questions(D, answers)]  # noqa: E731
    assert "why_low" in ids({"nps": 6})
    assert "why_low" not in ids({"nps": 7})
    assert "why_low" not in ids({})
    # An answer to a follow-up that became hidden is dropped, not stored.
    answers = merge_answers(D, {"nps": 3, "why_low": "slow"}, {"nps": 9})
    assert answers == {"nps": 9}


def test_follow_up_only_for_csat_two_or_less():
    ids = lambda answers: [q.id for q in visible_questions(D, answers)]  # noqa: E731
    assert "csat_fix" in ids({"csat": 2})
    assert "csat_fix" not in ids({"csat": 3})


def test_required_visible_questions_are_reported():
    assert missing_required(D, {}) == ["nps"]
    assert missing_required(D, {"nps": 10}) == []


def test_scores_and_comments_are_extracted():
    found = extract(D, {"nps": 4, "why_low": "待ち時間が長い", "csat": 2, "ces": 6, "comment": "x"})
    assert (found.nps, found.csat, found.ces) == (4, 2, 6)
    assert found.comment == "待ち時間が長い\n\nx"


def _with(question):
    return {"questions": [DEFINITION["questions"][0], question]}


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ({"id": "a", "type": "nps", "text": {"en": "x"}}, "ja"),
        ({"id": "a", "type": "nps", "scale_max": 5, "text": en_ja("x", "x")}, "fixed scale 0..10"),
        ({"id": "a", "type": "single", "text": en_ja("x", "x"), "choices": []}, "two choices"),
        (
            {
                "id": "a",
                "type": "text",
                "text": en_ja("x", "x"),
                "show_if": {"question": "zz", "op": "answered"},
            },
            r"questions\[1\] \(a\): show_if refers to 'zz', which is not a question",
        ),
        (
            {"id": "nps", "type": "text", "text": en_ja("x", "x")},
            "duplicate question id",
        ),
        (
            {
                "id": "a",
                "type": "text",
                "text": en_ja("x", "x"),
                "show_if": {"question": "nps", "op": "lte"},
            },
            "needs a number",
        ),
    ],
)
def test_bad_definitions_are_refused_with_the_reason(question, message):
    with pytest.raises(ValidationError, match=message):
        SurveyDefinition.model_validate(_with(question))
