"""The case inbox and case page in real Chromium."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from cxloop.act import cases
from cxloop.store.base import utcnow
from cxloop.store.models.act import RootCause
from tests.conftest import LiveServer, Org, browser_login, browser_page


@pytest.mark.browser
def test_manager_works_a_case_from_inbox_to_resolved_in_chromium(
    live_server: LiveServer, browser: object, session: Session, org: Org
):
    overdue = cases.open_case(
        session=session,
        unit=org.unit("store_a"),
        title="待ち時間が長い",
        sla_hours=1,
        now=utcnow() - timedelta(hours=3),
    )
    cases.open_case(session=session, unit=org.unit("store_c"), title="West only")
    session.add(
        RootCause(
            org_unit_id=org.unit("acme").id, code="wait", name="Long wait", name_ja="待ち時間"
        )
    )
    session.commit()

    page, errors = browser_page(browser)
    browser_login(page, live_server.url, "manager_a@acme.example", next_path="/act/cases")

    rows = page.locator("[data-case-id]")
    assert rows.count() == 1  # store_c's case is not in scope
    assert page.locator("[data-testid=overdue]").count() == 1
    page.click(f"a[href='/act/cases/{overdue.id}']")
    page.wait_for_url(f"**/act/cases/{overdue.id}")
    assert page.locator("[data-testid=status]").inner_text() == "New"

    page.select_option("[data-testid=contact-form] select[name=channel]", "phone")
    page.fill("[data-testid=contact-form] textarea[name=body]", "お詫びの電話をしました")
    page.click("[data-testid=contact-form] button")
    page.wait_for_load_state()
    assert page.locator("[data-testid=status]").inner_text() == "Contacted"
    assert "お詫びの電話をしました" in page.locator("[data-testid=timeline]").inner_text()

    page.select_option("[data-testid=status-select]", "resolved")
    # act.js marks the root cause required while resolving: the browser blocks the submit.
    assert page.locator("[data-testid=root-cause-select]").evaluate("e => e.required")
    page.select_option("[data-testid=root-cause-select]", label="Long wait")
    page.click("[data-testid=status-form] button")
    page.wait_for_load_state()
    assert page.locator("[data-testid=status]").inner_text() == "Resolved"
    assert page.locator("[data-testid=root-cause]").inner_text() == "Long wait"

    page.click("[data-testid=lang-ja]")
    page.wait_for_load_state()
    assert page.locator("[data-testid=status]").inner_text() == "解決済み"
    assert page.locator("[data-testid=root-cause]").inner_text() == "待ち時間"
    assert errors == []
    page.close()


@pytest.mark.browser
def test_rule_editor_dry_run_with_htmx_in_chromium(
    live_server: LiveServer, browser: object, org: Org
):
    page, errors = browser_page(browser, console=False)  # the dry-run's 422 is logged
    browser_login(page, live_server.url, next_path="/act/rules")
    page.fill("[data-testid=condition]", "nps <= ")
    page.click("[data-testid=dry-run]")
    result = page.locator("[data-testid=dry-run-result]")
    result.wait_for()
    assert "column 8" in result.inner_text()
    page.fill("[data-testid=condition]", "nps <= 6")
    page.click("[data-testid=dry-run]")
    expect(page.locator("[data-testid=dry-run-result]")).to_contain_text("Would have fired 0")
    assert errors == []
    page.close()
