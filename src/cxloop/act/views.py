"""Read models for the act pages: rows with unit and people names already joined."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from cxloop.act.cases import OPEN_STATUSES
from cxloop.store.models.act import BacklogItem, Case, Delivery
from cxloop.store.models.org import OrgUnit, User
from cxloop.store.scope import Scope

INBOX_TABS = ("mine", "open", "overdue", "all")


@dataclass(frozen=True)
class CaseRow:
    id: int
    title: str
    unit_name: str
    priority: str
    status: str
    due_at: datetime | None
    overdue: bool
    owner_name: str | None
    escalated_to_name: str | None
    escalation_level: int
    created_at: datetime


def inbox(
    *,
    session: Session,
    scope: Scope,
    tab: str,
    user_id: int | None,
    now: datetime,
    lang: str,
    limit: int = 200,
) -> list[CaseRow]:
    owner = aliased(User)
    escalated = aliased(User)
    stmt = (
        select(Case, OrgUnit, owner.name, escalated.name)
        .join(OrgUnit, OrgUnit.id == Case.org_unit_id)
        .outerjoin(owner, owner.id == Case.owner_user_id)
        .outerjoin(escalated, escalated.id == Case.escalated_to_user_id)
        .where(scope.condition(Case.org_unit_id))
    )
    if tab == "mine":
        uid = user_id if user_id is not None else -1
        stmt = stmt.where(
            Case.status.in_(OPEN_STATUSES),
            or_(Case.owner_user_id == uid, Case.escalated_to_user_id == uid),
        )
    elif tab == "open":
        stmt = stmt.where(Case.status.in_(OPEN_STATUSES))
    elif tab == "overdue":
        stmt = stmt.where(Case.status.in_(OPEN_STATUSES), Case.due_at < now)
    stmt = stmt.order_by(Case.due_at.asc().nulls_last(), Case.id.desc()).limit(limit)
    return [
        CaseRow(
            c.id,
            c.title,
            u.display_name(lang),
            c.priority,
            c.status,
            c.due_at,
            c.status in OPEN_STATUSES and c.due_at is not None and c.due_at < now,
            oname,
            ename,
            c.escalation_level,
            c.created_at,
        )
        for c, u, oname, ename in session.execute(stmt).all()
    ]


def people(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u.name for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def backlog_items(*, session: Session, scope: Scope, limit: int = 200) -> list[BacklogItem]:
    return list(
        session.scalars(
            select(BacklogItem)
            .where(scope.condition(BacklogItem.org_unit_id))
            .order_by(BacklogItem.impact.desc(), BacklogItem.id)
            .limit(limit)
        ).all()
    )


def deliveries(
    *,
    session: Session,
    scope: Scope,
    status: str | None,
    endpoint_id: int | None = None,
    limit: int = 200,
) -> list[Delivery]:
    stmt = select(Delivery).where(scope.condition(Delivery.org_unit_id))
    if status:
        stmt = stmt.where(Delivery.status == status)
    if endpoint_id is not None:
        stmt = stmt.where(Delivery.endpoint_id == endpoint_id)
    return list(session.scalars(stmt.order_by(Delivery.id.desc()).limit(limit)).all())


def shown_target(target: str) -> str:
    """An endpoint's target as pages show it: an e-mail address whole, a URL only up to its
    host (chat webhook URLs carry their secret in the path)."""
    if "://" not in target:
        return target
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}/…"
