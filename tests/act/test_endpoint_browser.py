"""Notification endpoints in real Chromium: create a webhook, send a test to a real local
receiver, see the delivery recorded, and re-send a dead letter."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from cxloop.act import webhooks
from tests.act.conftest import Receiver
from tests.conftest import LiveServer, Org, browser_login, browser_page


def _reload_until(page: Page, done: Callable[[], bool], tries: int = 100) -> None:
    """The delivery is sent by the job queue just after the response: reload until shown."""
    for _ in range(tries):
        if done():
            return
        page.wait_for_timeout(100)
        page.reload()
    raise AssertionError(f"never shown on {page.url}")


@pytest.mark.browser
def test_webhook_endpoint_test_send_and_dead_letter_resend_in_chromium(
    live_server: LiveServer, browser: object, org: Org, receiver: Receiver
):
    page, errors = browser_page(browser)
    browser_login(page, live_server.url, next_path="/act/endpoints")

    form = page.locator("[data-testid=endpoint-form]")
    form.locator("input[name=name]").fill("Ops <hook>")
    form.locator("select[name=kind]").select_option("webhook")
    form.locator("input[name=target]").fill(receiver.url + "/hook")
    form.locator("input[name=allow_private]").check()
    form.locator("button").click()
    page.wait_for_load_state()
    secret = page.locator("[data-testid=new-secret]").inner_text()
    assert secret.startswith("whsec_")
    page.goto(live_server.url + "/act/endpoints")
    assert secret not in page.content()  # shown once only
    row = page.locator("[data-testid=endpoint-table] tr[data-endpoint-id]")
    assert row.count() == 1 and "Ops <hook>" in row.inner_text()

    row.locator("[data-testid=send-test]").click()
    page.wait_for_url("**/act/deliveries?status=all&endpoint=*")
    status = page.locator("[data-testid=delivery-status]")
    _reload_until(page, lambda: status.count() == 1 and "Sent" in status.inner_text())
    assert "HTTP 200" in status.inner_text()
    (got,) = receiver.requests
    assert got.path == "/hook"
    webhooks.verify(secret, got.headers, got.body)  # signed with the secret shown once

    receiver.statuses.append(400)  # not worth retrying: the next test goes to the dead letters
    page.goto(live_server.url + "/act/endpoints")
    page.locator("[data-testid=send-test]").click()
    page.wait_for_url("**/act/deliveries?status=all&endpoint=*")
    _reload_until(page, lambda: "Failed" in status.first.inner_text())
    page.goto(live_server.url + "/act/endpoints")
    page.click("[data-testid=dead-letter-link]")
    page.wait_for_url("**/act/deliveries?status=dead")
    dead = page.locator("[data-testid=delivery-table] tr[data-delivery-id]")
    assert dead.count() == 1 and "HTTP 400" in dead.inner_text()
    dead.locator("button").click()
    page.wait_for_url("**/act/deliveries?status=all")
    newest = page.locator("[data-testid=delivery-status]").first
    _reload_until(page, lambda: "Sent" in newest.inner_text())
    assert len(receiver.requests) == 3
    assert receiver.requests[2].body == receiver.requests[1].body  # the same message again
    assert errors == []
    page.close()
