"""Feedback pages: explorer (escaping, highlights, scoping, both languages), themes page,
and the explorer in real Chromium with a Japanese search."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.web.pages.feedback import highlight
from tests.conftest import (
    LiveServer,
    Org,
    bearer,
    browser_login,
    browser_page,
    login,
    make_api_key,
)

DELIVERY = "配送が三日も遅れて本当に困りました。"
PRAISE = "スタッフの田中さんの接客がとても丁寧でした。"


def _post(client: TestClient, session: Session, org: Org, items: list[dict]) -> None:
    key = make_api_key(session, org.unit("acme"), ["feedback:write"], name="seed")
    r = client.post("/api/v1/feedback", json={"items": items}, headers=bearer(key))
    assert r.json()["counts"]["rejected"] == 0, r.text


def test_highlight_escapes_before_marking():
    text = '<script>alert(1)</script> 配送 & "x"'
    html = str(highlight(text, [(26, 28), (0, 8)]))
    assert "<script>" not in html
    assert html.startswith("<mark>&lt;script&gt;</mark>")
    assert "<mark>配送</mark> &amp; &#34;x&#34;" in html


def test_explorer_escapes_customer_text_and_marks_themes(
    client: TestClient, session: Session, org: Org
):
    _post(
        client,
        session,
        org,
        [
            {
                "source": "review",
                "text": "<img src=x onerror=alert(1)> 配送が遅い",
                "org_unit": "store_a",
            },
        ],
    )
    login(client, "admin@acme.example")
    page = client.get("/feedback").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<mark>配送</mark>" in page


def test_explorer_is_scoped_and_filters(client: TestClient, session: Session, org: Org):
    _post(
        client,
        session,
        org,
        [
            {"source": "review", "text": DELIVERY, "org_unit": "store_a"},
            {"source": "email", "text": PRAISE, "org_unit": "store_a"},
            {"source": "review", "text": "配送の箱が潰れていた。", "org_unit": "store_c"},
        ],
    )
    login(client, "manager_a@acme.example")
    page = client.get("/feedback").text
    assert "箱が潰れていた" not in page and "2 件" in page or "2 records" in page
    only = client.get("/feedback", params={"source": "email"}).text
    assert "丁寧" in only and "三日も" not in only
    theme = client.get("/feedback", params={"theme": "delivery"}).text
    assert "三日も" in theme and "丁寧" not in theme


def test_explorer_in_both_languages(client: TestClient, session: Session, org: Org):
    token = login(client, "admin@acme.example")
    assert "Feedback explorer" in client.get("/feedback").text
    client.post("/settings/language", data={"language": "ja", "csrf_token": token})
    page = client.get("/feedback").text
    assert "フィードバック・エクスプローラー" in page and "テキスト検索" in page
    assert "テーマ分類" in client.get("/feedback/themes").text


def test_themes_page_adds_a_theme_and_starts_a_job(client: TestClient, session: Session, org: Org):
    _post(
        client,
        session,
        org,
        [{"source": "review", "text": "ラッピングが雑。", "org_unit": "store_a"}],
    )
    token = login(client, "admin@acme.example")
    r = client.post(
        "/feedback/themes",
        data={
            "csrf_token": token,
            "key": "gift_wrapping",
            "name_en": "Gift wrapping",
            "name_ja": "ギフト包装",
            "terms_ja": "ラッピング、包装",
            "terms_en": "gift wrap",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and "error" not in r.headers["location"]
    r = client.post("/feedback/jobs", data={"csrf_token": token, "kind": "reanalyze"})
    page = r.text
    assert 'data-job-status="done"' in page and "1 / 1" in page
    assert (
        "<mark>ラッピング</mark>" in client.get("/feedback", params={"theme": "gift_wrapping"}).text
    )
    bad = client.post(
        "/feedback/themes",
        data={"csrf_token": token, "key": "gift_wrapping", "name_en": "x", "name_ja": "x"},
    )
    assert "already exists" in bad.text
    # Without the CSRF token nothing changes.
    forged = client.post("/feedback/jobs", data={"kind": "discover"})
    assert forged.status_code == 403


def test_frontline_cannot_edit_the_taxonomy(client: TestClient, session: Session, org: Org):
    token = login(client, "frontline_a@acme.example")
    page = client.get("/feedback/themes").text
    assert 'action="/feedback/themes"' not in page
    r = client.post("/feedback/jobs", data={"csrf_token": token, "kind": "discover"})
    assert r.status_code == 403


@pytest.mark.browser
def test_japanese_search_in_chromium(
    live_server: LiveServer, browser: object, client: TestClient, session: Session, org: Org
):
    _post(
        client,
        session,
        org,
        [
            {"source": "review", "text": DELIVERY, "org_unit": "store_a", "external_id": "1"},
            {"source": "review", "text": PRAISE, "org_unit": "store_a", "external_id": "2"},
            {
                "source": "email",
                "text": "The delivery box was crushed.",
                "org_unit": "store_b",
                "external_id": "3",
            },
        ],
    )
    page, errors = browser_page(browser)
    browser_login(page, live_server.url, next_path="/feedback")
    assert page.locator("[data-testid=feedback-record]").count() == 3
    # The weekly chart is drawn by feedback.js from the JSON block (CSP allows no inline JS).
    page.wait_for_selector("#feedback-weekly-chart[data-rendered='1']")
    assert page.locator("#feedback-weekly-chart .bars .point").count() >= 1
    page.fill("[data-testid=feedback-q]", "配送")
    page.click("[data-testid=feedback-search]")
    page.wait_for_url("**/feedback?*q=*")
    records = page.locator("[data-testid=feedback-record]")
    assert records.count() == 1
    assert "三日も遅れて" in records.first.inner_text()
    assert records.first.locator("mark").first.inner_text() == "配送"
    assert errors == []
    page.close()
