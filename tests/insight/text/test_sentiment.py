import pytest

from cxloop.insight.text.sentiment import (
    SentenceSentiment,
    analyze_sentiment,
    label_for,
    rollup,
)
from cxloop.insight.text.sentiment_ja import score_sentence as ja_score


@pytest.mark.parametrize(
    ("positive", "negated"),
    [
        ("料理が美味しい。", "料理が美味しくない。"),
        ("料理が美味しかった。", "料理が美味しくなかった。"),
        ("部屋は綺麗です。", "部屋は綺麗ではありません。"),
        ("サービスに満足しました。", "サービスに満足できませんでした。"),
        ("とても良いです。", "あまり良くないです。"),
    ],
)
def test_japanese_negation_flips_positive(positive: str, negated: str) -> None:
    assert ja_score(positive) > 0.3
    assert ja_score(negated) < -0.3


@pytest.mark.parametrize("text", ["問題ないです。", "悪くないです。", "不満はありません。"])
def test_japanese_negated_complaint_is_mildly_positive(text: str) -> None:
    assert 0 < ja_score(text) < 0.6


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("スタッフの対応がとても丁寧で大満足です。", "very_positive"),
        ("部屋は清潔でした。", "positive"),
        ("2回目の利用です。", "neutral"),
        ("朝食が高すぎる。", "negative"),
        ("もう少し部屋が広ければ良かった。", "negative"),
        ("最悪のホテルでした。二度と泊まりません。", "very_negative"),
        ("また利用したいと思います。", "positive"),
        ("部屋はとても綺麗でした。でも朝食は最悪でした。", "mixed"),
    ],
)
def test_japanese_record_labels(text: str, label: str) -> None:
    assert analyze_sentiment(text, "ja").label == label


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("The staff were absolutely wonderful, I love this place!", "very_positive"),
        ("Delivery was quick.", "positive"),
        ("I ordered on Tuesday.", "neutral"),
        ("The waiter was rude.", "negative"),
        ("The food was not good.", "negative"),
        ("Worst service ever, totally useless and rude staff.", "very_negative"),
        ("The room was spotless and beautiful. The staff were rude and awful.", "mixed"),
    ],
)
def test_english_record_labels(text: str, label: str) -> None:
    assert analyze_sentiment(text, "en").label == label


def test_sentence_details_carry_offsets() -> None:
    text = "Great food. Terrible parking."
    s = analyze_sentiment(text, "en")
    assert [(d.text, text[d.start : d.end]) for d in s.sentences] == [
        ("Great food.", "Great food."),
        ("Terrible parking.", "Terrible parking."),
    ]
    assert s.sentences[0].score > 0 > s.sentences[1].score


def test_rollup_weights_silent_sentences_less() -> None:
    sentences = [SentenceSentiment("a", 0, 1, 0.8), SentenceSentiment("b", 2, 3, 0.0)]
    result = rollup(sentences)
    # (0.8 * 1 + 0 * 0.25) / 1.25
    assert result.score == pytest.approx(0.64)
    assert result.label == "positive"


def test_rollup_of_nothing_is_neutral() -> None:
    assert rollup([]).label == "neutral"
    assert rollup([]).score == 0.0


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (-0.9, "very_negative"),
        (-0.3, "negative"),
        (0.05, "neutral"),
        (0.3, "positive"),
        (0.8, "very_positive"),
    ],
)
def test_label_for(score: float, label: str) -> None:
    assert label_for(score) == label
