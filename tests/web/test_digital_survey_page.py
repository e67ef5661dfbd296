"""The DXS and survey scores page and its CSV: bands, correlations with their n, scoping."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.store.models.digital import DigitalSession
from cxloop.store.models.surveys import SurveyResponse
from tests.conftest import Org, login
from tests.digital_helpers import make_site
from tests.survey_helpers import make_customer, make_survey

START = datetime.now(UTC) - timedelta(days=30)

# (store, dxs, nps, csat, days from the session to the answer)
VISITS = [
    ("store_a", 1.0, 2, 1, 1),
    ("store_a", 3.0, 6, 2, 1),
    ("store_a", 5.0, 8, None, 2),
    ("store_a", 9.0, 10, 5, 1),
    ("store_a", 9.5, 9, 4, 3),
    ("store_a", 7.0, 0, 1, 20),  # answered too late to pair
    ("store_c", 1.5, 10, 5, 1),
]


@pytest.fixture
def visits(session: Session, org: Org) -> None:
    survey = make_survey(session, org.unit("acme"))
    sites = {u: make_site(session, org.unit(u), key=f"cxs_{u}") for u in ("store_a", "store_c")}
    for i, (unit, dxs, nps, csat, later) in enumerate(VISITS):
        customer = make_customer(session, org.unit(unit), f"c{i}@example.com")
        session.add(
            DigitalSession(
                site_id=sites[unit].id,
                org_unit_id=org.unit(unit).id,
                session_key=f"visit{i:04d}",
                status="closed",
                started_at=START + timedelta(hours=i),
                last_seen_at=START + timedelta(hours=i, minutes=5),
                customer_id=customer.id,
                dxs=dxs,
                scored_at=START + timedelta(hours=i, minutes=40),
            )
        )
        session.add(
            SurveyResponse(
                org_unit_id=org.unit(unit).id,
                survey_id=survey.id,
                version_id=survey.current_version_id,
                customer_id=customer.id,
                status="complete",
                nps=nps,
                csat=csat,
                completed_at=START + timedelta(hours=i, days=later),
            )
        )
    session.commit()


def _bands(rel: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            b["low"],
            b["n"],
            b["mean_nps_answer"],
            b["nps"],
            b["csat_n"],
            b["mean_csat"],
            b["csat_top2"],
        )
        for b in rel["bins"]
    ]


def test_a_store_manager_sees_his_stores_bands_and_correlations(
    client: TestClient, org: Org, visits: None
) -> None:
    login(client, "manager_a@acme.example")
    rel = client.get("/api/v1/digital/dxs-vs-survey").json()
    assert _bands(rel) == [
        (0, 1, 2.0, -100.0, 1, 1.0, 0.0),
        (2, 1, 6.0, -100.0, 1, 2.0, 0.0),
        (4, 1, 8.0, 0.0, 0, None, None),
        (6, 0, None, None, 0, None, None),
        (8, 2, 9.5, 100.0, 2, 4.5, 100.0),
    ]
    # ranks: NPS 1,2,3,5,4 against DXS 1..5 -> 1 - 6*2/(5*24); CSAT 1,2,4,3 -> 1 - 6*2/(4*15)
    assert (rel["pairs"], rel["spearman_rho"]) == (5, pytest.approx(0.9))
    assert (rel["csat_pairs"], rel["csat_spearman_rho"]) == (4, pytest.approx(0.8))

    page = client.get("/digital/survey")
    assert page.status_code == 200
    assert page.text.count('data-testid="band"') == 5
    assert '0.90 <span class="muted">(n = 5)</span>' in page.text
    assert '0.80 <span class="muted">(n = 4)</span>' in page.text
    assert 'id="dxs-survey-data"' in page.text and "/static/js/digital.js" in page.text
    assert "<script>" not in page.text  # CSP: data in a JSON tag, code in digital.js

    rows = list(csv.reader(io.StringIO(client.get("/api/v1/digital/dxs-vs-survey.csv").text)))
    assert rows[0][0] == "\ufeffdxs_from" and rows[0][-1] == "csat_top2_pct"
    assert rows[1] == ["0.0", "2.0", "1", "2.0", "-100.0", "1", "1.0", "0.0"]
    assert rows[5] == ["8.0", "10.0", "2", "9.5", "100.0", "2", "4.5", "100.0"]


def test_the_company_sees_every_store_and_the_page_speaks_japanese(
    client: TestClient, session: Session, org: Org, visits: None
) -> None:
    org.users["admin"].language = "ja"
    session.commit()
    login(client, "admin@acme.example")
    rel = client.get("/api/v1/digital/dxs-vs-survey").json()
    assert (rel["pairs"], rel["csat_pairs"]) == (6, 5)
    assert rel["bins"][0]["n"] == 2 and rel["bins"][0]["nps"] == 0.0  # 2 and 10
    page = client.get("/digital/survey")
    assert "DXSとアンケートのスコア" in page.text and "(n = 6)" in page.text
    overview = client.get("/digital")
    assert 'href="/digital/survey"' in overview.text


def test_no_pairs_show_empty_bands_and_no_correlation(client: TestClient, org: Org) -> None:
    login(client, "manager_c@acme.example")
    page = client.get("/digital/survey")
    assert page.status_code == 200
    assert 'data-testid="dxs-survey-chart"' not in page.text
    assert '– <span class="muted">(n = 0)</span>' in page.text
    login(client, "frontline_a@acme.example")  # no digital:read
    assert client.get("/digital/survey").status_code == 403
    assert client.get("/api/v1/digital/dxs-vs-survey.csv").status_code == 403
