"""Metrics and scorecard API: imports, gaps, targets, commentary, export, and scoping."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.engage.kpis import KpiCreate, create_kpi
from cxloop.signals.metrics_rollup import rebuild_all
from cxloop.store.models.auth import AuditEntry
from tests.conftest import Org, bearer, login, make_api_key
from tests.engage.factories import add_metric, add_point, add_rollup, build_periods

MAR = date(2025, 3, 1)


def _setup(session: Session, org: Org) -> dict[str, int]:
    acme, a, c = (org.unit(x).id for x in ("acme", "store_a", "store_c"))
    nps = create_kpi(session=session, data=KpiCreate(org_unit_id=acme, metric="cx:nps"))
    rev = add_metric(session, acme, "revenue", unit="JPY")
    add_point(session, rev, a, date(2025, 2, 1), 100)
    add_point(session, rev, c, date(2025, 2, 1), 900)
    add_point(session, rev, a, MAR, 110)
    add_point(session, rev, c, MAR, 800)
    create_kpi(session=session, data=KpiCreate(org_unit_id=acme, metric="metric:revenue"))
    add_rollup(session, "nps", a, date(2025, 3, 4), n=50, a=30, b=5)
    add_rollup(session, "nps", c, date(2025, 3, 4), n=80, a=10, b=50)
    add_rollup(session, "nps", a, date(2025, 2, 4), n=50, a=30, b=5)
    add_rollup(session, "nps", c, date(2025, 2, 4), n=20, a=10, b=5)
    rebuild_all(session=session)
    build_periods(session)
    session.commit()
    return {"nps": nps.id, "acme": acme, "a": a, "c": c}


def test_points_import_reports_duplicates_and_rejects_bad_rows(
    client: TestClient, session: Session, org: Org
) -> None:
    key = make_api_key(session, org.unit("acme"), ["metrics:write", "metrics:read"])
    body = {
        "points": [
            {
                "metric": "visits",
                "unit": "store_a",
                "period": "month",
                "period_start": "2025-01-01",
                "value": 10,
            },
        ]
    }
    r = client.post("/api/v1/metrics/points", json=body, headers=bearer(key))
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "points[0].metric"
    assert "unknown metric 'visits'" in r.json()["error"]["message"]
    d = client.post(
        "/api/v1/metrics/definitions",
        headers=bearer(key),
        json={"key": "visits", "name": "Website visits", "unit": "count", "direction": "higher"},
    )
    assert d.status_code == 201
    bad_unit = client.post(
        "/api/v1/metrics/definitions",
        headers=bearer(key),
        json={"key": "x", "name": "X", "unit": "furlongs"},
    )
    assert bad_unit.status_code == 422 and bad_unit.json()["error"]["field"] == "unit"
    assert "furlongs" in bad_unit.json()["error"]["message"]
    pts = [
        {
            "metric": "visits",
            "unit": "store_a",
            "period": "month",
            "period_start": "2025-01-01",
            "value": 10,
        },
        {
            "metric": "visits",
            "unit": "store_a",
            "period": "month",
            "period_start": "2025-03-01",
            "value": 30,
        },
        {
            "metric": "visits",
            "unit": "store_a",
            "period": "month",
            "period_start": "2025-01-01",
            "value": 12,
        },
    ]
    r = client.post("/api/v1/metrics/points", json={"points": pts}, headers=bearer(key))
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["inserted"] == 2 and len(rep["duplicates"]) == 1
    assert "row 2 repeats row 0" in rep["duplicates"][0]
    again = client.post("/api/v1/metrics/points", json={"points": pts}, headers=bearer(key))
    assert again.json()["inserted"] == 0 and again.json()["unchanged"] == 2  # idempotent
    s = client.get(
        "/api/v1/metrics/series",
        headers=bearer(key),
        params={
            "metric": "visits",
            "unit_id": org.unit("store_a").id,
            "end": "2025-03-01",
            "count": 3,
        },
    )
    assert [p["value"] for p in s.json()["points"]] == [12, None, 30]  # gap is null, not 0
    mid = dict(pts[0], period_start="2025-01-15")
    r = client.post("/api/v1/metrics/points", json={"points": [pts[1], mid]}, headers=bearer(key))
    assert r.status_code == 422 and r.json()["error"]["field"] == "points[1].period_start"
    other = dict(pts[0], unit="nowhere")
    r = client.post("/api/v1/metrics/points", json={"points": [other]}, headers=bearer(key))
    assert r.json()["error"]["field"] == "points[0].unit"


def test_store_manager_sees_only_his_store(client: TestClient, session: Session, org: Org) -> None:
    ids = _setup(session, org)
    login(client, "manager_a@acme.example")
    mine = client.get("/api/v1/scorecard", params={"start": "2025-03-01"})
    assert mine.status_code == 200
    body = mine.json()
    assert body["unit"]["code"] == "store_a"
    by = {k["metric"]: k for k in body["kpis"]}
    assert by["cx:nps"]["current"]["n"] == 50
    assert by["metric:revenue"]["current"]["value"] == 110
    for path, params in [
        ("/api/v1/scorecard", {"unit_id": ids["c"], "start": "2025-03-01"}),
        ("/api/v1/scorecard/drilldown", {"unit_id": ids["acme"]}),
        ("/api/v1/scorecard/export.csv", {"unit_id": ids["c"]}),
        ("/api/v1/scorecard/kpis", {"unit_id": ids["c"]}),
        ("/api/v1/metrics/series", {"metric": "revenue", "unit_id": ids["c"]}),
        ("/api/v1/metrics/cx", {"metric": "nps", "unit_id": ids["acme"]}),
        (f"/api/v1/scorecard/kpis/{ids['nps']}/explain", {"unit_id": ids["c"]}),
        (
            f"/api/v1/scorecard/kpis/{ids['nps']}/comments",
            {"unit_id": ids["c"], "start": "2025-03-01"},
        ),
    ]:
        r = client.get(path, params=params)
        assert r.status_code == 404, (path, r.status_code)
    pts = client.get("/api/v1/metrics/points", params={"metric": "revenue"})
    assert {p["org_unit_id"] for p in pts.json()["data"]} == {ids["a"]}
    # He may comment on his store but not on another.
    r = client.post(
        f"/api/v1/scorecard/kpis/{ids['nps']}/comments",
        json={"org_unit_id": ids["c"], "period_start": "2025-03-01", "why": "x"},
        headers={"X-CSRF-Token": _csrf(client)},
    )
    assert r.status_code == 404
    # and not change the company's KPIs
    r = client.patch(
        f"/api/v1/scorecard/kpis/{ids['nps']}",
        json={"rank": 2},
        headers={"X-CSRF-Token": _csrf(client)},
    )
    assert r.status_code == 403


def _csrf(client: TestClient) -> str:
    page = client.get("/")
    return page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def test_executive_scorecard_targets_comments_and_audited_export(
    client: TestClient, session: Session, org: Org
) -> None:
    ids = _setup(session, org)
    csrf = login(client, "exec@acme.example")
    h = {"X-CSRF-Token": csrf}
    t = client.put(
        f"/api/v1/scorecard/kpis/{ids['nps']}/targets",
        headers=h,
        json={
            "targets": [
                {
                    "org_unit_id": ids["acme"],
                    "period_start": "2025-03-01",
                    "target": 20,
                    "threshold": 0,
                }
            ]
        },
    )
    assert t.status_code == 200, t.text
    conflict = client.post(
        f"/api/v1/scorecard/kpis/{ids['nps']}/targets",
        headers=h,
        json={
            "targets": [{"org_unit_id": ids["acme"], "period_start": "2025-03-01", "target": 25}]
        },
    )
    assert conflict.status_code == 409
    assert conflict.json()["error"]["field"] == "targets[0].period_start"
    wrong = client.put(
        f"/api/v1/scorecard/kpis/{ids['nps']}/targets",
        headers=h,
        json={
            "targets": [
                {
                    "org_unit_id": ids["acme"],
                    "period_start": "2025-03-01",
                    "target": 20,
                    "threshold": 30,
                }
            ]
        },
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "targets[0].threshold"
    card = client.get("/api/v1/scorecard", params={"start": "2025-03-01"}).json()
    nps = next(k for k in card["kpis"] if k["metric"] == "cx:nps")
    # (40 - 55) / 130 promoters minus detractors
    assert (
        nps["current"]["value"] == round(100 * (40 - 55) / 130, 10)
        or abs(nps["current"]["value"] - 100 * (40 - 55) / 130) < 1e-9
    )
    assert nps["status"] == "off_track" and nps["needs_comment"]
    assert (
        next(k for k in card["kpis"] if k["metric"] == "metric:revenue")["current"]["value"] == 910
    )
    for why in ("Store C detractors after the delivery delays", "Store C: carrier change"):
        r = client.post(
            f"/api/v1/scorecard/kpis/{ids['nps']}/comments",
            headers=h,
            json={
                "org_unit_id": ids["acme"],
                "period_start": "2025-03-01",
                "why": why,
                "action": "Daily carrier review",
            },
        )
        assert r.status_code == 201
    hist = client.get(
        f"/api/v1/scorecard/kpis/{ids['nps']}/comments", params={"start": "2025-03-01"}
    ).json()
    assert [c["version"] for c in hist] == [2, 1]
    card = client.get("/api/v1/scorecard", params={"start": "2025-03-01"}).json()
    assert not next(k for k in card["kpis"] if k["metric"] == "cx:nps")["needs_comment"]
    drill = client.get("/api/v1/scorecard/drilldown", params={"start": "2025-03-01"}).json()
    assert [d["unit"]["code"] for d in drill] == ["east", "west"]
    why = client.get(
        f"/api/v1/scorecard/kpis/{ids['nps']}/explain", params={"start": "2025-03-01"}
    ).json()
    assert why["by_unit"] is not None
    assert {s["segment"] for s in why["by_unit"]["segments"]} == {"East", "West"}
    total = why["by_unit"]["mix"] + why["by_unit"]["rate"]
    assert abs(total - (why["by_unit"]["after"] - why["by_unit"]["before"])) < 1e-9
    csv = client.get("/api/v1/scorecard/export.csv", params={"start": "2025-03-01"})
    assert csv.status_code == 200 and "cx:nps" in csv.text and "off_track" in csv.text
    assert "Store C: carrier change" in csv.text
    session.expire_all()
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()
    assert [a.target_type for a in audit] == ["scorecard"]
