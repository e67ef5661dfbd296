"""Scorecard settings pages: KPIs, owners, targets and digest groups, en/ja, CSRF, scope."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.store.models.scorecard import DigestSubscription, Kpi, KpiTarget
from tests.conftest import Org, login
from tests.web.test_scorecard_api import _setup


def _kpis(session: Session, unit_id: int) -> list[tuple[str, int, int | None]]:
    session.expire_all()
    rows = session.scalars(select(Kpi).where(Kpi.org_unit_id == unit_id).order_by(Kpi.rank))
    return [(k.metric, k.rank, k.owner_user_id) for k in rows]


def test_executive_edits_kpis_targets_and_digests_in_both_languages(
    client: TestClient, session: Session, org: Org
) -> None:
    ids = _setup(session, org)
    exec_id, analyst_id = org.users["exec"].id, org.users["analyst"].id
    csrf = login(client, "exec@acme.example")
    page = client.get("/scorecard/settings")
    assert page.status_code == 200
    assert "Scorecard settings for Acme" in page.text and 'data-testid="add-kpi"' in page.text
    assert "<script>" not in page.text.split("</head>", 1)[1]  # CSP: no inline scripts
    assert 'data-testid="settings-link"' in client.get("/scorecard").text

    r = client.post(
        "/scorecard/settings/kpis",
        data={
            "csrf_token": csrf,
            "unit_id": ids["acme"],
            "metric": "cx:csat",
            "owner_user_id": str(exec_id),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert _kpis(session, ids["acme"]) == [
        ("cx:nps", 1, None),
        ("metric:revenue", 2, None),
        ("cx:csat", 3, exec_id),
    ]
    csat = session.scalar(select(Kpi).where(Kpi.metric == "cx:csat"))
    assert csat is not None
    r = client.post(
        f"/scorecard/settings/kpi/{csat.id}",
        data={
            "csrf_token": csrf,
            "rank": "1",
            "owner_user_id": str(analyst_id),
            "label": "Happy customers",
            "label_ja": "",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert _kpis(session, ids["acme"])[0] == ("cx:csat", 1, analyst_id)

    r = client.post(
        f"/scorecard/settings/kpi/{ids['nps']}/target",
        data={
            "csrf_token": csrf,
            "unit_id": ids["c"],
            "period": "month",
            "start": "2025-03-14",
            "target": "30",
            "threshold": "10",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    card = client.get("/api/v1/scorecard", params={"unit_id": ids["c"], "start": "2025-03-01"})
    nps = next(k for k in card.json()["kpis"] if k["metric"] == "cx:nps")
    assert (nps["target"], nps["threshold"], nps["target_inherited"]) == (30, 10, False)
    wrong = client.post(
        f"/scorecard/settings/kpi/{ids['nps']}/target",
        data={
            "csrf_token": csrf,
            "unit_id": ids["c"],
            "period": "month",
            "start": "2025-04-01",
            "target": "30",
            "threshold": "40",
        },
    )
    assert wrong.status_code == 422
    session.expire_all()
    starts = session.scalars(select(KpiTarget.period_start).where(KpiTarget.kpi_id == ids["nps"]))
    assert list(starts) == [date(2025, 3, 1)]

    r = client.post(
        "/scorecard/settings/digests",
        data={
            "csrf_token": csrf,
            "unit_id": ids["acme"],
            "name": "CX council",
            "cadence": "monthly",
            "member_ids": [str(exec_id), str(analyst_id)],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    sub = session.scalar(select(DigestSubscription))
    assert sub is not None and (sub.cadence, sub.member_ids) == (
        "monthly",
        sorted([exec_id, analyst_id]),
    )
    r = client.post(
        f"/scorecard/settings/digest/{sub.id}",
        data={
            "csrf_token": csrf,
            "name": "CX council",
            "cadence": "weekly",
            "member_ids": [str(exec_id)],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    session.expire_all()
    sub = session.get(DigestSubscription, sub.id)
    assert sub is not None and (sub.cadence, sub.member_ids, sub.active) == (
        "weekly",
        [exec_id],
        False,
    )

    client.cookies.set("cxloop_lang", "ja")
    ja = client.get("/scorecard/settings")
    assert "Acme のスコアカード設定" in ja.text and "ダイジェスト配信グループ" in ja.text
    assert "CX council" in ja.text and "毎週" in ja.text


def test_forms_need_the_csrf_token(client: TestClient, session: Session, org: Org) -> None:
    ids = _setup(session, org)
    login(client, "exec@acme.example")
    r = client.post("/scorecard/settings/kpis", data={"unit_id": ids["acme"], "metric": "cx:csat"})
    assert r.status_code == 403
    assert [m for m, _, _ in _kpis(session, ids["acme"])] == ["cx:nps", "metric:revenue"]


def test_store_manager_edits_only_his_store(client: TestClient, session: Session, org: Org) -> None:
    ids = _setup(session, org)
    csrf = login(client, "manager_a@acme.example")
    mine = client.get("/scorecard/settings")
    assert "Scorecard settings for Store A" in mine.text and 'data-testid="inherited"' in mine.text
    assert "Store C" not in mine.text and "exec" not in mine.text  # no one outside his store
    assert client.get("/scorecard/settings", params={"unit_id": ids["c"]}).status_code == 404
    other = client.post(
        f"/scorecard/settings/kpi/{ids['nps']}/target",
        data={
            "csrf_token": csrf,
            "unit_id": ids["c"],
            "period": "month",
            "start": "2025-03-01",
            "target": "30",
        },
    )
    assert other.status_code == 404
    company = client.post(
        f"/scorecard/settings/kpi/{ids['nps']}",
        data={"csrf_token": csrf, "rank": "2"},
    )
    assert company.status_code == 403  # the company's KPI is set above him
    assert (
        client.post(
            "/scorecard/settings/kpis",
            data={"csrf_token": csrf, "unit_id": ids["c"], "metric": "cx:csat"},
        ).status_code
        == 404
    )
    outsider = client.post(
        "/scorecard/settings/digests",
        data={
            "csrf_token": csrf,
            "unit_id": ids["a"],
            "name": "x",
            "member_ids": [str(org.users["exec"].id)],
        },
    )
    assert outsider.status_code == 422
    own = client.post(
        f"/scorecard/settings/kpi/{ids['nps']}/target",
        data={
            "csrf_token": csrf,
            "unit_id": ids["a"],
            "period": "month",
            "start": "2025-03-01",
            "target": "55",
        },
        follow_redirects=False,
    )
    assert own.status_code == 303
    added = client.post(
        "/scorecard/settings/kpis",
        data={"csrf_token": csrf, "unit_id": ids["a"], "metric": "cx:csat"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert [m for m, _, _ in _kpis(session, ids["a"])] == ["cx:csat"]
    assert [m for m, _, _ in _kpis(session, ids["acme"])] == ["cx:nps", "metric:revenue"]
    assert session.scalars(select(DigestSubscription)).all() == []
