"""The audit log: who logged in, changed permissions, exported or deleted what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from cxloop.store.base import utcnow
from cxloop.store.models.auth import AuditEntry

AUDIT_ACTIONS = (
    "login",
    "login_failed",
    "login_locked",
    "logout",
    "permission_change",
    "user_created",
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
