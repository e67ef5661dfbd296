"""Feedback API: single and batch sends, idempotency, per-item errors, scoping, analyze."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.store.models.auth import AuditEntry
from cxloop.store.models.feedback import Feedback, FeedbackTheme
from tests.conftest import Org, bearer, login, make_api_key

JA_DELIVERY = "配送が三日も遅れて本当に困りました。"
EN_PRAISE = "The staff at the store were wonderful and very helpful. Thank you!"


def _key(session: Session, org: Org, unit: str = "acme") -> dict[str, str]:
    return bearer(make_api_key(session, org.unit(unit), ["feedback:write", "feedback:read"]))


def test_single_record_is_stored_with_enrichment(client: TestClient, session: Session, org: Org):
    headers = _key(session, org)
    body = {
        "source": "review",
        "text": JA_DELIVERY + " 連絡先 taro@example.jp",
        "external_id": "r-1",
        "occurred_at": "2024-05-01T10:00:00+09:00",
        "org_unit": "store_a",
        "rating": 2,
        "rating_scale": 5,
        "customer": {"email": "Taro@Example.jp"},
    }
    r = client.post("/api/v1/feedback", json=body, headers=headers)
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["language"] == "ja"
    assert data["sentiment_label"] in ("negative", "very_negative")
    assert "taro@example.jp" not in data["text"] and "[email]" in data["text"]
    delivery = [t for t in data["themes"] if t["theme_id"] == "delivery"]
    assert delivery
    start, end = delivery[0]["spans"][0]
    assert data["text"][start:end] == "配送"
    assert data["occurred_at"].startswith("2024-05-01T01:00:00")
    assert data["customer_id"] is not None
    # The same record again: nothing new.
    again = client.post("/api/v1/feedback", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    assert session.scalar(select(func.count()).select_from(Feedback)) == 1
    # Changed content under the same key updates the record in place.
    changed = {**body, "text": EN_PRAISE}
    upd = client.post("/api/v1/feedback", json=changed, headers=headers)
    assert upd.status_code == 200 and upd.json()["id"] == data["id"]
    assert upd.json()["language"] == "en"
    assert upd.json()["sentiment_label"] in ("positive", "very_positive")
    themes = session.scalars(
        select(FeedbackTheme.theme_id).where(FeedbackTheme.feedback_id == data["id"])
    ).all()
    assert "delivery" not in themes and "service" in themes


def test_single_rejection_names_the_field(client: TestClient, session: Session, org: Org):
    headers = _key(session, org)
    r = client.post(
        "/api/v1/feedback",
        json={"source": "fax", "text": "hi", "org_unit": "store_a"},
        headers=headers,
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "source"
    assert "fax" in r.json()["error"]["message"]


def test_batch_reports_each_item(client: TestClient, session: Session, org: Org):
    headers = _key(session, org)
    good = {"source": "email", "text": EN_PRAISE, "org_unit": "store_a", "external_id": "e1"}
    items = [
        good,
        {"source": "email", "text": "   ", "org_unit": "store_a"},
        {"source": "nope", "text": "x", "org_unit": "store_a"},
        {"source": "email", "text": "ok", "org_unit": "store_a", "occurred_at": "2999-01-01"},
        {"source": "email", "text": "ok", "org_unit": "store_a", "occurred_at": "yesterday"},
        {"source": "email", "text": "ok", "org_unit": "nowhere"},
        good,
        {"source": "social_post", "text": "x" * 25_000, "org_unit": "store_b"},
        {"source": "email", "text": "hi", "org_unit": "store_a", "colour": "red"},
    ]
    r = client.post("/api/v1/feedback", json={"items": items}, headers=headers)
    assert r.status_code == 200, r.text
    res = r.json()["data"]
    assert [x["status"] for x in res] == [
        "created",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "duplicate",
        "created",
        "rejected",
    ]
    assert [x["field"] for x in res if x["status"] == "rejected"] == [
        "text",
        "source",
        "occurred_at",
        "occurred_at",
        "org_unit",
        "colour",
    ]
    assert "future" in res[3]["reason"] and "cannot read" in res[4]["reason"]
    assert r.json()["counts"] == {"created": 2, "updated": 0, "duplicate": 1, "rejected": 6}
    long = session.get(Feedback, res[7]["id"])
    assert long is not None and len(long.text) == 20_000 and "truncated" in long.flags
    # Sending the batch again creates nothing.
    again = client.post("/api/v1/feedback", json={"items": items}, headers=headers).json()
    assert again["counts"]["created"] == 0 and again["counts"]["duplicate"] == 3
    assert session.scalar(select(func.count()).select_from(Feedback)) == 2


def test_batch_limit(client: TestClient, session: Session, org: Org):
    headers = _key(session, org)
    items = [{"source": "email", "text": f"t{i}", "org_unit": "store_a"} for i in range(1001)]
    r = client.post("/api/v1/feedback", json={"items": items}, headers=headers)
    assert r.status_code == 413 and r.json()["error"]["field"] == "items"


def test_transcript_turns_are_analysed_per_speaker(client: TestClient, session: Session, org: Org):
    headers = _key(session, org)
    turns = [
        {"speaker": "agent", "text": "Thank you for calling, I am happy to help."},
        {"speaker": "customer", "text": "My delivery is late again and nobody called me. Awful."},
        {"speaker": "agent", "text": "I am so sorry. I will fix it right away."},
    ]
    r = client.post(
        "/api/v1/feedback",
        json={"source": "call_transcript", "turns": turns, "org_unit": "store_a"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["sentiment_label"] in ("negative", "very_negative")
    assert data["agent_sentiment_label"] in ("positive", "very_positive", "mixed", "neutral")
    assert data["agent_sentiment_score"] > data["sentiment_score"]
    speakers = {t["theme_id"]: t["speaker"] for t in data["themes"] if t["theme_id"] == "delivery"}
    assert speakers == {"delivery": "customer"}
    (hit,) = [t for t in data["themes"] if t["theme_id"] == "delivery"]
    s, e = hit["spans"][0]
    assert data["text"][s:e] == "delivery"
    assert data["text"].startswith("Agent: Thank you")


def test_lists_are_scoped(client: TestClient, session: Session, org: Org):
    headers = _key(session, org)
    for unit in ("store_a", "store_b", "store_c"):
        client.post(
            "/api/v1/feedback",
            json={"source": "review", "text": f"{JA_DELIVERY} {unit}", "org_unit": unit},
            headers=headers,
        )
    login(client, "manager_a@acme.example")
    listed = client.get("/api/v1/feedback").json()
    assert listed["count"] == 1 and listed["data"][0]["text"].endswith("store_a")
    other = session.scalar(select(Feedback.id).where(Feedback.text.endswith("store_c")))
    assert client.get(f"/api/v1/feedback/{other}").status_code == 404
    # Asking for another unit's records gives nothing rather than an error that reveals it.
    c_id = org.unit("store_c").id
    assert client.get(f"/api/v1/feedback?org_unit_id={c_id}").json()["count"] == 0
    summary = client.get("/api/v1/feedback/summary").json()
    assert sum(r["total"] for r in summary["theme_sentiment"] if r["theme_id"] == "delivery") == 1
    client.cookies.clear()
    key = make_api_key(session, org.unit("west"), ["feedback:read"])
    listed = client.get("/api/v1/feedback", headers=bearer(key)).json()
    assert listed["count"] == 1 and listed["data"][0]["text"].endswith("store_c")


def test_api_key_cannot_write_outside_its_unit(client: TestClient, session: Session, org: Org):
    headers = bearer(make_api_key(session, org.unit("store_a"), ["feedback:write"]))
    r = client.post(
        "/api/v1/feedback",
        json={"source": "review", "text": "hello there", "org_unit": "store_c"},
        headers=headers,
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "org_unit"


def test_filters_and_japanese_search(client: TestClient, session: Session, org: Org):
    headers = _key(session, org)
    texts = [JA_DELIVERY, "店員さんの接客がとても丁寧でした。", EN_PRAISE, "配"]
    for i, text in enumerate(texts):
        client.post(
            "/api/v1/feedback",
            json={"source": "review", "text": text, "org_unit": "store_a", "external_id": str(i)},
            headers=headers,
        )
    login(client, "admin@acme.example")

    def texts_for(query: str) -> set[str]:
        return {d["text"] for d in client.get("/api/v1/feedback" + query).json()["data"]}

    assert texts_for("?q=配送が") == {JA_DELIVERY}
    assert texts_for("?q=配") == {JA_DELIVERY, "配"}  # one character: LIKE fallback
    assert texts_for("?q=WONDERFUL") == {EN_PRAISE}
    assert texts_for("?q=50%25") == set()
    assert texts_for("?theme=delivery") == {JA_DELIVERY}
    assert texts_for("?language=en") == {EN_PRAISE}
    assert texts_for("?sentiment=positive") | texts_for("?sentiment=very_positive") >= {EN_PRAISE}


def test_export_is_audited_and_neutralises_formulas(client: TestClient, session: Session, org: Org):
    headers = _key(session, org)
    client.post(
        "/api/v1/feedback",
        json={"source": "review", "text": '=HYPERLINK("x") 配送', "org_unit": "store_a"},
        headers=headers,
    )
    login(client, "analyst@acme.example")
    r = client.get("/api/v1/feedback/export.csv")
    assert r.status_code == 200
    assert "'=HYPERLINK" in r.text
    assert r.text.startswith("\ufeffid,")
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()
    assert [e.target_type for e in entries] == ["feedback"]


def test_analyze_returns_results_in_order_and_stores_nothing(
    client: TestClient, session: Session, org: Org
):
    headers = _key(session, org)
    r = client.post("/api/v1/analyze", json={"texts": [EN_PRAISE, JA_DELIVERY]}, headers=headers)
    assert r.status_code == 200, r.text
    en, ja = r.json()["data"]
    assert en["language"] == "en" and en["sentiment"]["label"] in ("positive", "very_positive")
    assert ja["language"] == "ja" and ja["sentiment"]["label"] in ("negative", "very_negative")
    (delivery,) = [t for t in ja["themes"] if t["id"] == "delivery"]
    assert delivery["name"] == "配送・配達"
    assert JA_DELIVERY[slice(*delivery["spans"][0])] == "配送"
    assert session.scalar(select(func.count()).select_from(Feedback)) == 0
    too_many = client.post("/api/v1/analyze", json={"texts": ["a"] * 1001}, headers=headers)
    assert too_many.status_code == 422 and too_many.json()["error"]["field"] == "texts"


@pytest.mark.parametrize("mode", ["accurate", "precise"])
def test_embedding_modes_are_recorded_on_reanalysis(
    client: TestClient, session: Session, org: Org, mode: str
):
    headers = _key(session, org)
    client.post(
        "/api/v1/feedback",
        json={"source": "review", "text": EN_PRAISE, "org_unit": "store_a"},
        headers=headers,
    )
    client.headers["X-CSRF-Token"] = login(client, "admin@acme.example")
    job = client.post("/api/v1/feedback/jobs", json={"kind": "reanalyze", "mode": mode})
    assert client.get(f"/api/v1/feedback/jobs/{job.json()['id']}").json()["status"] == "done"
    (row,) = client.get("/api/v1/feedback").json()["data"]
    assert row["analyzer_mode"] == mode
    assert row["sentiment_label"] in ("positive", "very_positive")
    r = client.post("/api/v1/analyze", json={"texts": [JA_DELIVERY], "mode": mode})
    assert r.json()["data"][0]["sentiment"]["label"] in ("negative", "very_negative")
