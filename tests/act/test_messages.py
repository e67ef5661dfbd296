"""Praise and fix-it messages: automatic praise, sending, the feed, and my feedback."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act import rules
from cxloop.act.hooks import RuleRecord, record_arrived
from cxloop.store.models.act import Delivery, Message
from tests.conftest import Org, login


def test_positive_feedback_naming_a_person_praises_them_and_their_manager(
    session: Session, org: Org
):
    rules.create_rule(
        session=session,
        org_unit_id=org.unit("acme").id,
        name="Praise",
        condition='sentiment in ("positive", "very_positive")',
        actions=[{"type": "praise"}],
    )
    record = RuleRecord(
        "feedback",
        "p1",
        org.unit("store_a").id,
        {"sentiment": "very_positive", "text": "frontline_a was so kind!"},
    )
    (firing,) = record_arrived(session, record)
    (message,) = [session.get(Message, i) for i in firing.message_ids]
    assert message.recipient_user_id == org.users["frontline_a"].id
    assert message.cc_user_id == org.users["manager_a"].id
    assert message.quote == "frontline_a was so kind!"
    mails = session.scalars(select(Delivery.target).where(Delivery.event == "message.praise"))
    assert sorted(mails) == ["frontline_a@acme.example", "manager_a@acme.example"]


def test_praise_for_a_store_goes_to_its_manager_and_the_regional_manager(
    session: Session, org: Org
):
    rules.create_rule(
        session=session,
        org_unit_id=org.unit("acme").id,
        name="Praise",
        condition="rating >= 5",
        actions=[{"type": "praise"}],
    )
    record = RuleRecord(
        "feedback", "p2", org.unit("store_a").id, {"rating": 5, "text": "Lovely store"}
    )
    (firing,) = record_arrived(session, record)
    message = session.get(Message, firing.message_ids[0])
    assert message.recipient_user_id == org.users["manager_a"].id
    assert message.cc_user_id == org.users["east_manager"].id


def test_anyone_sends_fix_it_and_frontline_sees_feedback_about_themselves(
    client: TestClient, org: Org
):
    client.headers["x-csrf-token"] = login(client, "east_manager@acme.example")
    body = {
        "kind": "fix_it",
        "recipient_user_id": org.users["frontline_a"].id,
        "org_unit_id": org.unit("store_a").id,
        "body": "Please restock <shelf 3>",
        "record_kind": "feedback",
        "record_id": "17",
    }
    r = client.post("/api/v1/messages", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["sender_name"] == "east_manager"
    wrong = client.post(
        "/api/v1/messages", json={**body, "recipient_user_id": org.users["manager_c"].id}
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "recipient_user_id"
    praise = client.post("/api/v1/messages", json={**body, "kind": "praise", "body": "Thanks!"})
    assert praise.status_code == 201
    feed_page = client.get("/api/v1/messages").json()
    assert feed_page["count"] == 1
    feed = feed_page["data"]
    assert [m["kind"] for m in feed] == ["praise"]
    client.post("/logout")

    login(client, "frontline_a@acme.example")
    mine = client.get("/api/v1/messages/mine").json()
    assert sorted(m["kind"] for m in mine) == ["fix_it", "praise"]
    login(client, "manager_c@acme.example")
    assert client.get("/api/v1/messages").json()["data"] == []  # west sees no east praise
