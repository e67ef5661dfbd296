"""``cxloop import events FILE``: rows become events exactly as ``POST /api/v1/events``
makes them, bad rows are reported by line and field, and importing twice adds nothing."""

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cxloop import cli
from cxloop.store.models.surveys import SurveyEvent, SurveyInvitation
from tests.conftest import Org, bearer, make_api_key
from tests.survey_helpers import make_customer, make_program, make_survey
from tests.test_cli import cli_env  # noqa: F401 - the CLI's environment fixture

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("cli_env")

CSV = """type,org_unit,customer_email,occurred_at,touchpoint,external_id,order_total
store_visit,store_a,hanako@cust.example,2026-05-12T12:00:00+09:00,checkout,v-1,4200
teleported,store_a,hanako@cust.example,2026-05-12T12:00:00+09:00,checkout,v-2,
store_visit,store_a,hanako@cust.example,2026-05-12 12:00,checkout,v-3,
store_visit,nowhere,hanako@cust.example,2026-05-12T12:00:00+09:00,checkout,v-4,
store_visit,store_a,stranger@cust.example,2026-05-12T12:00:00+09:00,checkout,v-5,
store_visit,store_b,taro@cust.example,2026-05-13T09:30:00+09:00,counter,,
"""


@pytest.fixture
def program(session: Session, org: Org):
    survey = make_survey(session, org.unit("acme"))
    make_customer(session, org.unit("store_a"), "hanako@cust.example")
    make_customer(session, org.unit("store_b"), "taro@cust.example")
    return make_program(session, survey, org.unit("acme"), delay_minutes=60)


def _import(path: Path, *args: str):
    return runner.invoke(cli.app, ["import", "events", str(path), *args])


def _count(session: Session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_csv_rows_become_events_bad_rows_are_named_and_a_rerun_adds_nothing(
    session: Session, org: Org, program, tmp_path: Path
):
    path = tmp_path / "events.csv"
    path.write_text(CSV, encoding="utf-8")
    errors = tmp_path / "errors.csv"
    result = _import(path, "--errors", str(errors))
    assert result.exit_code == 0, result.output
    assert "rows read: 6  imported: 2" in result.output and "rejected: 4" in result.output
    assert "invitations created: 2" in result.output
    rejected = errors.read_text(encoding="utf-8").splitlines()[1:]
    assert rejected[0].startswith("3,type,") and "unknown event type 'teleported'" in rejected[0]
    assert rejected[1].startswith("4,occurred_at,") and "time zone offset" in rejected[1]
    assert rejected[2] == "5,org_unit,no org unit with code 'nowhere'"
    assert rejected[3].startswith("6,customer,unknown customer")
    event = session.scalar(select(SurveyEvent).where(SurveyEvent.external_id == "v-1"))
    assert (event.type, event.touchpoint, event.org_unit_id) == (
        "store_visit",
        "checkout",
        org.unit("store_a").id,
    )
    assert event.attributes == {"order_total": "4200"}
    (inv,) = session.scalars(select(SurveyInvitation).where(SurveyInvitation.event_id == event.id))
    assert (inv.status, inv.program_id, inv.touchpoint) == ("pending", program.id, "checkout")
    assert inv.due_at.replace(tzinfo=None).isoformat() == "2026-05-12T04:00:00"  # +60 min

    again = _import(path)
    assert again.exit_code == 0, again.output
    assert "imported: 0" in again.output and "skipped as duplicates: 2" in again.output
    assert "line" in again.output and "teleported" in again.output  # the table of rejections
    assert _count(session, SurveyEvent) == 2
    assert _count(session, SurveyInvitation) == 2


def test_jsonl_matches_the_api_and_shares_its_idempotency(
    client, session: Session, org: Org, program, tmp_path: Path
):
    body = {
        "type": "store_visit",
        "org_unit_id": org.unit("store_a").id,
        "customer": {"identities": [{"kind": "email", "value": "hanako@cust.example"}]},
        "occurred_at": "2026-05-12T12:00:00+09:00",
        "touchpoint": "checkout",
        "attributes": {"basket": ["tea", "お茶"], "total": 4200},
    }
    key = make_api_key(session, org.unit("acme"), ["surveys:write"])
    api = client.post("/api/v1/events", json={**body, "external_id": "api-1"}, headers=bearer(key))
    assert api.status_code == 201, api.text
    path = tmp_path / "events.jsonl"
    lines = [
        json.dumps({**body, "external_id": "api-1"}),  # already posted: a duplicate
        json.dumps({**body, "external_id": "file-1"}, ensure_ascii=False),
        "{not json",
        json.dumps({**body, "external_id": "file-2", "attributes": "[1]"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _import(path)
    assert result.exit_code == 0, result.output
    assert "imported: 1" in result.output and "skipped as duplicates: 1" in result.output
    assert "rejected: 2" in result.output
    assert "not valid JSON" in result.output and "attributes" in result.output
    events = {e.external_id: e for e in session.scalars(select(SurveyEvent))}
    posted, imported = events["api-1"], events["file-1"]
    same = ("type", "org_unit_id", "customer_id", "touchpoint", "occurred_at", "attributes")
    assert [getattr(imported, f) for f in same] == [getattr(posted, f) for f in same]
    invitations = {
        i.event_id: (i.program_id, i.due_at, i.status, i.language)
        for i in session.scalars(select(SurveyInvitation))
    }
    assert invitations[imported.id] == invitations[posted.id]


def test_rows_without_an_org_unit_use_the_unit_option(
    session: Session, org: Org, program, tmp_path: Path
):
    path = tmp_path / "events.csv"
    path.write_text(
        "type,customer_email,occurred_at\nstore_visit,taro@cust.example,2026-05-13T09:30:00Z\n",
        encoding="utf-8",
    )
    missing = _import(path)
    assert missing.exit_code == 1 and "give an org_unit column" in missing.output
    assert _import(path, "--unit", "nowhere").exit_code == 2
    result = _import(path, "--unit", "store_b")
    assert result.exit_code == 0 and "imported: 1" in result.output
    event = session.scalar(select(SurveyEvent))
    assert event.org_unit_id == org.unit("store_b").id
    assert event.external_id.startswith("row:")
