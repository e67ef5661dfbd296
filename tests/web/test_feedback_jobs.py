"""Taxonomy editing, theme discovery, promotion of a cluster, and the re-analysis job."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.store.models.feedback import Feedback, FeedbackTheme
from tests.conftest import Org, bearer, login, make_api_key

WRAPPING = [
    "ギフトのラッピングが破れていました。",
    "ラッピングのリボンがほどけていた。",
    "ラッピング用の紙袋をもらえなかった。",
    "ラッピングの包装紙が可愛かった。",
    "ラッピングを頼んだのにリボンがなかった。",
    "ラッピングのシールが剥がれていた。",
]
ASSEMBLY = [
    "家具の組み立てが難しかった。",
    "組み立てのネジが足りない。",
    "棚の組み立てに工具が必要だった。",
    "組み立てのネジが一本なかった。",
    "組み立てのネジが曲がっていた。",
    "組み立ての工具が付属していない。",
]


def _seed(client: TestClient, session: Session, org: Org) -> None:
    key = make_api_key(session, org.unit("acme"), ["feedback:write"])
    items = [
        {"source": "review", "text": t, "org_unit": "store_a" if i % 2 else "store_c"}
        for i, t in enumerate(WRAPPING + ASSEMBLY + ["配送が遅い。"])
    ]
    r = client.post("/api/v1/feedback", json={"items": items}, headers=bearer(key))
    assert r.json()["counts"]["created"] == len(items)


def test_discover_promote_and_reanalyse(client: TestClient, session: Session, org: Org):
    _seed(client, session, org)
    client.headers["X-CSRF-Token"] = login(client, "admin@acme.example")
    job = client.post("/api/v1/feedback/jobs", json={"kind": "discover"}).json()
    done = client.get(f"/api/v1/feedback/jobs/{job['id']}").json()
    assert done["status"] == "done"
    assert done["total"] == len(WRAPPING) + len(ASSEMBLY)  # the delivery record is explained
    clusters = client.get(f"/api/v1/feedback/clusters?job_id={job['id']}").json()["data"]
    labels = {c["terms"][0] for c in clusters}
    assert {"ラッピング", "組み立て"} <= labels or any("ラッピング" in c["terms"] for c in clusters)
    wrap = next(c for c in clusters if "ラッピング" in c["terms"][:3])
    assert wrap["size"] >= 5
    assert all("ラッピング" in e["text"] for e in wrap["examples"])
    promoted = client.post(
        f"/api/v1/feedback/clusters/{wrap['id']}/promote",
        json={
            "key": "gift_wrapping",
            "name_en": "Gift wrapping",
            "name_ja": "ギフト包装",
            "parent_key": "service",
            "terms": {"ja": ["ラッピング"], "en": ["gift wrapping"]},
        },
    )
    assert promoted.status_code == 201, promoted.text
    rejob = promoted.json()["job"]
    final = client.get(f"/api/v1/feedback/jobs/{rejob['id']}").json()
    assert final["status"] == "done" and final["processed"] == final["total"] == 13
    tagged = session.scalars(
        select(Feedback.display_text)
        .join(FeedbackTheme)
        .where(FeedbackTheme.theme_id == "gift_wrapping")
    ).all()
    assert sorted(tagged) == sorted(WRAPPING)
    listed = client.get("/api/v1/feedback?theme=gift_wrapping").json()
    assert listed["count"] == len(WRAPPING)
    again = client.post(
        f"/api/v1/feedback/clusters/{wrap['id']}/promote",
        json={"key": "gift_wrapping2", "name_en": "x", "name_ja": "x"},
    )
    assert again.status_code == 409


def test_taxonomy_is_seeded_and_edits_are_validated(client: TestClient, session: Session, org: Org):
    client.headers["X-CSRF-Token"] = login(client, "admin@acme.example")
    tax = client.get("/api/v1/feedback/taxonomy").json()
    keys = {t["key"] for t in tax["themes"]}
    assert {"delivery", "staff_attitude"} <= keys and tax["version"] == 1
    bad = client.post(
        "/api/v1/feedback/taxonomy/themes",
        json={"key": "Bad Key", "name_en": "x", "name_ja": "x"},
    )
    assert bad.status_code == 422 and "id" in bad.json()["error"]["message"]
    orphan = client.patch("/api/v1/feedback/taxonomy/themes/delivery", json={"parent_key": "nope"})
    assert orphan.status_code == 422 and "parent" in orphan.json()["error"]["message"]
    ok = client.patch(
        "/api/v1/feedback/taxonomy/themes/delivery",
        json={"terms": {"ja": ["配送", "ラッピング"], "en": ["delivery"]}},
    )
    assert ok.status_code == 200
    assert client.get("/api/v1/feedback/taxonomy").json()["version"] == 2
    r = client.post("/api/v1/analyze", json={"texts": ["ラッピングが雑だった。"]}).json()
    assert [t["id"] for t in r["data"][0]["themes"]] == ["delivery"]
    assert client.delete("/api/v1/feedback/taxonomy/themes/service").status_code == 422


def test_only_admins_change_the_taxonomy_and_jobs_are_scoped(
    client: TestClient, session: Session, org: Org
):
    _seed(client, session, org)
    client.headers["X-CSRF-Token"] = login(client, "admin@acme.example")
    c_job = client.post(
        "/api/v1/feedback/jobs",
        json={"kind": "reanalyze", "org_unit_id": org.unit("store_c").id},
    ).json()
    discovery = client.post("/api/v1/feedback/jobs", json={"kind": "discover"}).json()
    assert client.get(f"/api/v1/feedback/clusters?job_id={discovery['id']}").json()["count"] > 0
    assert (
        client.get(f"/api/v1/feedback/jobs/{c_job['id']}").json()["processed"] == 7
    )  # even items went to store_c
    client.cookies.clear()
    client.headers["X-CSRF-Token"] = login(client, "manager_a@acme.example")
    r = client.post(
        "/api/v1/feedback/taxonomy/themes", json={"key": "x", "name_en": "x", "name_ja": "x"}
    )
    assert r.status_code == 403
    assert client.post("/api/v1/feedback/jobs", json={"kind": "discover"}).status_code == 403
    assert client.get("/api/v1/feedback/jobs").json()["count"] == 0
    assert client.get("/api/v1/feedback/clusters").json()["count"] == 0
    assert client.get(f"/api/v1/feedback/jobs/{c_job['id']}").status_code == 404
