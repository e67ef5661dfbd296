"""The audit log: who logged in, changed permissions, exported or deleted what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from cxloop.store.base import utcnow
from cxloop.store.models.auth import AuditEntry
from cxloop.store.models.org import OrgUnit

if TYPE_CHECKING:
    from cxloop.store.scope import Scope

AUDIT_ACTIONS = (
    "login",
    "login_failed",
    "login_locked",
    "logout",
    "permission_change",
    "user_created",
    "user_activated",
    "user_deactivated",
    "user_unlocked",
    "password_reset",
    "api_key_created",
    "api_key_revoked",
    "export",
    "delete",
)


@dataclass(frozen=True)
class Actor:
    user_id: int | None = None
    api_key_id: int | None = None
    label: str = "system"
    ip: str | None = None


SYSTEM = Actor()


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    target_type: str | None = None,
    target_id: object = None,
    org_unit_id: int | None = None,
    **detail: Any,
) -> AuditEntry:
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        actor_user_id=actor.user_id,
        actor_api_key_id=actor.api_key_id,
        actor_label=actor.label,
        ip=actor.ip,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        org_unit_id=org_unit_id,
        detail=detail,
    )
    session.add(entry)
    return entry


def sweep(session: Session, retention_days: int) -> int:
    """Delete entries older than the retention period; returns how many went."""
    cutoff = utcnow() - timedelta(days=retention_days)
    result = session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def search(
    session: Session,
    scope: Scope,
    *,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Entries visible in ``scope``, newest first, and their total count.

    Entries with no unit (logins, system) count as the company's: only auditors of the
    whole company see them.
    """
    from cxloop.store.scope import scoped_page

    filters: list[ColumnElement[bool]] = []
    if action:
        filters.append(AuditEntry.action == action)
    if actor:
        filters.append(func.lower(AuditEntry.actor_label).like(f"%{actor.strip().lower()}%"))
    if since is not None:
        filters.append(AuditEntry.at >= since)
    if until is not None:
        filters.append(AuditEntry.at < until)
    root = select(OrgUnit.id).where(OrgUnit.parent_id.is_(None)).limit(1).scalar_subquery()
    return scoped_page(
        session,
        scope,
        AuditEntry,
        filters=filters,
        order_by=AuditEntry.id.desc(),
        limit=limit,
        offset=offset,
        unit_column=func.coalesce(AuditEntry.org_unit_id, root),
    )
