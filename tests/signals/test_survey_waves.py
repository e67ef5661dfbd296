"""A relationship wave stores, in bulk, exactly the decision the plan made for each customer."""

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.signals.survey_invitations import invitation_token, resolve_token
from cxloop.signals.survey_programs import SensitivityRuleCreate, create_sensitivity_rule
from cxloop.signals.survey_waves import plan_relationship, run_relationship_wave
from cxloop.store.models.surveys import SurveyInvitation
from tests.conftest import Org
from tests.survey_helpers import make_customer, make_program, make_survey

SEND_AT = datetime(2030, 1, 10, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo, 20:00 in New York


def test_stored_wave_matches_the_plan_row_by_row(session: Session, org: Org):
    unit = org.unit("acme")
    survey = make_survey(session, unit, key="rel-nps")
    program = make_program(
        session,
        survey,
        unit,
        key="yearly",
        kind="relationship",
        event_types=[],
        policy={"quiet_start": "19:00", "quiet_end": "09:00"},
    )
    create_sensitivity_rule(
        session=session,
        data=SensitivityRuleCreate(
            org_unit_id=unit.id,
            name="Travel\tdesk",
            attribute="industry",
            values=["travel"],
            start=date(2030, 1, 1),
            end=date(2030, 2, 1),
            reason='flights "cancelled"\nback\\slash',
        ),
        created_by="test",
    )
    people = [
        ("a@x.example", "Asia/Tokyo", "retail", "ja", False),
        ("b@x.example", "America/New_York", "retail", "en", False),
        ("c@x.example", "Asia/Tokyo", "travel", "ja", False),
        ("d@x.example", "Asia/Tokyo", "retail", "fr", True),
    ]
    for email, zone, industry, lang, out in people:
        customer = make_customer(
            session, org.unit("store_a"), email, timezone=zone, industry=industry, language=lang
        )
        customer.opted_out = out
    session.commit()
    loaded, plan = plan_relationship(
        session, program, send_at=SEND_AT, wave="2030", default_zone="UTC", default_language="en"
    )
    summary = run_relationship_wave(
        session=session, program=program, send_at=SEND_AT, wave="2030", default_language="en"
    )
    session.commit()
    session.expire_all()
    rows = session.scalars(select(SurveyInvitation).order_by(SurveyInvitation.customer_id)).all()
    assert summary.planned == len(rows) == 4
    codes = set()
    for i, row in enumerate(rows):
        d = plan.decision(i)
        assert row.customer_id == int(loaded.population.customer_ids[i])
        assert (row.status, row.reason_code, row.reason) == (
            "scheduled" if d.status == "sent" else "suppressed",
            d.reason_code,
            d.reason or None,
        )
        assert row.due_at == (d.send_at if d.status == "sent" else SEND_AT)
        assert row.due_at.tzinfo is not None and row.created_at.tzinfo is not None
        assert (row.wave, row.channel, row.attempts, row.draft) == ("2030", "email", 0, {})
        assert (row.survey_id, row.program_id) == (survey.id, program.id)
        assert row.org_unit_id == org.unit("store_a").id
        assert row.language == ("en" if row.customer_id == rows[3].customer_id else people[i][3])
        codes.add(row.reason_code)
        # Each stored row is a working personal link.
        assert resolve_token(session, "k" * 40, invitation_token("k" * 40, row)) == row
    assert codes == {"sent", "deferred_quiet_hours", "sensitivity_rule", "opted_out"}
    assert len({r.nonce for r in rows}) == 4
    (held,) = [r for r in rows if r.reason_code == "sensitivity_rule"]
    assert 'flights "cancelled"\nback\\slash' in held.reason and "Travel\tdesk" in held.reason
