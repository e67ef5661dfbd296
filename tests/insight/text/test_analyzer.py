import pytest

from cxloop.insight.text import Analysis, get_analyzer, load_taxonomy

TEXTS = [
    "The staff were friendly and helpful. Delivery was quick.",
    "料理が美味しくなかった。店員の態度も最悪でした。",
    "部屋はとても綺麗でした。でも朝食は最悪でした。",
]


@pytest.mark.parametrize("mode", ["fast", "accurate", "precise"])
def test_modes_agree_on_clear_cases(mode: str) -> None:
    result = get_analyzer(mode).analyze(TEXTS)  # type: ignore[arg-type]
    assert all(isinstance(a, Analysis) for a in result)
    assert [a.language for a in result] == ["en", "ja", "ja"]
    assert result[0].sentiment.label in {"positive", "very_positive"}
    assert result[1].sentiment.label in {"negative", "very_negative"}
    assert result[2].sentiment.label == "mixed"
    assert {"staff_attitude", "delivery"} <= {t.id for t in result[0].themes}
    assert {"food_quality", "staff_attitude"} <= {t.id for t in result[1].themes}
    assert len(result[1].sentiment.sentences) == 2


def test_accurate_mode_scores_english_with_the_model() -> None:
    accurate = get_analyzer("accurate").analyze(["I ordered a phone case on Tuesday."])[0]
    fast = get_analyzer("fast").analyze(["I ordered a phone case on Tuesday."])[0]
    # The lexicon finds nothing to score here; the model always gives a graded opinion.
    assert fast.sentiment.score == 0.0
    assert accurate.sentiment.score != 0.0
    assert -1.0 <= accurate.sentiment.score <= 1.0


@pytest.mark.parametrize(
    ("text", "positive"),
    [
        ("Not a bad film at all, I would watch it again.", True),
        ("It did not disappoint.", True),
        ("The plot had potential but the acting ruined it.", False),
        ("I would not recommend this place to anyone.", False),
    ],
)
@pytest.mark.parametrize("mode", ["accurate", "precise"])
def test_embedding_modes_read_negation_and_contrast(mode: str, text: str, positive: bool) -> None:
    (result,) = get_analyzer(mode).analyze([text])  # type: ignore[arg-type]
    assert result.language == "en"
    assert (result.sentiment.score > 0.1) if positive else (result.sentiment.score < -0.1)


def test_embedding_modes_ship_their_heads() -> None:
    precise, accurate = get_analyzer("precise"), get_analyzer("accurate")
    assert (accurate.mode, precise.mode) == ("accurate", "precise")
    fine, coarse = precise.sentiment, accurate.sentiment  # type: ignore[attr-defined]
    # multilingual-e5-small is 384-d; plus the lexicon score and the silence flag.
    assert fine.head.coef.shape == coarse.head.coef.shape == (386,)
    assert (coarse.depth, fine.depth) == (8, 12)
    assert coarse.exit_head is not None and coarse.exit_depth == 0
    assert 0.5 < coarse.exit_confidence < 1.0
    assert fine.exit_head is None


def test_analyzers_on_other_taxonomies_score_like_the_default() -> None:
    tax = load_taxonomy(
        {"themes": [{"id": "x", "name": {"en": "X", "ja": "X"}, "terms": {"en": ["widget"]}}]}
    )
    custom = get_analyzer("accurate", taxonomy=tax)
    assert custom is not get_analyzer("accurate")
    text = "The widget broke after two days and support never answered."
    (mine,) = custom.analyze([text])
    (default,) = get_analyzer("accurate").analyze([text])
    assert [t.id for t in mine.themes] == ["x"]
    assert mine.sentiment == default.sentiment and mine.sentiment.score < -0.1


def test_default_analyzers_are_shared_and_custom_taxonomy_is_not() -> None:
    assert get_analyzer("fast") is get_analyzer("fast")
    tax = load_taxonomy(
        {"themes": [{"id": "x", "name": {"en": "X", "ja": "X"}, "terms": {"en": ["widget"]}}]}
    )
    custom = get_analyzer("fast", taxonomy=tax)
    assert custom is not get_analyzer("fast")
    assert [t.id for t in custom.analyze(["The widget broke"])[0].themes] == ["x"]


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown analyzer mode"):
        get_analyzer("slow")  # type: ignore[arg-type]


def test_empty_inputs() -> None:
    assert get_analyzer("accurate").analyze([]) == []
    empty = get_analyzer("accurate").analyze([""])[0]
    assert empty.sentiment.label == "neutral" and empty.themes == []
