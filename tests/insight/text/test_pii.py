import pytest

from cxloop.insight.text.pii import find_pii, mask_pii


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call 03-1234-5678 today", "Call [phone] today"),
        ("携帯は090-1234-5678です", "携帯は[phone]です"),
        ("携帯は０９０－１２３４－５６７８です", "携帯は[phone]です"),
        ("reach me on +81 90-1234-5678.", "reach me on [phone]."),
        ("US office (555) 123-4567", "US office [phone]"),
        ("toll free 0120-123-456", "toll free [phone]"),
        ("no dashes 09012345678", "no dashes [phone]"),
        ("mail taro.yamada+cx@example.co.jp please", "mail [email] please"),
        ("メール：ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "メール：[email]"),
        ("card 4111 1111 1111 1111 was charged", "card [card] was charged"),
        ("card 5500-0000-0000-0004", "card [card]"),
        ("カード番号４１１１１１１１１１１１１１１１", "カード番号[card]"),
    ],
)
def test_masks(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 4111 1111 1111 1112 failed",  # fails the Luhn check: not a card
        "visited on 2024-05-01 at 12:30",
        "order number 12345678",
        "room 1203, 2 nights",
    ],
)
def test_leaves_non_personal_numbers(text: str) -> None:
    assert mask_pii(text) == text


def test_spans_index_the_original_text() -> None:
    text = "電話０３－１２３４－５６７８、mail a@b.jp"
    spans = find_pii(text)
    assert [(text[s:e], m) for s, e, m in spans] == [
        ("０３－１２３４－５６７８", "[phone]"),
        ("a@b.jp", "[email]"),
    ]
