"""Drill-down CSV and segment comparison: figures, audit, and scoping."""

from __future__ import annotations

import csv
import io
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.engage.kpis import KpiCreate, create_kpi
from cxloop.store.models.auth import AuditEntry
from tests.conftest import Org, login
from tests.engage.factories import add_rollup, build_periods

DAY = date(2025, 3, 12)
START = {"start": "2025-03-01"}


def _setup(session: Session, org: Org) -> dict[str, int]:
    acme, a, c = (org.unit(x).id for x in ("acme", "store_a", "store_c"))
    create_kpi(session=session, data=KpiCreate(org_unit_id=acme, metric="cx:nps"))
    add_rollup(session, "nps", a, DAY, n=60, a=40, b=5)
    add_rollup(session, "nps", a, DAY, n=40, a=35, b=1, dim="tier", value="gold")
    add_rollup(session, "nps", a, DAY, n=20, a=5, b=4, dim="tier", value="silver")
    add_rollup(session, "nps", c, DAY, n=41, a=10, b=20)
    add_rollup(session, "nps", c, DAY, n=10, a=5, b=2, dim="tier", value="gold")
    add_rollup(session, "nps", c, DAY, n=31, a=5, b=18, dim="tier", value="silver")
    build_periods(session)
    session.commit()
    return {"acme": acme, "a": a, "c": c}


def _rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")  # Excel reads UTF-8 Japanese only after a BOM
    return list(csv.DictReader(io.StringIO(text[1:])))


def _audited(session: Session, target: str) -> list[AuditEntry]:
    session.expire_all()
    q = select(AuditEntry).where(AuditEntry.action == "export", AuditEntry.target_type == target)
    return list(session.scalars(q))


def test_segment_comparison_tests_each_value_against_the_rest(
    client: TestClient, session: Session, org: Org
) -> None:
    _setup(session, org)
    login(client, "exec@acme.example")
    r = client.get("/api/v1/scorecard/segments", params={"segment": "tier", **START})
    assert r.status_code == 200, r.text
    got = {row["value"]: row for row in r.json()}
    assert set(got) == {"gold", "silver"}
    gold, silver = got["gold"], got["silver"]
    assert (gold["n"], silver["n"]) == (50, 51)
    assert abs(gold["estimate"] - 100 * (40 - 3) / 50) < 1e-9
    assert abs(silver["estimate"] - 100 * (10 - 22) / 51) < 1e-9
    # Everyone here has a tier, so "the rest" of gold is silver.
    assert abs(gold["vs_rest"] - (gold["estimate"] - silver["estimate"])) < 1e-9
    assert gold["vs_rest_significant"] and gold["vs_rest_p_value"] < 0.001
    assert gold["low"] < gold["estimate"] < gold["high"]

    out = client.get("/api/v1/scorecard/segments.csv", params={"segment": "tier", **START})
    assert out.status_code == 200 and out.headers["content-type"].startswith("text/csv")
    rows = {r["segment_value"]: r for r in _rows(out.text)}
    assert rows["gold"]["n"] == "50" and rows["gold"]["metric"] == "cx:nps"
    assert len(_audited(session, "scorecard_segments")) == 1

    bad = client.get("/api/v1/scorecard/segments", params={"segment": "shoe_size", **START})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "segment"


def test_drilldown_csv_has_a_row_per_child_and_kpi_and_is_audited(
    client: TestClient, session: Session, org: Org
) -> None:
    _setup(session, org)
    login(client, "exec@acme.example")
    r = client.get("/api/v1/scorecard/drilldown.csv", params=START)
    assert r.status_code == 200, r.text
    assert "scorecard-drilldown-acme-2025-03-01.csv" in r.headers["content-disposition"]
    rows = _rows(r.text)
    assert [(x["unit"], x["metric"]) for x in rows] == [("east", "cx:nps"), ("west", "cx:nps")]
    assert abs(float(rows[0]["value"]) - 100 * 35 / 60) < 1e-9
    assert rows[1]["n"] == "41"
    entries = _audited(session, "scorecard_drilldown")
    assert len(entries) == 1


def test_store_manager_compares_segments_of_his_store_only(
    client: TestClient, session: Session, org: Org
) -> None:
    ids = _setup(session, org)
    login(client, "manager_a@acme.example")
    mine = client.get("/api/v1/scorecard/segments", params={"segment": "tier", **START})
    assert {(x["value"], x["n"]) for x in mine.json()} == {("gold", 40), ("silver", 20)}
    for path, params in [
        ("/api/v1/scorecard/segments", {"segment": "tier", "unit_id": ids["c"]}),
        ("/api/v1/scorecard/segments.csv", {"segment": "tier", "unit_id": ids["c"]}),
        ("/api/v1/scorecard/drilldown.csv", {"unit_id": ids["acme"]}),
    ]:
        assert client.get(path, params=params).status_code == 404, path
    assert _audited(session, "scorecard_drilldown") == []


def test_segment_page_and_csv_links_in_both_languages(
    client: TestClient, session: Session, org: Org
) -> None:
    ids = _setup(session, org)
    login(client, "exec@acme.example")
    index = client.get("/scorecard", params=START)
    assert 'data-testid="drilldown-csv"' in index.text
    assert "/api/v1/scorecard/drilldown.csv?unit_id=" in index.text
    page = client.get("/scorecard/segments", params={"segment": "tier", **START})
    assert page.status_code == 200 and 'data-testid="segments"' in page.text
    assert "Acme: CX KPIs by Tier" in page.text and ">gold<" in page.text
    assert "segments.csv?unit_id=" in page.text
    client.cookies.set("cxloop_lang", "ja")
    ja = client.get("/scorecard/segments", params={"segment": "tier", **START})
    assert "ランク別のCX KPI" in ja.text and "他の顧客との差" in ja.text
    login(client, "manager_a@acme.example")
    far = client.get("/scorecard/segments", params={"segment": "tier", "unit_id": ids["c"]})
    assert far.status_code == 404
