"""Compiled rules are checked once per transaction: changes made elsewhere (another process,
plain SQL) apply from the next transaction, changes made here at once."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from cxloop.act import hooks, rules
from cxloop.store.base import utcnow
from cxloop.store.engine import session_factory
from cxloop.store.models.act import AlertRule, Case, RuleFiring
from tests.conftest import Org


def _detractor(org: Org, rid: str) -> hooks.RuleRecord:
    return hooks.RuleRecord("response", rid, org.unit("store_a").id, {"nps": 2})


def _elsewhere(session: Session) -> Session:
    """A second session on the same database, standing in for another process."""
    return session_factory(str(session.get_bind().engine.url))()


def test_a_rule_stored_by_another_process_applies_from_the_next_transaction(
    session: Session, org: Org
):
    assert hooks.record_arrived(session, _detractor(org, "r1")) == []
    session.commit()
    with _elsewhere(session) as other:  # plain SQL: no in-process signal that rules changed
        other.execute(
            insert(AlertRule.__table__).values(  # type: ignore[arg-type]
                org_unit_id=org.unit("acme").id,
                name="Detractor",
                condition="nps <= 6",
                actions=[{"type": "open_case"}],
                segments={},
                is_active=True,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
        other.commit()
    (firing,) = hooks.record_arrived(session, _detractor(org, "r2"))
    assert firing.rule_name == "Detractor" and firing.case_id is not None
    session.commit()

    with _elsewhere(session) as other:
        other.execute(update(AlertRule).values(is_active=False, updated_at=utcnow()))
        other.commit()
    assert hooks.record_arrived(session, _detractor(org, "r3")) == []
    session.commit()
    assert session.scalars(select(RuleFiring.record_id)).all() == ["r2"]


def test_a_rule_changed_in_this_process_applies_to_the_next_record(session: Session, org: Org):
    assert hooks.record_arrived(session, _detractor(org, "r1")) == []  # checked: no rules
    rule = rules.create_rule(
        session=session,
        org_unit_id=org.unit("acme").id,
        name="Detractor",
        condition="nps <= 6",
        actions=[{"type": "open_case"}],
    )
    assert len(hooks.record_arrived(session, _detractor(org, "r2"))) == 1  # same transaction
    rules.update_rule(session=session, rule=rule, changes={"is_active": False})
    assert hooks.record_arrived(session, _detractor(org, "r3")) == []
    assert [c.record_id for c in session.scalars(select(Case))] == ["r2"]
