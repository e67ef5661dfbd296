from cxloop.insight.text._tokens import split_pos, token_columns, tokenize_ja


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


def test_offsets_survive_tabs_nul_and_ideographic_spaces() -> None:
    text = "  部屋\tは\u3000綺麗\x00でした"
    tokens = tokenize_ja(text)
    assert [t.surface for t in tokens][:2] == ["部屋", "は"]
    assert "綺麗" in [t.surface for t in tokens]
    assert all(text[t.start : t.end] == t.surface for t in tokens)


def test_columns_match_tokens() -> None:
    text = "朝食は とても美味しかったが、部屋が狭すぎる。"
    cols = token_columns(text)
    tokens = tokenize_ja(text)
    assert cols.lemmas == [t.lemma for t in tokens]
    assert cols.starts == [t.start for t in tokens]
    assert [split_pos(p) for p in cols.pos] == [(t.pos1, t.pos2) for t in tokens]
    assert tokenize_ja("") == [] and tokenize_ja("  \n") == []
