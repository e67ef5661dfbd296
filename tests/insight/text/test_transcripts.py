import json

import pytest

from cxloop.insight.text.transcripts import Turn, parse_transcript


def test_plain_text_prefixes_and_continuation_lines() -> None:
    raw = (
        "Agent: Thank you for calling.\n"
        "Customer: My order has not arrived.\n"
        "It has been two weeks.\n"
        "agent: I am sorry to hear that."
    )
    t = parse_transcript(raw)
    assert t.turns == [
        Turn("agent", "Thank you for calling."),
        Turn("customer", "My order has not arrived.\nIt has been two weeks."),
        Turn("agent", "I am sorry to hear that."),
    ]
    assert t.customer_text == "My order has not arrived.\nIt has been two weeks."
    assert t.agent_text == "Thank you for calling.\nI am sorry to hear that."


def test_japanese_prefixes_with_full_width_colon() -> None:
    raw = (
        "オペレーター：お電話ありがとうございます。\n"
        "お客様：商品が届きません。\n"
        "もう一週間です。\n"
        "お客様: 返金してください"
    )
    t = parse_transcript(raw)
    assert [turn.speaker for turn in t.turns] == ["agent", "customer", "customer"]
    assert t.customer_text == "商品が届きません。\nもう一週間です。\n返金してください"
    assert t.agent_text == "お電話ありがとうございます。"


def test_json_turns_as_text_and_as_objects() -> None:
    turns = [
        {"speaker": "customer", "text": "The app keeps crashing."},
        {"speaker": "agent", "text": "Let me check."},
        {"speaker": "bot", "text": "Survey link"},
    ]
    for raw in (json.dumps(turns), turns):
        t = parse_transcript(raw)
        assert t.customer_text == "The app keeps crashing."
        assert t.agent_text == "Let me check."
        assert t.turns[2].speaker == "unknown"


def test_text_before_any_prefix_is_unknown_speaker() -> None:
    t = parse_transcript("call started 10:02\nCustomer: hello")
    assert t.turns[0] == Turn("unknown", "call started 10:02")
    assert t.customer_text == "hello"


def test_bad_json_turn_names_the_turn() -> None:
    with pytest.raises(ValueError, match="turn 1"):
        parse_transcript([{"speaker": "agent", "text": "hi"}, {"speaker": "customer", "text": 3}])
