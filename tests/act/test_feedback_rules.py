"""Alert rules on real feedback records (the feedback area's ingest and analyzer)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act import dry_run, hooks, rules
from cxloop.act.sources import feedback_records
from cxloop.signals.feedback import IngestContext, ingest
from cxloop.store.base import utcnow
from cxloop.store.models.act import Case
from cxloop.store.models.feedback import Feedback
from tests.conftest import Org

ITEMS = [
    {
        "source": "review",
        "text": "配送が一週間も遅れて、連絡もなく本当に最悪でした。",
        "org_unit": "store_a",
        "external_id": "1",
    },
    {
        "source": "review",
        "text": "The staff were friendly and incredibly helpful!",
        "org_unit": "store_a",
        "external_id": "2",
    },
    {
        "source": "email",
        "text": "The delivery was late and the box was damaged. Terrible.",
        "org_unit": "store_c",
        "external_id": "3",
    },
]


def test_negative_delivery_feedback_opens_a_case_and_dry_run_agrees(session: Session, org: Org):
    rules.create_rule(
        session=session,
        org_unit_id=org.unit("east").id,
        name="Angry about delivery",
        condition='sentiment in ("negative", "very_negative") and theme = "delivery"',
        actions=[{"type": "open_case"}],
    )
    # Ingesting hands the new records to the rules: the case opens as the record arrives.
    results = ingest(session=session, items=ITEMS, context=IngestContext(scope=None))
    case = session.scalars(select(Case)).one()  # store_c is not in east; praise fires nothing
    assert (case.record_kind, case.record_id) == ("feedback", str(results[0].id))
    rows = session.scalars(select(Feedback).where(Feedback.id.in_([r.id for r in results])))
    records = feedback_records(session, list(rows))
    assert [f for r in records for f in hooks.record_arrived(session, r)] == []  # once only
    assert case.owner_user_id == org.users["manager_a"].id
    assert "配送" in case.summary

    result = dry_run.dry_run(
        session=session,
        condition='theme = "delivery"',
        org_unit_id=org.unit("acme").id,
        now=utcnow() + timedelta(hours=1),
    )
    assert result.by_kind.get("feedback") == 2
    assert {s.id for s in result.samples} == {str(results[0].id), str(results[2].id)}
