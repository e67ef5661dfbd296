import pytest

from cxloop.insight.text.language import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("とても良かったです", "ja"),
        ("スタッフの対応が最悪", "ja"),
        ("東京駅", "ja"),  # Han only and short: a Japanese place name, not Chinese
        ("The staff was rude and the room was dirty", "en"),
        ("Das Essen war sehr gut und der Service freundlich", "de"),
        ("Le service était excellent, merci beaucoup", "fr"),
        ("这个产品很好用我很喜欢，推荐给大家", "zh"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_kana_decides_japanese_even_inside_english() -> None:
    assert detect_language("The hotel was nice ありがとう") == "ja"


def test_no_letters_is_undetermined() -> None:
    assert detect_language("12345 !!!") == "und"
    assert detect_language("") == "und"
