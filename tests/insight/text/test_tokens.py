from cxloop.insight.text._tokens import tokenize_ja


def test_offsets_and_lemmas_without_spaces() -> None:
    text = "料理が美味しくなかった。"
    tokens = tokenize_ja(text)
    assert all(text[t.start : t.end] == t.surface for t in tokens)
    by_surface = {t.surface: t for t in tokens}
    assert by_surface["美味しく"].lemma == "美味しい"
    assert by_surface["美味しく"].pos1 == "形容詞"
    assert by_surface["なかっ"].lemma == "無い"


def test_offsets_survive_spaces_and_newlines() -> None:
    text = "部屋 は\n綺麗　でした ok"
    tokens = tokenize_ja(text)
    assert [t.surface for t in tokens][:3] == ["部屋", "は", "綺麗"]
    assert all(text[t.start : t.end] == t.surface for t in tokens)
