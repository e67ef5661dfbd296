from pathlib import Path

import pytest

from cxloop.act.rule_language import (
    RuleSet,
    RuleSyntaxError,
    compile_condition,
    normalize_text,
    parse,
    would_loop,
)


def _response(**fields):
    return {"kind": "response", **fields}


# -- evaluation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "record", "expected"),
    [
        ("nps <= 6", _response(nps=6), True),
        ("nps <= 6", _response(nps=7), False),
        ("nps <= 6", _response(), False),
        ("nps = 6", _response(nps=6.0), True),
        ("nps != 6", _response(nps=5), True),
        ("nps != 6", _response(), False),  # a comparison with a missing value is false
        ("dxs < 4", {"kind": "digital_session", "dxs": 3.9}, True),
        ("dxs < 4", {"kind": "digital_session", "dxs": 4}, False),
        ("sentiment_score >= -0.5", _response(sentiment_score=-0.5), True),
        ("sentiment_score > -0.5", _response(sentiment_score=-0.5), False),
        (
            'csat <= 2 and touchpoint = "contact_centre"',
            _response(csat=2, touchpoint="contact_centre"),
            True,
        ),
        (
            'csat <= 2 and touchpoint = "contact_centre"',
            _response(csat=2, touchpoint="store"),
            False,
        ),
        ("nps <= 2 or csat <= 1", _response(nps=9, csat=1), True),
        ("nps <= 2 or csat <= 1", _response(nps=9, csat=2), False),
        (
            'sentiment = "very_negative" and theme in ("billing", "cancellation")',
            _response(sentiment="very_negative", theme=["delivery", "cancellation"]),
            True,
        ),
        (
            'sentiment = "very_negative" and theme in ("billing", "cancellation")',
            _response(sentiment="very_negative", theme=["delivery"]),
            False,
        ),
        ('theme = "billing"', _response(theme=["billing", "price"]), True),
        ('theme = "billing"', _response(theme=["price"]), False),
        ('theme != "billing"', _response(theme=["price"]), True),
        ('theme not in ("billing", "price")', _response(theme=["price"]), False),
        ('signals = "rage_click"', {"kind": "digital_session", "signals": ["rage_click"]}, True),
        (
            'rating <= 2 and source = "review"',
            {"kind": "feedback", "rating": 1, "source": "review"},
            True,
        ),
        ('source in ("review", "social")', {"kind": "feedback", "source": "social"}, True),
        ('source not in ("review", "social")', {"kind": "feedback", "source": "email"}, True),
        (
            'metric("average_handle_time") > 600',
            {"kind": "metric", "metrics": {"average_handle_time": 601}},
            True,
        ),
        (
            'metric("average_handle_time") > 600',
            {"kind": "metric", "metrics": {"other": 900}},
            False,
        ),
        ('metric("average_handle_time") > 600', {"kind": "metric"}, False),
        ('not (segment.tier = "gold")', _response(segment={"tier": "silver"}), True),
        ('not (segment.tier = "gold")', _response(segment={"tier": "gold"}), False),
        ('not (segment.tier = "gold")', _response(), True),
        ('segment.industry = "retail"', _response(segment={"industry": "retail"}), True),
        ("attributes.seats >= 100", _response(attributes={"seats": 250}), True),
        ("attributes.seats >= 100", _response(attributes={"seats": "250"}), False),
        ('attributes.plan = "pro"', _response(attributes={"plan": 3}), False),
        ("segment.tier is null", _response(segment={}), True),
        ("segment.tier is null", _response(segment={"tier": "gold"}), False),
        ("nps is not null", _response(nps=0), True),
        ("nps is null", _response(nps=0), False),
        ("not not nps = 0", _response(nps=0), True),
        ("nps = 1 OR nps = 2", _response(nps=2), True),
        ("(nps <= 6 or csat <= 2) and not language = 'en'", _response(nps=3, language="ja"), True),
        ("(nps <= 6 or csat <= 2) and not language = 'en'", _response(nps=3, language="en"), False),
        ('kind = "response" and nps <= 6', {"kind": "feedback", "nps": 1}, False),
    ],
)
def test_conditions_evaluate_as_documented(condition, record, expected):
    assert compile_condition(condition)(record) is expected


def test_and_binds_tighter_than_or():
    cond = compile_condition("nps = 1 or nps = 2 and csat = 5")
    assert cond(_response(nps=1, csat=1)) is True
    assert cond(_response(nps=2, csat=1)) is False


def test_contains_is_case_insensitive_and_nfkc_normalised():
    cond = compile_condition('text contains_any ("解約", "cancel my account")')
    assert cond(_response(text="I want to CANCEL MY ACCOUNT now"))
    assert cond(_response(text="来月で解約します"))
    # Full-width Latin letters are matched by the ordinary ASCII needle.
    assert cond(_response(text="ＣＡＮＣＥＬ ＭＹ ＡＣＣＯＵＮＴ please"))
    assert not cond(_response(text="I love the product"))
    assert not cond(_response(text=None))


def test_half_width_katakana_matches_full_width_needle():
    cond = compile_condition('text contains "カイヤク"')
    assert cond(_response(text="ｶｲﾔｸしたい"))
    half = compile_condition('text contains "ｶｲﾔｸ"')
    assert half(_response(text="カイヤクしたい"))


def test_normalize_text_folds_width_and_case():
    assert normalize_text("Ｃａｎｃｅｌ") == "cancel"


def test_strings_support_both_quotes_and_escapes():
    cond = compile_condition(r"text contains 'it\'s' or text contains " + '"say \\"hi\\""')
    assert cond(_response(text="It's broken"))
    assert cond(_response(text='they say "hi"'))
    unicode_escape = compile_condition(r'text contains "\u89e3\u7d04"')
    assert unicode_escape(_response(text="解約"))


def test_comments_and_multiple_lines_are_allowed():
    cond = compile_condition("nps <= 6  # detractors\n  and touchpoint = 'web'")
    assert cond(_response(nps=2, touchpoint="web"))


def test_double_equals_and_angle_not_equal_are_aliases():
    assert compile_condition("nps == 3")(_response(nps=3))
    assert compile_condition("nps <> 3")(_response(nps=4))


def test_theme_given_as_single_string_is_treated_as_one_item():
    assert compile_condition('theme = "billing"')(_response(theme="billing"))
    assert not compile_condition('theme = "b"')(_response(theme="billing"))


# -- errors ---------------------------------------------------------------------------------


def _error(source: str) -> RuleSyntaxError:
    with pytest.raises(RuleSyntaxError) as info:
        parse(source)
    return info.value


def test_missing_value_error_points_at_the_column():
    err = _error("nps <=")
    assert err.message == "expected a value after '<='"
    assert (err.line, err.column) == (1, 7)
    assert str(err).splitlines() == [
        "expected a value after '<=' at column 7",
        "  nps <=",
        "        ^",
    ]


def test_error_on_second_line_reports_line_and_column():
    err = _error("nps <= 6 and\n  touchpoint = 3")
    assert (err.line, err.column) == (2, 14)
    assert "at line 2, column 14" in str(err)
    assert "quote it" in str(err)


def test_unknown_field_suggests_the_closest_name():
    err = _error("npss <= 6")
    assert err.message == "unknown field 'npss'"
    assert "did you mean 'nps'?" in str(err)
    assert err.column == 1


def test_unknown_field_without_close_match_lists_known_fields():
    assert "known fields:" in str(_error("zzz = 1"))


def test_caret_lines_up_under_wide_characters():
    err = _error('text contains "解約" and foo = 1')
    caret_line = str(err).splitlines()[-1]
    # "解約" is two characters but four terminal columns wide.
    assert caret_line.index("^") == 2 + len('text contains "解約" and ') + 2


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ('sentiment < "negative"', "'<' compares numbers only"),
        ('nps = "6"', "'nps' is a number"),
        ("touchpoint = 3", "cannot compare it with the number 3"),
        ('theme contains "bill"', "use '=' or 'in'"),
        ('text contains ("a", "b")', "use 'contains_any"),
        ('nps in (1, "a")', "only numbers or only strings"),
        ('kind = "reponse"', "did you mean 'response'?"),
        ('sentiment = "very negative"', "did you mean 'very_negative'?"),
        ("nps <= 6 or", "expected a field name"),
        ("(nps <= 6", "expected ')'"),
        ("nps <= 6 csat", "expected 'and', 'or' or end of rule"),
        ('text contains "abc', "unterminated string"),
        ("nps in 3", "parenthesised list"),
        ("nps is 3", "expected 'null'"),
        ("nps ~ 3", "unexpected character"),
        ("", "empty"),
        ("segment = 'x'", "needs exactly one key"),
        ("nps.x = 1", "no sub-fields"),
        ("metric(aht) > 1", "quoted metric name"),
        (r'text contains "\q"', "unknown escape"),
        ("nps < 3abc", "malformed number"),
        ("touchpoint = web", 'put text in quotes: "web"'),
        ("not " * 100 + "nps = 1", "nested more than 64 levels"),
        ("(" * 100 + "nps = 1" + ")" * 100, "nested more than 64 levels"),
    ],
)
def test_invalid_rules_raise_with_an_explanation(source, fragment):
    assert fragment in str(_error(source))


# -- rule sets ------------------------------------------------------------------------------

_RULES = {
    "detractor": "nps <= 6",
    "angry_call": 'csat <= 2 and touchpoint = "contact_centre"',
    "churn_words": 'text contains_any ("解約", "cancel my account")',
    "bad_review": 'rating <= 2 and source = "review"',
    "poor_digital": "dxs < 4",
    "slow_calls": 'metric("average_handle_time") > 600',
    "non_gold": 'not (segment.tier = "gold")',
    "feedback_only": 'kind = "feedback" and sentiment = "negative"',
    "no_language": "language is null",
    "web_detractor": 'touchpoint in ("web", "app") and nps <= 6',
    "loud_channels": '(source = "review" and rating <= 2) or (source = "social" and nps <= 3)',
    "not_web": 'touchpoint != "web" and csat <= 1',
}


def _brute_force(record):
    return [rid for rid, src in _RULES.items() if compile_condition(src)(record)]


@pytest.mark.parametrize(
    "record",
    [
        _response(nps=3, text="Cancel my account", segment={"tier": "gold"}, language="en"),
        _response(csat=1, touchpoint="contact_centre", language="ja"),
        {"kind": "feedback", "rating": 1, "source": "review", "sentiment": "negative"},
        {"kind": "digital_session", "dxs": 2.5, "segment": {"tier": "gold"}},
        {"kind": "metric", "metrics": {"average_handle_time": 700}},
        {"kind": "feedback", "nps": 2, "text": "解約"},  # outside the schema, still exact
        {"kind": "something_else", "nps": 1},
        _response(nps=1, touchpoint="app", source="social"),
        _response(nps=1, touchpoint="web", csat=1, source="review", rating=1),
        _response(csat=1, touchpoint="store"),
        _response(nps=1, touchpoint=["web"]),  # malformed value: no match, no crash
        {"nps": 1},
    ],
)
def test_ruleset_matches_agree_with_evaluating_every_rule(record):
    assert RuleSet(_RULES).matches(record) == _brute_force(record)


def test_ruleset_returns_ids_in_rule_order():
    rules = RuleSet([("b", "csat <= 2"), ("a", "nps <= 6"), ("c", "kind = 'response'")])
    assert rules.matches(_response(nps=1, csat=1)) == ["b", "a", "c"]
    assert len(rules) == 3


def test_ruleset_skips_kind_restricted_rules_for_other_kinds():
    rules = RuleSet({"r": 'kind in ("feedback") and rating <= 2'})
    assert rules.matches({"kind": "response", "rating": 1}) == []
    assert rules.matches({"kind": "feedback", "rating": 1}) == ["r"]


def test_ruleset_reports_which_rule_is_invalid():
    with pytest.raises(RuleSyntaxError) as info:
        RuleSet({"ok": "nps <= 6", "broken": "nps <="})
    assert info.value.rule_id == "broken"
    assert str(info.value).startswith("rule 'broken': expected a value")


def test_ruleset_rejects_duplicate_ids():
    with pytest.raises(ValueError, match="duplicate"):
        RuleSet([("a", "nps <= 6"), ("a", "csat <= 2")])


def test_pinned_text_values_drive_the_index():
    cond = compile_condition('touchpoint = "web" and (source = "a" or source in ("b", "c"))')
    assert cond.pinned == {"touchpoint": {"web"}, "source": {"a", "b", "c"}}
    assert compile_condition('touchpoint = "web" or nps <= 1').pinned == {}
    assert compile_condition('not touchpoint = "web"').pinned == {}
    assert compile_condition('segment.tier = "gold"').pinned == {}


def test_required_fields_drive_the_index():
    assert compile_condition("nps <= 6 and csat <= 2").required == {"nps", "csat"}
    assert compile_condition("nps <= 6 or csat <= 2").required == frozenset()
    assert compile_condition("nps <= 6 or (nps = 9 and csat = 1)").required == {"nps"}
    assert compile_condition("not nps <= 6").required == frozenset()


# -- loop guard -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "outputs", "expected"),
    [
        ("nps <= 6", ["response"], True),  # a re-survey response can trigger it again
        ("nps <= 6", ["feedback"], False),
        ("dxs < 4", ["response"], False),
        ('kind = "feedback" and source = "review"', ["response"], False),
        ('kind = "feedback" and source = "review"', ["feedback"], True),
        ('not (kind = "response")', ["response"], False),
        ('not (kind = "response")', ["metric"], True),
        ('kind != "metric"', ["metric", "feedback"], True),
        ('source = "web"', ["metric"], True),  # every kind carries a source
        ("nps is null", ["metric"], True),
        ("nps is not null", ["metric"], False),
        ('metric("aht") > 600', ["metric"], True),
        ('metric("aht") > 600', [], False),
        ("nps <= 6 or dxs < 4", ["digital_session"], True),
        ("nps <= 6 and dxs < 4", ["digital_session"], False),
    ],
)
def test_would_loop(condition, outputs, expected):
    assert would_loop(condition, outputs) is expected


def test_would_loop_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="unknown record kind"):
        would_loop("nps <= 6", ["case"])


def test_every_example_in_the_rules_reference_compiles():
    doc = (Path(__file__).parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    first_block = doc.split("```text\n", 1)[1].split("```", 1)[0]
    examples = [line for line in first_block.splitlines() if line.strip()]
    assert len(examples) == 8
    for example in examples:
        compile_condition(example)
