"""Praise and fix-it messages: to the person a record names, their manager, and the feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from cxloop.act import routing
from cxloop.act.hooks import RuleRecord
from cxloop.act.notify import queue_email
from cxloop.store.models.act import MESSAGE_KINDS, Message
from cxloop.store.models.org import OrgUnit, User, UserUnit
from cxloop.store.scope import Scope

_SUBJECTS = {
    "praise": "A customer praised you / お客様からのお褒めの言葉",
    "fix_it": "Something to fix / 改善のお願い",
}


class MessageError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class MessageView:
    id: int
    kind: str
    org_unit_id: int
    unit_name: str
    recipient_user_id: int
    recipient_name: str
    sender_name: str | None
    body: str
    quote: str | None
    record_kind: str | None
    record_id: str | None
    created_at: datetime


def _manager_for(session: Session, user: User, unit: OrgUnit) -> User | None:
    manager = routing.manager_of(session, unit.id)
    if manager is not None and manager.id != user.id:
        return manager
    above = routing.manager_above(session, unit)
    return above[1] if above else None


def send_message(
    *,
    session: Session,
    kind: str,
    recipient: User,
    unit: OrgUnit,
    body: str,
    sender: User | None = None,
    quote: str | None = None,
    record_kind: str | None = None,
    record_id: str | None = None,
    copy_manager: bool = True,
) -> Message:
    """Store the message and e-mail it to the recipient (praise also to their manager)."""
    if kind not in MESSAGE_KINDS:
        raise MessageError(f"kind must be one of {', '.join(MESSAGE_KINDS)}", "kind")
    if not body.strip() and not quote:
        raise MessageError("a message needs text", "body")
    cc = _manager_for(session, recipient, unit) if copy_manager and kind == "praise" else None
    message = Message(
        org_unit_id=unit.id,
        kind=kind,
        recipient_user_id=recipient.id,
        sender_user_id=sender.id if sender else None,
        cc_user_id=cc.id if cc else None,
        record_kind=record_kind,
        record_id=record_id,
        body=body.strip(),
        quote=quote,
    )
    session.add(message)
    session.flush()
    text = body.strip() + (f"\n\n“{quote}”" if quote else "")
    text += f"\n\n— {sender.name if sender else 'cxloop'}"
    for person in [recipient, *([cc] if cc else [])]:
        queue_email(
            session=session,
            org_unit_id=unit.id,
            to=person.email,
            event=f"message.{kind}",
            subject=_SUBJECTS[kind],
            text=text,
        )
    return message


def named_people(session: Session, record: RuleRecord, unit: OrgUnit) -> list[User]:
    """People a record names: explicit mentions, or staff of the unit whose name the text
    contains."""
    people: dict[int, User] = {}
    for user_id in record.mentioned_user_ids:
        user = session.get(User, user_id)
        if user is not None and user.is_active and routing.user_covers(session, user, unit):
            people[user.id] = user
    text = record.fields.get("text")
    if isinstance(text, str) and text:
        staff = session.scalars(
            select(User)
            .join(UserUnit, UserUnit.user_id == User.id)
            .where(UserUnit.org_unit_id == unit.id, User.is_active.is_(True))
        ).all()
        folded = text.casefold()
        for user in staff:
            if len(user.name) >= 2 and user.name.casefold() in folded:
                people[user.id] = user
    return list(people.values())


def praise_from_record(
    *, session: Session, record: RuleRecord, unit: OrgUnit, rule_name: str
) -> list[int]:
    """Praise the people the record names, or else the unit (its manager)."""
    text = record.fields.get("text") if isinstance(record.fields.get("text"), str) else None
    people = named_people(session, record, unit)
    if not people:
        manager = routing.manager_of(session, unit.id)
        people = [manager] if manager else []
    ids = []
    for person in people:
        message = send_message(
            session=session,
            kind="praise",
            recipient=person,
            unit=unit,
            body=f"A customer mentioned you ({rule_name}).",
            quote=text,
            record_kind=record.kind,
            record_id=record.id,
        )
        ids.append(message.id)
    return ids


def _view(session: Session, stmt: object, lang: str) -> list[MessageView]:
    recipient = aliased(User)
    sender = aliased(User)
    rows = session.execute(
        stmt.add_columns(recipient.name, sender.name, OrgUnit)  # type: ignore[attr-defined]
        .join(recipient, recipient.id == Message.recipient_user_id)
        .outerjoin(sender, sender.id == Message.sender_user_id)
        .join(OrgUnit, OrgUnit.id == Message.org_unit_id)
    ).all()
    return [
        MessageView(
            m.id,
            m.kind,
            m.org_unit_id,
            u.display_name(lang),
            m.recipient_user_id,
            rname,
            sname,
            m.body,
            m.quote,
            m.record_kind,
            m.record_id,
            m.created_at,
        )
        for m, rname, sname, u in rows
    ]


def recognition_feed(
    *,
    session: Session,
    scope: Scope,
    kind: str | None = "praise",
    limit: int = 50,
    offset: int = 0,
    lang: str = "en",
) -> list[MessageView]:
    """Messages about the units in scope, newest first."""
    stmt = select(Message).where(scope.condition(Message.org_unit_id))
    if kind:
        stmt = stmt.where(Message.kind == kind)
    return _view(session, stmt.order_by(Message.id.desc()).limit(limit).offset(offset), lang)


def feed_count(*, session: Session, scope: Scope, kind: str | None = "praise") -> int:
    stmt = select(func.count()).select_from(Message).where(scope.condition(Message.org_unit_id))
    if kind:
        stmt = stmt.where(Message.kind == kind)
    return int(session.scalar(stmt) or 0)


def messages_for(*, session: Session, user: User, lang: str = "en") -> list[MessageView]:
    """What was said to or about ``user`` (frontline staff see the feedback about themselves)."""
    stmt = (
        select(Message)
        .where(or_(Message.recipient_user_id == user.id, Message.cc_user_id == user.id))
        .order_by(Message.id.desc())
        .limit(200)
    )
    return _view(session, stmt, lang)
