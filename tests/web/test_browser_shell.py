"""The web shell in a real Chromium: log in, switch to Japanese, switch org unit."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, LiveServer, Org


@pytest.mark.browser
def test_login_and_switch_to_japanese(live_server: LiveServer, browser, org: Org, tmp_path):
    page = browser.new_page(locale="en-US")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/")
    assert "/login" in page.url
    page.fill("#email", "east_manager@acme.example")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "Welcome, east_manager"
    assert page.locator("nav.stages").inner_text().startswith("Signals")

    page.click("[data-testid=lang-ja]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "ja"
    assert "ようこそ" in page.locator("h1").inner_text()
    nav = page.locator("nav.stages").inner_text()
    assert "シグナル" in nav and "アクション" in nav
    page.screenshot(path=str(tmp_path / "home-ja.png"), full_page=True)

    # The unit switcher offers only the user's subtree, and narrows the view (no inline JS).
    options = page.locator("#unit-switch option").all_inner_texts()
    assert any("Store A" in o for o in options) and not any("Store C" in o for o in options)
    page.select_option("#unit-switch", str(org.unit("store_b").id))
    page.wait_for_load_state()
    assert page.locator("#unit-switch").input_value() == str(org.unit("store_b").id)
    assert "組織 1 件" in page.locator("main").inner_text()

    # The Japanese preference stays after logging out and in again.
    page.click("text=ログアウト")
    page.wait_for_url(f"{live_server.url}/login")
    page.fill("#email", "east_manager@acme.example")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert "ようこそ" in page.locator("h1").inner_text()
    assert errors == []
