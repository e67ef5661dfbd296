"""A frustrated web session reaches the alert rules when it closes (``dxs`` conditions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act import rules
from cxloop.signals.digital_sessions import close_idle_sessions
from cxloop.store.models.act import Case
from cxloop.store.models.digital import DigitalSession
from tests.conftest import Org
from tests.digital_helpers import Visit, frustrated_visit, ingest, make_site


def test_a_frustrated_session_opens_a_case_and_a_calm_one_does_not(session: Session, org: Org):
    site = make_site(session, org.unit("store_a"))
    rules.create_rule(
        session=session,
        org_unit_id=org.unit("acme").id,
        name="Frustrated web visit",
        condition='dxs < 8 and signals = "rage_click"',
        actions=[{"type": "open_case"}],
    )
    earlier = datetime.now(UTC) - timedelta(hours=1)
    frustrated = frustrated_visit()
    ingest(session, site, frustrated.batch(), received_at=earlier)
    calm = Visit()
    calm.calm_page("/")
    ingest(session, site, calm.batch(), received_at=earlier)

    assert close_idle_sessions(session=session) == 2

    row = session.scalars(
        select(DigitalSession).where(DigitalSession.session_key == frustrated.session_id)
    ).one()
    cases = session.scalars(select(Case)).all()
    assert [(c.record_kind, c.record_id, c.org_unit_id) for c in cases] == [
        ("digital_session", str(row.id), org.unit("store_a").id)
    ]
