from cxloop.insight.text.taxonomy import default_taxonomy, load_taxonomy
from cxloop.insight.text.themes import ThemeMatcher

MATCHER = ThemeMatcher(default_taxonomy())


def _found(text: str, language: str) -> dict[str, list[str]]:
    return {h.id: [text[s:e] for s, e in h.spans] for h in MATCHER.match(text, language)}


def test_english_terms_phrases_and_spans() -> None:
    text = "The waiter was rude and we waited forever. I was charged twice!"
    found = _found(text, "en")
    assert found["staff_attitude"] == ["rude"]
    assert found["wait_time"] == ["waited", "forever"]
    assert found["billing_payment"] == ["charged twice"]
    assert found["service"] == ["waiter"]


def test_longest_phrase_wins_over_nested_term() -> None:
    found = _found("Customer service was great", "en")
    assert found["service"] == ["Customer service"]


def test_japanese_unsegmented_text_matches_inflected_forms() -> None:
    text = "注文した商品が届きません。30分も待たされた上に、返金もしてくれない。"
    found = _found(text, "ja")
    assert found["delivery"] == ["届き"]
    assert found["wait_time"] == ["待たされ"]
    assert found["returns_refunds"] == ["返金"]


def test_japanese_does_not_match_inside_other_words() -> None:
    # 味 (taste) is a term of food_quality but must not fire inside 興味 (interest).
    assert "food_quality" not in _found("新商品に興味があります。", "ja")


def test_japanese_phrase_and_names() -> None:
    text = "駅から近いし、スタッフの笑顔が素敵でした。"
    hits = {h.id: h for h in MATCHER.match(text, "ja")}
    assert [text[s:e] for s, e in hits["location_access"].spans] == ["駅から近い"]
    assert hits["location_access"].name == "立地・アクセス"
    assert hits["staff_attitude"].parent == "service"


def test_score_grows_with_evidence_and_is_bounded() -> None:
    one = {h.id: h.score for h in MATCHER.match("The price was high.", "en")}["price_value"]
    two = {h.id: h.score for h in MATCHER.match("Overpriced, bad value for money.", "en")}
    assert 0 < one < two["price_value"] < 1


def test_custom_taxonomy_is_used() -> None:
    tax = load_taxonomy(
        {
            "themes": [
                {
                    "id": "parking",
                    "name": {"en": "Parking", "ja": "駐車場"},
                    "terms": {"en": ["parking"], "ja": ["駐車場"]},
                }
            ]
        }
    )
    matcher = ThemeMatcher(tax)
    assert [h.id for h in matcher.match("No parking at all", "en")] == ["parking"]
    assert [h.id for h in matcher.match("駐車場が狭い", "ja")] == ["parking"]
    assert matcher.match("Lovely staff", "en") == []
