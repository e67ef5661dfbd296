"""Dry-running a rule over past digital sessions: the frustrated ones the rules would have seen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act import dry_run
from cxloop.act.hooks import sources
from cxloop.signals.digital_sessions import close_idle_sessions
from cxloop.store.models.digital import DigitalSession
from tests.conftest import Org
from tests.digital_helpers import Visit, frustrated_visit, ingest, make_site

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def _store(session: Session, org: Org) -> dict[str, int]:
    """A rage-clicking visit in store_a, a calm one in store_a, a rage one in store_c (west),
    and a rage one in store_a that ended 40 days ago; all closed and scored."""
    site_a = make_site(session, org.unit("store_a"))
    site_c = make_site(session, org.unit("store_c"), key="cxs_west_site")
    visits = {
        "rage_a": (site_a, frustrated_visit(), NOW - timedelta(days=2)),
        "calm_a": (site_a, Visit(), NOW - timedelta(days=2)),
        "rage_c": (site_c, frustrated_visit("cxs_west_site"), NOW - timedelta(days=3)),
        "old_a": (site_a, frustrated_visit(), NOW - timedelta(days=40)),
    }
    visits["calm_a"][1].calm_page("/")
    visits["calm_a"][1].calm_page("/bags")
    for site, visit, at in visits.values():
        ingest(session, site, visit.batch(), received_at=at)
    assert close_idle_sessions(session=session, now=NOW) == 4
    session.commit()
    ids = {}
    for name, (_, visit, _) in visits.items():
        ids[name] = session.scalars(
            select(DigitalSession.id).where(DigitalSession.session_key == visit.session_id)
        ).one()
    return ids


def test_digital_sessions_are_a_dry_run_source(session: Session, org: Org) -> None:
    ids = _store(session, org)
    assert "digital_session" in sources()

    result = dry_run.dry_run(
        session=session,
        condition='signals = "rage_click"',
        org_unit_id=org.unit("acme").id,
        now=NOW,
    )
    # 30 days back: the 40-day-old visit is out; the calm one never reached the rules.
    assert result.by_kind == {"digital_session": 2}
    assert {h.id for h in result.samples} == {str(ids["rage_a"]), str(ids["rage_c"])}
    assert "digital_session" in result.sources


def test_dry_run_is_limited_to_the_rule_unit_and_reads_dxs(session: Session, org: Org) -> None:
    ids = _store(session, org)
    rage_a = session.get(DigitalSession, ids["rage_a"])
    assert rage_a is not None and rage_a.dxs is not None

    east = dry_run.dry_run(
        session=session,
        condition=f"dxs <= {rage_a.dxs}",
        org_unit_id=org.unit("east").id,
        now=NOW,
    )
    assert [(h.kind, h.id, h.org_unit_id) for h in east.samples] == [
        ("digital_session", str(ids["rage_a"]), org.unit("store_a").id)
    ]
    below = dry_run.dry_run(
        session=session,
        condition=f"dxs < {rage_a.dxs}",
        org_unit_id=org.unit("east").id,
        now=NOW,
    )
    assert below.by_kind.get("digital_session", 0) == 0


def test_by_ids_gives_the_stored_signal_types(session: Session, org: Org) -> None:
    ids = _store(session, org)
    source = sources()["digital_session"]
    [record] = source.by_ids(session, [str(ids["rage_a"]), str(ids["calm_a"]), "x"])
    assert record.kind == "digital_session" and record.id == str(ids["rage_a"])
    assert record.fields["signals"] == ["dead_click", "rage_click"]
    assert record.fields["dxs"] == session.get(DigitalSession, ids["rage_a"]).dxs  # type: ignore[union-attr]
