from cxloop.insight.text.sentences import split_sentences


def test_japanese_and_english_boundaries_with_offsets() -> None:
    text = "部屋は綺麗でした。朝食は残念！ The staff was great. Will return?"
    got = split_sentences(text)
    assert [s.text for s in got] == [
        "部屋は綺麗でした。",
        "朝食は残念！",
        "The staff was great.",
        "Will return?",
    ]
    assert all(text[s.start : s.end] == s.text for s in got)


def test_abbreviation_and_newline() -> None:
    got = split_sentences("Dr. Tanaka was kind\nthe wait was long")
    assert [s.text for s in got] == ["Dr. Tanaka was kind", "the wait was long"]


def test_whitespace_only_gives_nothing() -> None:
    assert split_sentences("  \n ") == []
