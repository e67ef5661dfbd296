import json
from pathlib import Path

import pytest

from cxloop.insight.text.taxonomy import (
    TaxonomyError,
    default_taxonomy,
    load_taxonomy,
    validate_taxonomy,
)

VALID = {
    "version": 1,
    "themes": [
        {"id": "service", "name": {"en": "Service", "ja": "サービス"}},
        {
            "id": "wait_time",
            "name": {"en": "Wait time", "ja": "待ち時間"},
            "parent": "service",
            "terms": {"en": ["wait"], "ja": ["待つ"]},
            "phrases": {"en": ["took forever"]},
        },
    ],
}


def test_default_taxonomy_has_the_cx_themes_in_both_languages() -> None:
    tax = default_taxonomy()
    ids = {t.id for t in tax.themes}
    expected = {
        "staff_attitude",
        "wait_time",
        "price_value",
        "product_quality",
        "delivery",
        "billing_payment",
        "website_app",
        "returns_refunds",
        "communication",
        "cleanliness",
        "availability_stock",
        "cancellation_churn",
        "food_quality",
        "ambience",
        "location_access",
        "call_resolution",
    }
    assert expected <= ids
    for theme in tax.themes:
        assert theme.name["en"] and theme.name["ja"]
        if theme.parent is None and not tax.children(theme.id):
            pytest.fail(f"{theme.id} is neither a child nor a parent")
    leaves = [t for t in tax.themes if not tax.children(t.id)]
    assert all(t.terms.get("en") and t.terms.get("ja") for t in leaves)


def test_load_from_dict_json_string_and_file_round_trip(tmp_path: Path) -> None:
    tax = load_taxonomy(VALID)
    assert tax.get("wait_time").parent == "service"
    assert tax.children("service")[0].id == "wait_time"
    again = load_taxonomy(json.dumps(tax.to_dict()))
    assert again == tax
    path = tmp_path / "tax.json"
    path.write_text(json.dumps(VALID), encoding="utf-8")
    assert load_taxonomy(path) == tax


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["themes"][1].update(id="Wait Time"), "themes[1].id: 'Wait Time' must be"),
        (lambda d: d["themes"][1].update(id="service"), "duplicate id 'service'"),
        (lambda d: d["themes"][1]["name"].pop("ja"), "themes[1] (wait_time).name.ja: missing"),
        (lambda d: d["themes"][1].update(parent="nope"), "(wait_time).parent: unknown theme id"),
        (lambda d: d["themes"][1]["terms"]["ja"].append(""), "(wait_time).terms.ja[1]: must be"),
        (lambda d: d["themes"][1].update(phrases=["x"]), "(wait_time).phrases: must be an object"),
        (lambda d: d["themes"][0].update(parent="wait_time"), "cycle"),
        (lambda d: d.update(themes=[]), "themes: must be a non-empty list"),
    ],
)
def test_validation_names_the_bad_field(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(json.dumps(VALID))
    mutate(data)
    errors = validate_taxonomy(data)
    assert any(message in e for e in errors), errors
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(data)
    assert message in str(info.value)


def test_invalid_json_is_a_taxonomy_error() -> None:
    with pytest.raises(TaxonomyError, match="not valid JSON"):
        load_taxonomy("{themes: ")


def test_valid_taxonomy_has_no_errors() -> None:
    assert validate_taxonomy(VALID) == []
