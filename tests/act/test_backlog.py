"""Backlog items: evidence, impact, export to GitHub and Jira request formats, status sync."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.act import backlog, hooks
from cxloop.store.base import utcnow
from cxloop.store.models.customers import Customer
from tests.act.conftest import Receiver
from tests.conftest import Org, login


class _Source:
    def __init__(self, records: list[hooks.RuleRecord]) -> None:
        self.records = records

    def recent(self, session, *, since, unit_ids):
        return [r for r in self.records if r.at >= since and r.org_unit_id in unit_ids]

    def by_ids(self, session, ids):
        return [r for r in self.records if r.id in ids]


@pytest.fixture
def feedback(session: Session, org: Org) -> Iterator[list[hooks.RuleRecord]]:
    now = utcnow()
    big = Customer(org_unit_id=org.unit("store_a").id, name="Big", annual_revenue=900_000.0)
    small = Customer(org_unit_id=org.unit("store_a").id, name="Small", annual_revenue=100_000.0)
    session.add_all([big, small])
    session.flush()
    a, c = org.unit("store_a").id, org.unit("store_c").id

    def rec(rid, unit, days, theme, text, customer=None, sentiment="negative", score=-0.5):
        fields = {"theme": theme, "text": text, "sentiment": sentiment, "sentiment_score": score}
        return hooks.RuleRecord("feedback", rid, unit, fields, customer, now - timedelta(days=days))

    records = [
        rec("1", a, 1, ["billing"], "Billed twice @octocat", big.id, "very_negative", -0.9),
        rec("2", a, 2, ["billing"], "請求が二重です", small.id),
        rec("3", a, 3, ["billing"], "wrong invoice amount"),
        rec("4", a, 20, ["billing"], "charged again", None, "neutral", 0.0),
        rec("5", a, 2, ["delivery"], "late parcel"),
        rec("6", c, 2, ["billing"], "west billing issue"),
    ]
    saved = hooks.sources().get("feedback")
    hooks.register_source("feedback", _Source(records))
    session.commit()
    yield records
    if saved is not None:
        hooks.register_source("feedback", saved)
    else:
        hooks._SOURCES.pop("feedback", None)  # noqa: SLF001


def test_evidence_and_impact_by_the_documented_formula(feedback, session: Session, org: Org):
    units = [org.unit(u).id for u in ("east", "store_a", "store_b")]
    item = backlog.create_item(
        session=session,
        org_unit_id=org.unit("east").id,
        title="Double billing",
        unit_ids=units,
        theme="billing",
    )
    ev = item.evidence
    assert sorted(item.records) == ["feedback:1", "feedback:2", "feedback:3", "feedback:4"]
    assert (ev["records"], ev["customers"], ev["revenue"]) == (4, 2, 1_000_000.0)
    assert (ev["recent"], ev["prior"], ev["trend"]) == (3, 1, 2.0)
    assert ev["negative_share"] == 0.75
    assert ev["quotes"][0] == "Billed twice @octocat"  # the most negative first
    # reach 2 + 0.25*2 = 2.5; severity 1.25; money 1 + log10(11); momentum 2 (trend capped at 1)
    assert item.impact == pytest.approx(2.5 * 1.25 * (1 + 1.0413927) * 2, abs=0.01)


def test_bad_record_reference_names_its_position(feedback, client: TestClient, org: Org):
    client.headers["x-csrf-token"] = login(client, "east_manager@acme.example")
    r = client.post(
        "/api/v1/backlog",
        json={"title": "x", "org_unit_id": org.unit("east").id, "records": ["feedback:1", "oops"]},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "records.1"


def _endpoint(client: TestClient, org: Org, receiver: Receiver, kind: str, project: str) -> int:
    r = client.post(
        "/api/v1/notifications/endpoints",
        json={
            "name": kind,
            "org_unit_id": org.unit("acme").id,
            "kind": kind,
            "target": receiver.url,
            "project": project,
            "secret": "tok-123",
            "username": "bot@acme.example" if kind == "jira" else None,
            "allow_private": True,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_export_to_github_and_sync_status(
    feedback, client: TestClient, org: Org, receiver: Receiver
):
    client.headers["x-csrf-token"] = login(client, "admin@acme.example")
    endpoint_id = _endpoint(client, org, receiver, "github", "acme/shop")
    item = client.post(
        "/api/v1/backlog",
        json={"title": "Double billing", "org_unit_id": org.unit("acme").id, "theme": "billing"},
    ).json()
    receiver.response_body["POST /repos/acme/shop/issues"] = json.dumps(
        {"number": 42, "html_url": "https://github.example/acme/shop/issues/42", "state": "open"}
    ).encode()
    r = client.post(f"/api/v1/backlog/{item['id']}/export", json={"endpoint_id": endpoint_id})
    assert r.status_code == 200, r.text
    assert r.json()["external_key"] == "acme/shop#42"
    assert r.json()["external_url"].endswith("/issues/42")
    sent = receiver.requests[0]
    assert (sent.method, sent.path) == ("POST", "/repos/acme/shop/issues")
    assert sent.headers["authorization"] == "Bearer tok-123"
    body = json.loads(sent.body)
    assert set(body) == {"title", "body", "labels"}
    assert body["labels"] == ["customer-feedback", "theme:billing"]
    assert "Records: 5" in body["body"]  # four east + one west record
    assert "@\u200boctocat" in body["body"] and "@octocat" not in body["body"]
    assert f"/act/backlog/{item['id']}" in body["body"]  # links back

    receiver.response_body["GET /repos/acme/shop/issues/42"] = b'{"state": "closed"}'
    synced = client.post(f"/api/v1/backlog/{item['id']}/sync").json()
    assert synced["external_status"] == "closed" and synced["status"] == "done"


def test_export_to_jira_uses_adf(feedback, client: TestClient, org: Org, receiver: Receiver):
    client.headers["x-csrf-token"] = login(client, "admin@acme.example")
    endpoint_id = _endpoint(client, org, receiver, "jira", "CX")
    item = client.post(
        "/api/v1/backlog",
        json={"title": "Billing", "theme": "billing", "org_unit_id": org.unit("east").id},
    ).json()
    receiver.response_body["POST /rest/api/3/issue"] = b'{"id": "1001", "key": "CX-7"}'
    r = client.post(f"/api/v1/backlog/{item['id']}/export", json={"endpoint_id": endpoint_id})
    assert r.status_code == 200, r.text
    assert r.json()["external_key"] == "CX-7"
    assert r.json()["external_url"] == f"{receiver.url}/browse/CX-7"
    sent = json.loads(receiver.requests[0].body)
    fields = sent["fields"]
    assert fields["project"] == {"key": "CX"} and fields["issuetype"] == {"name": "Task"}
    assert fields["summary"] == "Billing"
    doc = fields["description"]
    assert doc["type"] == "doc" and doc["version"] == 1
    quotes = [b for b in doc["content"] if b["type"] == "blockquote"]
    assert quotes[0]["content"][0]["content"][0]["text"] == "Billed twice @octocat"
    assert receiver.requests[0].headers["authorization"].startswith("Basic ")

    receiver.response_body["GET /rest/api/3/issue/CX-7?fields=status"] = json.dumps(
        {"fields": {"status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}}}}
    ).encode()
    synced = client.post(f"/api/v1/backlog/{item['id']}/sync").json()
    assert (synced["external_status"], synced["status"]) == ("In Progress", "in_progress")


def test_export_failure_keeps_the_item(feedback, client: TestClient, org: Org, receiver: Receiver):
    client.headers["x-csrf-token"] = login(client, "admin@acme.example")
    endpoint_id = _endpoint(client, org, receiver, "github", "acme/shop")
    item = client.post(
        "/api/v1/backlog",
        json={"title": "x", "theme": "billing", "org_unit_id": org.unit("acme").id},
    ).json()
    receiver.statuses = [502]
    r = client.post(f"/api/v1/backlog/{item['id']}/export", json={"endpoint_id": endpoint_id})
    assert r.status_code == 502
    kept = client.get(f"/api/v1/backlog/{item['id']}").json()
    assert kept["status"] == "open" and kept["external_key"] is None
    listed = client.get("/api/v1/backlog").json()
    assert [i["id"] for i in listed["data"]] == [item["id"]]
