"""Alert rules through the API: validation with positions, loop refusal, evaluation, dry-run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.act import hooks
from cxloop.store.base import utcnow
from tests.conftest import Org, bearer, login, make_api_key


class _MetricSource:
    """A stand-in record source: proves dry-run reads whatever sources are registered."""

    def __init__(self, records: list[hooks.RuleRecord]) -> None:
        self.records = records

    def recent(self, session, *, since, unit_ids):
        return [r for r in self.records if r.at >= since and r.org_unit_id in unit_ids]

    def by_ids(self, session, ids):
        return [r for r in self.records if r.id in ids]


@pytest.fixture
def metric_source(org: Org) -> Iterator[_MetricSource]:
    now = utcnow()
    a, c = org.unit("store_a").id, org.unit("store_c").id
    source = _MetricSource(
        [
            hooks.RuleRecord("metric", "m1", a, {"metrics": {"wait_minutes": 45}}, at=now),
            hooks.RuleRecord("metric", "m2", a, {"metrics": {"wait_minutes": 5}}, at=now),
            hooks.RuleRecord("metric", "m3", c, {"metrics": {"wait_minutes": 50}}, at=now),
            hooks.RuleRecord(
                "metric", "m4", a, {"metrics": {"wait_minutes": 99}}, at=now - timedelta(days=40)
            ),
        ]
    )
    hooks.register_source("metric", source)
    yield source
    hooks._SOURCES.pop("metric", None)  # noqa: SLF001


def _rule(org: Org, **overrides):
    body = {
        "name": "Detractors",
        "org_unit_id": org.unit("acme").id,
        "condition": "nps <= 6",
        "actions": [{"type": "open_case", "priority": "high", "sla_hours": 24}],
    }
    return {**body, **overrides}


def test_rule_that_does_not_parse_points_at_the_position(client: TestClient, org: Org):
    client.headers["x-csrf-token"] = login(client, "admin@acme.example")
    r = client.post("/api/v1/rules", json=_rule(org, condition="nps <= 6 and and csat < 2"))
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["field"] == "condition"
    assert "column 14" in err["message"]


def test_unknown_field_and_bad_action_are_named(client: TestClient, org: Org):
    client.headers["x-csrf-token"] = login(client, "admin@acme.example")
    r = client.post("/api/v1/rules", json=_rule(org, condition="nsp <= 6"))
    assert r.status_code == 422 and "nps" in r.json()["error"]["message"]  # did-you-mean
    r = client.post(
        "/api/v1/rules", json=_rule(org, actions=[{"type": "open_case", "sla_hours": -1}])
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "actions.0.open_case.sla_hours"
    r = client.post("/api/v1/rules", json=_rule(org, segments={"shoe_size": ["9"]}))
    assert r.json()["error"]["field"] == "segments.shoe_size"


def test_rule_whose_action_triggers_itself_is_refused(client: TestClient, org: Org):
    client.headers["x-csrf-token"] = login(client, "admin@acme.example")
    r = client.post("/api/v1/rules", json=_rule(org, actions=[{"type": "survey"}]))
    assert r.status_code == 422
    assert "trigger itself" in r.json()["error"]["message"]
    # A survey action on a rule that can only match feedback cannot loop.
    ok = client.post(
        "/api/v1/rules",
        json=_rule(
            org, condition='kind = "feedback" and rating <= 1', actions=[{"type": "survey"}]
        ),
    )
    assert ok.status_code == 201, ok.text


def test_rules_need_rules_admin_and_are_scoped(client: TestClient, session: Session, org: Org):
    client.headers["x-csrf-token"] = login(client, "admin@acme.example")
    created = client.post("/api/v1/rules", json=_rule(org, org_unit_id=org.unit("west").id))
    assert created.status_code == 201
    client.post("/logout")
    client.headers["x-csrf-token"] = login(client, "manager_a@acme.example")
    assert client.get("/api/v1/rules").status_code == 403
    key = make_api_key(session, org.unit("east"), ["rules:admin"])
    listed = client.get("/api/v1/rules", headers=bearer(key)).json()
    assert listed["count"] == 0
    rule_id = created.json()["id"]
    assert client.get(f"/api/v1/rules/{rule_id}", headers=bearer(key)).status_code == 404


def test_rule_applies_to_its_subtree_and_segments(client: TestClient, session: Session, org: Org):
    key = make_api_key(session, org.unit("acme"), ["rules:admin", "cases:read"])
    h = bearer(key)
    rule = _rule(
        org,
        org_unit_id=org.unit("east").id,
        segments={"tier": ["gold"]},
        condition='text contains_any ("解約", "cancel my account")',
    )
    assert client.post("/api/v1/rules", json=rule, headers=h).status_code == 201

    def fire(unit: str, rid: str, tier: str, text: str):
        record = {
            "kind": "feedback",
            "id": rid,
            "org_unit_id": org.unit(unit).id,
            "fields": {"text": text, "segment": {"tier": tier}},
        }
        r = client.post("/api/v1/rules/evaluate", json=record, headers=h)
        assert r.status_code == 200, r.text
        return r.json()

    assert len(fire("store_a", "f1", "gold", "来月で解約します")) == 1
    assert len(fire("store_a", "f2", "gold", "Please CANCEL MY ACCOUNT now")) == 1
    assert fire("store_a", "f3", "silver", "解約") == []  # wrong segment
    assert fire("store_c", "f4", "gold", "解約") == []  # outside the rule's subtree
    assert fire("store_a", "f5", "gold", "great service") == []
    cases = client.get("/api/v1/cases", headers=h).json()
    assert sorted(c["record_id"] for c in cases["data"]) == ["f1", "f2"]


def test_evaluate_rejects_an_unknown_kind(client: TestClient, session: Session, org: Org):
    key = make_api_key(session, org.unit("acme"), ["rules:admin"])
    r = client.post(
        "/api/v1/rules/evaluate",
        headers=bearer(key),
        json={"kind": "tweet", "id": "1", "org_unit_id": org.unit("acme").id},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "kind"


def test_dry_run_reads_registered_sources_in_the_window(
    client: TestClient, org: Org, metric_source: _MetricSource
):
    client.headers["x-csrf-token"] = login(client, "admin@acme.example")
    body = {"condition": 'metric("wait_minutes") > 30', "org_unit_id": org.unit("east").id}
    r = client.post("/api/v1/rules/dry-run", json=body)
    assert r.status_code == 200, r.text
    result = r.json()
    assert "metric" in result["sources"]
    assert result["by_kind"] == {"metric": 1}  # m1 only: m3 is west, m4 is 40 days old
    assert [s["id"] for s in result["samples"]] == ["m1"]
    bad = client.post("/api/v1/rules/dry-run", json={**body, "condition": "metric(wait) >"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "condition"
