from cxloop.insight.text import get_analyzer
from cxloop.insight.text.discovery import discover_themes, discover_unexplained, tokenize_mixed

CORPUS = [
    "The parking lot was full and I could not find parking.",
    "No parking spaces near the store entrance.",
    "Parking is impossible on weekends, the lot is tiny.",
    "Paid parking is too expensive.",
    "The music was way too loud.",
    "Loud music made any conversation hard.",
    "Music volume was loud all evening.",
    "駐車場が狭くて停められなかった。",
    "駐車場が満車で停められない。",
    "駐車場がもっと広ければいいのに。",
    "Wi-Fi kept disconnecting in the lobby.",
    "The wifi password did not work, wifi useless.",
    "wifi was slow and kept disconnecting",
]
GROUPS = [{0, 1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 11, 12}]


def test_tokenizer_handles_japanese_and_english() -> None:
    tokens = tokenize_mixed("駐車場が狭い and the parking was full")
    assert "駐車" in tokens and "狭い" in tokens
    assert "parking" in tokens and "the" not in tokens


def test_recovers_constructed_groups_with_labels_and_examples() -> None:
    themes = discover_themes(CORPUS, seed=0)
    assert sorted(sorted(t.members) for t in themes) == sorted(sorted(g) for g in GROUPS)
    by_first = {t.members[0]: t for t in themes}
    assert by_first[0].terms[0] == "parking"
    assert "music" in by_first[4].terms[:2] and "loud" in by_first[4].terms[:2]
    assert "駐車" in by_first[7].terms[:2]
    assert "wifi" in by_first[10].terms[:2]
    assert themes[0].size == 4  # largest first
    for t in themes:
        assert set(t.examples) <= set(t.members) and len(t.examples) == 3


def test_deterministic_for_a_seed() -> None:
    assert discover_themes(CORPUS, seed=7) == discover_themes(CORPUS, seed=7)


def test_fixed_k_and_degenerate_inputs() -> None:
    assert len(discover_themes(CORPUS, k=2, seed=0)) == 2
    assert discover_themes([]) == []
    assert discover_themes(["123", "456"]) == []
    single = discover_themes(["parking full", "parking tiny"])
    assert len(single) == 1 and single[0].size == 2


def test_unexplained_texts_only_with_original_indices() -> None:
    # Texts the default taxonomy explains (staff, price) are interleaved with ones it does
    # not: a dog in the dining room and a broken umbrella stand.
    texts = [
        "The staff were rude.",
        "A dog was barking inside.",
        "The dog barked at the kids.",
        "Prices were too high.",
        "Someone's dog kept barking.",
        "Umbrella stand tipped and umbrellas fell.",
        "The umbrella stand fell over.",
        "No umbrella stand, umbrellas everywhere.",
    ]
    analyses = get_analyzer("fast").analyze(texts)
    assert analyses[0].themes and analyses[3].themes
    found = discover_unexplained(texts, analyses, seed=0)
    assert sorted(sorted(t.members) for t in found) == [[1, 2, 4], [5, 6, 7]]
    by_first = {t.members[0]: t for t in found}
    assert by_first[1].terms[0] == "dog"
    assert {"umbrella", "stand"} <= set(by_first[5].terms[:3])
