"""Notifications against real local receivers: retries, signatures, dead letters, SMTP."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.act import notify, rules, webhooks
from cxloop.act.act_tasks import act_send_due_deliveries
from cxloop.act.hooks import RuleRecord, record_arrived
from cxloop.config import Settings
from cxloop.jobs import JobContext
from cxloop.store.base import utcnow
from cxloop.store.models.act import Delivery, Endpoint
from tests.act.conftest import Receiver
from tests.conftest import Org, SmtpServer, login


def _webhook(session: Session, org: Org, url: str, kind: str = "webhook"):
    return notify.create_endpoint(
        session=session,
        org_unit_id=org.unit("acme").id,
        name="ops",
        kind=kind,
        target=url,
        allow_private=True,
    )


def test_webhook_retries_with_backoff_then_succeeds_signed(
    session: Session, org: Org, settings: Settings, receiver: Receiver
):
    receiver.statuses = [503, 500]
    endpoint = _webhook(session, org, receiver.url + "/hook")
    rules.create_rule(
        session=session,
        org_unit_id=org.unit("acme").id,
        name="Angry billing",
        condition='sentiment = "very_negative" and theme = "billing"',
        actions=[{"type": "notify", "endpoint_id": endpoint.id}],
    )
    record = RuleRecord(
        "feedback",
        "f1",
        org.unit("store_a").id,
        {"sentiment": "very_negative", "theme": ["billing"], "text": "<!channel> billed twice"},
    )
    (firing,) = record_arrived(session, record)
    (delivery_id,) = firing.delivery_ids
    delivery = session.get(Delivery, delivery_id)
    now = utcnow()
    notify.attempt(session=session, settings=settings, delivery=delivery, now=now)
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("pending", 1, 503)
    first_wait = delivery.next_attempt_at - now
    notify.attempt(
        session=session, settings=settings, delivery=delivery, now=delivery.next_attempt_at
    )
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("pending", 2, 500)
    second_wait = delivery.next_attempt_at - (now + first_wait)
    assert second_wait > first_wait  # exponential backoff
    notify.attempt(
        session=session, settings=settings, delivery=delivery, now=delivery.next_attempt_at
    )
    assert delivery.status == "sent" and delivery.attempts == 3

    assert len(receiver.requests) == 3
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert ids == {delivery.msg_id}  # one message id across retries, for de-duplication
    last = receiver.requests[-1]
    webhooks.verify(endpoint.secret, last.headers, last.body)
    payload = json.loads(last.body)
    assert payload["type"] == "rule.fired"
    assert payload["data"]["record_id"] == "f1"


def test_webhook_that_keeps_failing_is_dead_lettered_and_can_be_resent(
    client: TestClient, session: Session, org: Org, settings: Settings, receiver: Receiver
):
    receiver.statuses = [500] * 10
    endpoint = _webhook(session, org, receiver.url)
    delivery = notify.queue_to_endpoint(
        session=session, endpoint=endpoint, event="test", title="t", text="x", data={}
    )
    delivery.max_attempts = 3
    at = utcnow()
    for _ in range(3):
        notify.attempt(session=session, settings=settings, delivery=delivery, now=at)
        at = delivery.next_attempt_at or at
    assert delivery.status == "dead" and delivery.last_error == "HTTP 500"
    session.commit()

    client.headers["x-csrf-token"] = login(client, "admin@acme.example")
    dead = client.get("/api/v1/notifications/deliveries?status=dead").json()
    assert [d["id"] for d in dead["data"]] == [delivery.id]
    receiver.statuses = []  # the receiver is fixed
    r = client.post(f"/api/v1/notifications/deliveries/{delivery.id}/resend")
    assert r.status_code == 200, r.text
    session.expire_all()
    assert session.get(Delivery, delivery.id).status == "sent"  # sent by the queue after commit
    assert client.get("/api/v1/notifications/deliveries?status=dead").json()["count"] == 0


def test_timeouts_are_retried_not_dropped(session: Session, org: Org, settings: Settings):
    # A port with nothing listening: the attempt fails and stays queued for later.
    from tests.conftest import free_port

    endpoint = _webhook(session, org, f"http://127.0.0.1:{free_port()}/")
    delivery = notify.queue_to_endpoint(
        session=session, endpoint=endpoint, event="test", title="t", text="x", data={}
    )
    notify.attempt(session=session, settings=settings, delivery=delivery)
    assert delivery.status == "pending" and delivery.next_attempt_at is not None
    assert delivery.last_error


def test_receiver_that_times_out_is_retried(
    session: Session, org: Org, settings: Settings, receiver: Receiver, monkeypatch
):
    monkeypatch.setattr(notify, "WEBHOOK_TIMEOUT", 0.2)
    receiver.delay = 1.0
    endpoint = _webhook(session, org, receiver.url)
    delivery = notify.queue_to_endpoint(
        session=session, endpoint=endpoint, event="test", title="t", text="x", data={}
    )
    notify.attempt(session=session, settings=settings, delivery=delivery)
    assert delivery.status == "pending" and "timed out" in delivery.last_error


def test_private_targets_need_the_admin_only_flag(client: TestClient, session: Session, org: Org):
    body = {
        "name": "x",
        "org_unit_id": org.unit("acme").id,
        "kind": "webhook",
        "target": "http://127.0.0.1:9/hook",
    }
    client.headers["x-csrf-token"] = login(client, "admin@acme.example")
    refused = client.post("/api/v1/notifications/endpoints", json=body)
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "target"
    assert "loopback" in refused.json()["error"]["message"]
    ok = client.post("/api/v1/notifications/endpoints", json={**body, "allow_private": True})
    assert ok.status_code == 201 and ok.json()["secret"].startswith("whsec_")
    # A delivery to a private address without the flag is refused, never sent.
    endpoint_id = ok.json()["id"]
    patch = client.patch(
        f"/api/v1/notifications/endpoints/{endpoint_id}", json={"allow_private": False}
    )
    assert patch.status_code == 422


def test_chat_payload_escapes_customer_text(
    session: Session, org: Org, settings: Settings, receiver: Receiver
):
    endpoint = _webhook(session, org, receiver.url, kind="chat")
    delivery = notify.queue_to_endpoint(
        session=session,
        endpoint=endpoint,
        event="rule.fired",
        title="Alert",
        text="<!channel> <http://evil|click>",
        data={"rule": "r"},
    )
    notify.attempt(session=session, settings=settings, delivery=delivery)
    assert delivery.status == "sent"
    sent = json.loads(receiver.requests[0].body)
    assert "<!channel>" not in json.dumps(sent)
    assert "&lt;!channel&gt;" in sent["text"]
    assert "webhook-signature" not in receiver.requests[0].headers


def test_email_goes_through_real_smtp_with_escaped_html(
    session: Session, org: Org, mail_settings: Settings, smtp_server: SmtpServer
):
    delivery = notify.queue_email(
        session=session,
        org_unit_id=org.unit("acme").id,
        to="manager_a@acme.example",
        event="case.opened",
        subject="New case",
        text="Customer wrote: <script>x</script>",
    )
    session.commit()
    assert act_send_due_deliveries(JobContext(mail_settings)) == 1
    session.expire_all()
    assert session.get(Delivery, delivery.id).status == "sent"
    (msg,) = smtp_server.parsed()
    assert msg["To"] == "manager_a@acme.example"
    html = msg.get_body(("html",)).get_content()
    assert "&lt;script&gt;" in html and "<script>" not in html


def test_smtp_down_is_retried(session: Session, org: Org, settings: Settings):
    from tests.conftest import free_port

    down = settings.model_copy(update={"smtp_port": free_port()})
    delivery = notify.queue_email(
        session=session,
        org_unit_id=org.unit("acme").id,
        to="a@acme.example",
        event="x",
        subject="s",
        text="t",
    )
    notify.attempt(session=session, settings=down, delivery=delivery)
    assert delivery.status == "pending" and "SMTP" in delivery.last_error
    assert delivery.next_attempt_at > utcnow() + timedelta(seconds=1)


def test_api_shows_url_targets_only_up_to_their_host(
    client: TestClient, session: Session, org: Org
):
    client.headers["x-csrf-token"] = login(client, "admin@acme.example")
    secret_path = "/services/T000/B000/xoxsecret"
    body = {
        "name": "team chat",
        "org_unit_id": org.unit("acme").id,
        "kind": "chat",
        "target": f"http://localhost:9{secret_path}",  # nothing here resolves outside
        "allow_private": True,
    }
    created = client.post("/api/v1/notifications/endpoints", json=body)
    assert created.status_code == 201, created.text
    endpoint_id = created.json()["id"]
    assert "xoxsecret" not in created.text
    stored = session.get(Endpoint, endpoint_id)
    assert stored is not None and stored.target.endswith(secret_path)  # kept for sending
    notify.queue_to_endpoint(
        session=session, endpoint=stored, event="test", title="t", text="x", data={}
    )
    session.commit()
    for path in ("/api/v1/notifications/endpoints", "/api/v1/notifications/deliveries"):
        listed = client.get(path)
        assert listed.status_code == 200 and listed.json()["data"], path
        assert "xoxsecret" not in listed.text, path
        assert {row["target"] for row in listed.json()["data"]} == {"http://localhost:9/…"}
