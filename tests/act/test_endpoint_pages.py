"""The notification endpoints page: create (secret shown once), edit, disable, send a test,
the private-address block, scoping, and the dead-letter list with re-send."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act import notify, webhooks
from cxloop.store.models.act import Delivery, Endpoint
from cxloop.store.org import create_user
from tests.act.conftest import Receiver
from tests.conftest import _PASSWORD_HASH, Org, login


def _form(token: str, org: Org, **values: str) -> dict[str, str]:
    base = {"name": "Ops hook", "org_unit_id": str(org.unit("acme").id), "kind": "webhook"}
    return {**base, "target": "https://hooks.example.com/cx", "csrf_token": token, **values}


def _company_endpoint(session: Session, org: Org, receiver: Receiver) -> Endpoint:
    endpoint = notify.create_endpoint(
        session=session,
        org_unit_id=org.unit("acme").id,
        name="Company hook",
        kind="webhook",
        target=receiver.url + "/hook",
        allow_private=True,
    )
    session.commit()
    return endpoint


def test_a_webhook_secret_is_shown_once_and_never_again(
    client: TestClient, session: Session, org: Org, receiver: Receiver
):
    token = login(client, "admin@acme.example")
    form = _form(token, org, target=receiver.url + "/hook", allow_private="true")
    created = client.post("/act/endpoints", data=form)
    assert created.status_code == 201
    shown = re.search(r'data-testid="new-secret">(whsec_[^<]+)<', created.text)
    endpoint = session.scalars(select(Endpoint)).one()
    assert shown is not None and shown.group(1) == endpoint.secret
    assert endpoint.allow_private and endpoint.kind == "webhook"
    assert endpoint.secret not in client.get("/act/endpoints").text
    assert endpoint.secret not in client.get(f"/act/endpoints?edit={endpoint.id}").text
    # a GitHub token typed in the form is not echoed either
    github = _form(token, org, name="GH", kind="github", project="acme/shop", secret="ghp_tok")
    github |= {"target": receiver.url, "allow_private": "true"}
    page = client.post("/act/endpoints", data=github)
    assert page.status_code == 201 and "ghp_tok" not in page.text
    assert "new-secret" not in page.text


def test_private_and_loopback_targets_are_blocked_unless_allowed(client: TestClient, org: Org):
    token = login(client, "admin@acme.example")
    blocked = client.post("/act/endpoints", data=_form(token, org, target="http://localhost:9/x"))
    assert blocked.status_code == 422
    assert "target refused: localhost resolves to" in blocked.text
    assert "loopback" in blocked.text and 'value="http://localhost:9/x"' in blocked.text
    allowed = client.post(
        "/act/endpoints",
        data=_form(token, org, target="http://localhost:9/x", allow_private="true"),
    )
    assert allowed.status_code == 201


def test_edit_rename_block_private_again_and_disable(
    client: TestClient, session: Session, org: Org, receiver: Receiver
):
    endpoint = _company_endpoint(session, org, receiver)
    token = login(client, "admin@acme.example")
    # taking the private-address permission away re-checks the loopback target: refused
    r = client.post(f"/act/endpoints/{endpoint.id}", data={"name": "x", "csrf_token": token})
    assert r.status_code == 422 and "loopback" in r.text
    r = client.post(
        f"/act/endpoints/{endpoint.id}",
        data={"name": "Renamed <b>", "allow_private": "true", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "Renamed &lt;b&gt;" in client.get("/act/endpoints").text
    r = client.post(
        f"/act/endpoints/{endpoint.id}/toggle", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    session.expire_all()
    assert session.get(Endpoint, endpoint.id).is_active is False  # type: ignore[union-attr]
    assert f"/act/endpoints/{endpoint.id}/test" not in client.get("/act/endpoints").text


def test_send_test_delivers_a_signed_message_and_lists_it(
    client: TestClient, session: Session, org: Org, receiver: Receiver
):
    endpoint = _company_endpoint(session, org, receiver)
    token = login(client, "admin@acme.example")
    r = client.post(
        f"/act/endpoints/{endpoint.id}/test", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/act/deliveries?status=all&endpoint={endpoint.id}"
    (got,) = receiver.requests
    webhooks.verify(endpoint.secret or "", got.headers, got.body)
    assert b'"endpoint.test"' in got.body
    page = client.get(r.headers["location"])
    assert "endpoint.test" in page.text and "HTTP 200" in page.text
    assert 'data-testid="endpoint-filter"' in page.text


def test_github_endpoints_get_no_test_message(client: TestClient, session: Session, org: Org):
    endpoint = notify.create_endpoint(
        session=session,
        org_unit_id=org.unit("acme").id,
        name="GH",
        kind="github",
        target="http://127.0.0.1:9",
        project="acme/shop",
        secret="tok",
        allow_private=True,
    )
    session.commit()
    token = login(client, "admin@acme.example")
    r = client.post(f"/act/endpoints/{endpoint.id}/test", data={"csrf_token": token})
    assert r.status_code == 422 and "kind: test messages go to email, webhook, chat" in r.text
    assert session.scalars(select(Delivery)).all() == []


def test_store_people_cannot_see_or_change_company_endpoints(
    client: TestClient, session: Session, org: Org, receiver: Receiver
):
    endpoint = _company_endpoint(session, org, receiver)
    store = notify.create_endpoint(
        session=session,
        org_unit_id=org.unit("store_a").id,
        name="Store A mail",
        kind="email",
        target="store-a@acme.example",
    )
    store_admin = create_user(
        session=session,
        email="store_admin@acme.example",
        name="store admin",
        role="admin",
        units=[org.unit("store_a")],
    )
    store_admin.password_hash = _PASSWORD_HASH
    session.commit()

    token = login(client, "manager_a@acme.example")
    assert client.get("/act/endpoints").status_code == 403
    form = {"name": "mine", "csrf_token": token}
    assert client.post(f"/act/endpoints/{endpoint.id}", data=form).status_code == 403

    token = login(client, "store_admin@acme.example")
    page = client.get("/act/endpoints")
    assert "Store A mail" in page.text and "Company hook" not in page.text
    assert client.get(f"/act/endpoints?edit={endpoint.id}").status_code == 404
    form = {"name": "mine", "csrf_token": token}
    for path in ("", "/toggle", "/test"):
        assert client.post(f"/act/endpoints/{endpoint.id}{path}", data=form).status_code == 404
    created = client.post("/act/endpoints", data=_form(token, org))  # a company endpoint
    assert created.status_code == 422 and "org_unit_id" in created.text
    assert client.get(f"/act/deliveries?endpoint={endpoint.id}").status_code == 404
    session.expire_all()
    assert session.get(Endpoint, endpoint.id).name == "Company hook"  # type: ignore[union-attr]
    assert store.id in {e.id for e in session.scalars(select(Endpoint))}


def test_dead_letter_is_re_sent_from_the_page(
    client: TestClient, session: Session, org: Org, receiver: Receiver
):
    endpoint = _company_endpoint(session, org, receiver)
    d = notify.queue_test(session=session, endpoint=endpoint)
    d.status, d.attempts, d.last_error = "dead", 6, "HTTP 500"
    session.commit()
    token = login(client, "admin@acme.example")
    assert "HTTP 500" in client.get("/act/deliveries").text
    r = client.post(
        f"/act/deliveries/{d.id}/resend", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    assert len(receiver.requests) == 1
    session.expire_all()
    again = session.get(Delivery, d.id)
    assert again is not None and (again.status, again.attempts) == ("sent", 1)
    assert f"/act/deliveries/{d.id}/resend" not in client.get("/act/deliveries").text


def test_chat_webhook_url_is_not_shown_and_the_page_speaks_japanese(
    client: TestClient, session: Session, org: Org
):
    token = login(client, "admin@acme.example")
    url = "http://127.0.0.1:9/services/T0001/B0001/s3cretPath"
    form = _form(token, org, name="Slack", kind="chat", target=url, allow_private="true")
    created = client.post("/act/endpoints", data=form)
    assert created.status_code == 201 and "s3cretPath" not in created.text
    endpoint = session.scalars(select(Endpoint)).one()
    assert endpoint.target == url and endpoint.kind == "chat"
    client.post("/settings/language", data={"language": "ja", "csrf_token": token, "next": "/"})
    page = client.get("/act/endpoints")
    assert "s3cretPath" not in page.text and "http://127.0.0.1:9/…" in page.text
    assert "<h1>通知先</h1>" in page.text and "テスト送信" in page.text
    assert "s3cretPath" not in client.get(f"/act/endpoints?edit={endpoint.id}").text
    assert "s3cretPath" not in client.get("/act/deliveries?status=all").text
