"""A backlog item's page: export to GitHub (or a webhook), the link back, the synced status,
"sync now", errors on the page, and scoping of the export targets."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act import backlog, notify
from cxloop.store.models.act import BacklogItem, Delivery, Endpoint
from tests.act.conftest import Receiver
from tests.conftest import Org, login


def _item(session: Session, org: Org, unit: str = "store_a") -> BacklogItem:
    item = backlog.create_item(
        session=session,
        org_unit_id=org.unit(unit).id,
        title="Checkout <button> hidden",
        unit_ids=[org.unit(unit).id],
        theme="checkout",
    )
    session.commit()
    return item


def _endpoint(
    session: Session, org: Org, receiver: Receiver, kind: str, unit: str = "acme"
) -> Endpoint:
    endpoint = notify.create_endpoint(
        session=session,
        org_unit_id=org.unit(unit).id,
        name=f"{kind} of {unit}",
        kind=kind,
        target=receiver.url,
        project="acme/shop" if kind == "github" else None,
        secret="tok-123" if kind == "github" else None,
        allow_private=True,
    )
    session.commit()
    return endpoint


def test_export_to_github_links_back_and_syncs_the_status(
    client: TestClient, session: Session, org: Org, receiver: Receiver
):
    item = _item(session, org)
    endpoint = _endpoint(session, org, receiver, "github")
    token = login(client, "admin@acme.example")
    page = client.get(f"/act/backlog/{item.id}")
    assert 'data-testid="export-form"' in page.text and "github of acme" in page.text
    assert "Checkout &lt;button&gt; hidden" in page.text

    receiver.response_body["POST /repos/acme/shop/issues"] = json.dumps(
        {"number": 7, "html_url": "https://github.example/acme/shop/issues/7", "state": "open"}
    ).encode()
    r = client.post(
        f"/act/backlog/{item.id}/export",
        data={"endpoint_id": str(endpoint.id), "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    sent = receiver.requests[0]
    assert (sent.method, sent.path) == ("POST", "/repos/acme/shop/issues")
    assert f"/act/backlog/{item.id}" in json.loads(sent.body)["body"]  # the issue links back
    page = client.get(f"/act/backlog/{item.id}")
    assert 'href="https://github.example/acme/shop/issues/7"' in page.text
    assert 'data-testid="external-status">open<' in page.text
    assert 'data-testid="export-form"' not in page.text  # exported once only

    receiver.response_body["GET /repos/acme/shop/issues/7"] = b'{"state": "closed"}'
    r = client.post(
        f"/act/backlog/{item.id}/sync", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    page = client.get(f"/act/backlog/{item.id}")
    assert 'data-testid="external-status">closed<' in page.text
    assert 'data-testid="backlog-status">Done<' in page.text


def test_a_failing_tracker_is_reported_on_the_page(
    client: TestClient, session: Session, org: Org, receiver: Receiver
):
    item = _item(session, org)
    endpoint = _endpoint(session, org, receiver, "github")
    token = login(client, "admin@acme.example")
    receiver.statuses.append(500)
    r = client.post(
        f"/act/backlog/{item.id}/export",
        data={"endpoint_id": str(endpoint.id), "csrf_token": token},
    )
    assert r.status_code == 502 and "github answered HTTP 500" in r.text
    session.expire_all()
    assert session.get(BacklogItem, item.id).external_key is None  # type: ignore[union-attr]
    r = client.post(f"/act/backlog/{item.id}/sync", data={"csrf_token": token})
    assert r.status_code == 409 and "endpoint_id: this item has not been exported yet" in r.text


def test_export_to_a_webhook_queues_a_signed_delivery(
    client: TestClient, session: Session, org: Org, receiver: Receiver
):
    item = _item(session, org)
    endpoint = _endpoint(session, org, receiver, "webhook")
    token = login(client, "admin@acme.example")
    r = client.post(
        f"/act/backlog/{item.id}/export",
        data={"endpoint_id": str(endpoint.id), "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    (delivery,) = session.scalars(select(Delivery)).all()
    assert delivery.status == "sent" and delivery.event == "backlog.item"
    assert json.loads(receiver.requests[0].body)["data"]["id"] == item.id
    page = client.get(f"/act/backlog/{item.id}")
    assert delivery.msg_id in page.text and 'data-testid="sync-now"' not in page.text


def test_store_manager_sees_only_targets_in_scope(
    client: TestClient, session: Session, org: Org, receiver: Receiver
):
    item = _item(session, org)
    company = _endpoint(session, org, receiver, "github")
    store = _endpoint(session, org, receiver, "webhook", unit="store_a")
    west = _item(session, org, unit="store_c")
    token = login(client, "manager_a@acme.example")
    page = client.get(f"/act/backlog/{item.id}")
    assert "webhook of store_a" in page.text and "github of acme" not in page.text
    r = client.post(
        f"/act/backlog/{item.id}/export",
        data={"endpoint_id": str(company.id), "csrf_token": token},
    )
    assert r.status_code == 404 and f"endpoint_id: endpoint {company.id} not found" in r.text
    assert receiver.requests == []
    assert client.get(f"/act/backlog/{west.id}").status_code == 404
    r = client.post(
        f"/act/backlog/{west.id}/export",
        data={"endpoint_id": str(store.id), "csrf_token": token},
    )
    assert r.status_code == 404
    # frontline staff may read the backlog but not export
    login(client, "frontline_a@acme.example")
    assert 'data-testid="export-form"' not in client.get(f"/act/backlog/{item.id}").text
