"""Act pages over HTTP: scoped inbox, case workflow forms, rule editor with dry-run, lists."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.act import cases, notify
from cxloop.store.models.act import RootCause
from tests.conftest import Org, login


def test_inbox_shows_only_scope_and_escapes_customer_text(
    client: TestClient, session: Session, org: Org
):
    cases.open_case(session=session, unit=org.unit("store_a"), title="<script>alert(1)</script>")
    cases.open_case(session=session, unit=org.unit("store_c"), title="West case")
    session.commit()
    login(client, "manager_a@acme.example")
    page = client.get("/act/cases?tab=all")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)" not in page.text
    assert "West case" not in page.text
    assert 'data-testid="loop-metrics"' in page.text


def test_case_page_in_japanese_and_forms_change_the_case(
    client: TestClient, session: Session, org: Org
):
    case = cases.open_case(session=session, unit=org.unit("store_a"), title="Wait")
    cause = RootCause(org_unit_id=org.unit("acme").id, code="wait", name="Wait", name_ja="待ち")
    session.add(cause)
    session.commit()
    token = login(client, "manager_a@acme.example")
    client.post("/settings/language", data={"language": "ja", "csrf_token": token, "next": "/"})
    page = client.get(f"/act/cases/{case.id}")
    assert "ケース #" in page.text and "新規" in page.text
    r = client.post(
        f"/act/cases/{case.id}/status",
        data={"status": "resolved", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 422 and "root cause" in r.text  # the error is shown on the page
    r = client.post(
        f"/act/cases/{case.id}/contacts",
        data={"channel": "phone", "body": "話しました", "reached": "1", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(
        f"/act/cases/{case.id}/status",
        data={"status": "resolved", "root_cause_id": str(cause.id), "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(f"/act/cases/{case.id}")
    assert "解決済み" in page.text and "待ち" in page.text and "話しました" in page.text
    # No CSRF token: refused.
    assert client.post(f"/act/cases/{case.id}/notes", data={"body": "x"}).status_code == 403


def test_rule_editor_shows_parse_error_and_dry_run(client: TestClient, org: Org):
    token = login(client, "admin@acme.example")
    assert client.get("/act/rules").status_code == 200
    form = {
        "name": "Bad",
        "condition": "nps <= ",
        "org_unit_id": str(org.unit("acme").id),
        "actions": '[{"type": "open_case"}]',
        "segments": "{}",
        "csrf_token": token,
    }
    r = client.post("/act/rules", data=form)
    assert r.status_code == 422 and "column 8" in r.text
    dry = client.post(
        "/act/rules/dry-run", data={**form, "condition": "nps <= 6"}, headers={"HX-Request": "true"}
    )
    assert dry.status_code == 200 and "dry-run-result" in dry.text
    ok = client.post("/act/rules", data={**form, "condition": "nps <= 6"}, follow_redirects=False)
    assert ok.status_code == 303
    assert "nps &lt;= 6" in client.get("/act/rules").text


def test_rule_and_dead_letter_pages_need_admin(client: TestClient, session: Session, org: Org):
    endpoint = notify.create_endpoint(
        session=session,
        org_unit_id=org.unit("acme").id,
        name="x",
        kind="webhook",
        target="http://127.0.0.1:9/",
        allow_private=True,
    )
    d = notify.queue_to_endpoint(
        session=session, endpoint=endpoint, event="e", title="t", text="x", data={}
    )
    d.status, d.last_error = "dead", "HTTP 500"
    session.commit()
    login(client, "manager_a@acme.example")
    assert client.get("/act/rules").status_code == 403
    assert client.get("/act/deliveries").status_code == 403
    login(client, "admin@acme.example")
    page = client.get("/act/deliveries")
    assert "HTTP 500" in page.text and f"/act/deliveries/{d.id}/resend" in page.text


def test_recognition_and_backlog_pages_render(client: TestClient, org: Org):
    login(client, "frontline_a@acme.example")
    assert client.get("/act/recognition").status_code == 200
    assert client.get("/act/backlog").status_code == 200


def test_backlog_item_from_the_page(client: TestClient, org: Org):
    token = login(client, "east_manager@acme.example")
    form = {
        "title": "Fix <checkout>",
        "org_unit_id": str(org.unit("east").id),
        "theme": "billing",
        "csrf_token": token,
    }
    r = client.post("/act/backlog", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/act/backlog/")
    page = client.get(r.headers["location"])
    assert "Fix &lt;checkout&gt;" in page.text
    assert "Fix &lt;checkout&gt;" in client.get("/act/backlog").text
    bad = client.post("/act/backlog", data={**form, "theme": ""})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "theme"


def test_inbox_starts_on_open_cases_for_overseers(client: TestClient, session: Session, org: Org):
    cases.open_case(session=session, unit=org.unit("store_c"), title="West case")
    session.commit()
    login(client, "exec@acme.example")
    assert "West case" in client.get("/act/cases").text
    assert "West case" not in client.get("/act/cases?tab=mine").text
