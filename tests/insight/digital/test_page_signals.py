"""quick_back, form_abandonment and field_hesitation at their edges."""

from __future__ import annotations

import pytest

from cxloop.insight.digital.detectors import field_hesitation, form_abandonment, quick_back

from .conftest import SessionBuilder

HOME, SHOES = "https://shop.test/", "https://shop.test/shoes"


def _bounce(sb: SessionBuilder, dwell: int) -> None:
    sb.pageview(HOME)
    sb.click(4000, selector="a.shoes", kind="clickable")
    sb.add("pagehide", 10)
    sb.pageview(SHOES, 300)
    sb.add("pagehide", dwell - 100)
    sb.pageview(HOME, 100, nav="back_forward")


@pytest.mark.parametrize(("dwell", "found"), [(4999, 1), (5000, 1), (5001, 0)])
def test_quick_back_within_five_seconds(sb: SessionBuilder, dwell: int, found: int) -> None:
    _bounce(sb, dwell)
    signals = quick_back(sb.events)
    assert len(signals) == found
    if found:
        assert signals[0].url == SHOES  # the page the visitor bounced off
        assert signals[0].details["dwell_ms"] == dwell


def test_clicking_on_the_page_means_it_was_used(sb: SessionBuilder) -> None:
    sb.pageview(HOME)
    sb.pageview(SHOES, 1000)
    sb.click(1000, selector="button.size")
    sb.pageview(HOME, 1000)
    assert quick_back(sb.events) == []


def test_moving_towards_the_back_button_still_counts_as_quick_back(sb: SessionBuilder) -> None:
    sb.pageview(HOME)
    sb.pageview(SHOES, 1000)
    sb.move(500, 300, 200)
    sb.move(50, 200, 20)
    sb.scroll(100, 0)
    sb.pageview(HOME, 1000)
    assert len(quick_back(sb.events)) == 1


def test_moving_on_to_a_third_page_is_not_going_back(sb: SessionBuilder) -> None:
    sb.pageview(HOME)
    sb.pageview(SHOES, 1000)
    sb.pageview("https://shop.test/bags", 1000)
    assert quick_back(sb.events) == []


def _typed_and_left(sb: SessionBuilder) -> None:
    sb.pageview("https://shop.test/signup")
    sb.field("field_focus", 2000, "input#email")
    sb.field("field_input", 800, "input#email")
    sb.field("field_blur", 3000, "input#email")
    sb.field("field_focus", 10, "input#name")
    sb.field("field_input", 500, "input#name")


def test_form_typed_into_and_left_is_abandoned(sb: SessionBuilder) -> None:
    _typed_and_left(sb)
    left = sb.add("pagehide", 4000)
    sb.pageview("https://shop.test/", 200)
    [signal] = form_abandonment(sb.events)
    assert signal.selector == "form#signup"
    assert signal.url == "https://shop.test/signup"
    assert signal.at == left.ts
    assert signal.details == {"fields": 2, "last_field": "input#name"}


def test_submitted_form_is_not_abandoned(sb: SessionBuilder) -> None:
    _typed_and_left(sb)
    sb.add("submit", 1000, selector="form#signup.ng-dirty", form="form#signup.ng-dirty")
    sb.add("pagehide", 10)
    assert form_abandonment(sb.events) == []


def test_returning_later_to_submit_is_not_abandonment(sb: SessionBuilder) -> None:
    _typed_and_left(sb)
    sb.pageview("https://shop.test/terms", 1000)
    sb.pageview("https://shop.test/signup", 20_000, nav="back_forward")
    sb.add("submit", 1000, selector="form#signup", form="form#signup")
    assert form_abandonment(sb.events) == []


def test_focusing_a_field_without_typing_is_not_abandonment(sb: SessionBuilder) -> None:
    sb.pageview("https://shop.test/signup")
    sb.field("field_focus", 2000, "input#email")
    sb.field("field_blur", 3000, "input#email")
    sb.add("pagehide", 4000)
    assert form_abandonment(sb.events) == []


def test_fields_outside_a_form_are_named_by_the_last_field(sb: SessionBuilder) -> None:
    sb.pageview("https://shop.test/search")
    sb.field("field_input", 1000, "input.q", form="")
    sb.add("pagehide", 1000)
    [signal] = form_abandonment(sb.events)
    assert signal.selector == "input.q"


@pytest.mark.parametrize(("wait", "found"), [(4999, 0), (5000, 1), (5001, 1)])
def test_field_hesitation_from_focus_to_first_input(
    sb: SessionBuilder, wait: int, found: int
) -> None:
    sb.pageview("https://shop.test/signup")
    sb.field("field_focus", 1000, "input#iban")
    sb.field("field_input", wait, "input#iban")
    signals = field_hesitation(sb.events)
    assert len(signals) == found
    if found:
        assert (signals[0].selector, signals[0].details["wait_ms"]) == ("input#iban", wait)


@pytest.mark.parametrize("away", [("visibility", "hidden"), ("focus", "blur")])
def test_time_away_from_the_page_is_not_hesitation(
    sb: SessionBuilder, away: tuple[str, str]
) -> None:
    sb.pageview("https://shop.test/signup")
    sb.field("field_focus", 1000, "input#iban")
    sb.add(away[0], 1000, state=away[1])
    sb.add(away[0], 60_000, state="visible" if away[1] == "hidden" else "focus")
    sb.field("field_input", 1000, "input#iban")
    assert field_hesitation(sb.events) == []


def test_leaving_a_field_untouched_is_not_hesitation(sb: SessionBuilder) -> None:
    sb.pageview("https://shop.test/signup")
    sb.field("field_focus", 1000, "input#iban")
    sb.field("field_blur", 9000, "input#iban")
    sb.field("field_focus", 100, "input#name")
    sb.field("field_input", 300, "input#name")
    sb.field("field_input", 9000, "input#iban")
    assert field_hesitation(sb.events) == []
