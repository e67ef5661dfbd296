"""Administering people and API keys inside the caller's scope.

An administrator sees a user when one of the user's units is in their scope, and may change a
user only when *all* of the user's units are (an east-region admin cannot strip a company-wide
user of the west). Keys and users are never granted more than the administrator holds.
Every change is audited; the API and the admin pages both go through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import Session

from cxloop.security import ROLE_PERMISSIONS, check_scopes
from cxloop.store import audit
from cxloop.store.accounts import create_api_key
from cxloop.store.base import utcnow
from cxloop.store.models.auth import ApiKey, WebSession
from cxloop.store.models.org import ROLES, OrgUnit, User, UserUnit
from cxloop.store.org import create_user, set_user_access
from cxloop.store.scope import Scope

MIN_PASSWORD = 10


class AdminError(ValueError):
    """A refused administrative change; ``field`` names the input at fault."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True)
class Admin:
    """Who administers: their scope, permissions and audit identity."""

    scope: Scope
    permissions: frozenset[str]
    actor: audit.Actor
    user_id: int | None = None


def visible_users_condition(scope: Scope) -> ColumnElement[bool]:
    """A user is visible when one of their units is."""
    return User.id.in_(select(UserUnit.user_id).where(scope.condition(UserUnit.org_unit_id)))


def visible_users(
    session: Session, scope: Scope, *, q: str = "", limit: int = 50, offset: int = 0
) -> tuple[list[User], int]:
    base = select(User).where(visible_users_condition(scope))
    if q.strip():
        like = f"%{q.strip().lower()}%"
        base = base.where(or_(func.lower(User.email).like(like), func.lower(User.name).like(like)))
    count = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(base.order_by(User.name, User.id).limit(limit).offset(offset)).all()
    return list(rows), count


def _check_units(session: Session, scope: Scope, unit_ids: Sequence[int]) -> list[OrgUnit]:
    if not unit_ids:
        raise AdminError("choose at least one org unit", field="unit_ids")
    units = []
    for unit_id in unit_ids:
        unit = session.get(OrgUnit, unit_id) if scope.contains(session, unit_id) else None
        if unit is None:
            raise AdminError(f"org unit {unit_id} not found", field="unit_ids", status=404)
        units.append(unit)
    return units


def grantable_roles(permissions: frozenset[str]) -> list[str]:
    """The roles whose every permission the granter holds."""
    return [r for r in ROLES if ROLE_PERMISSIONS[r] <= permissions]


def _check_role(admin: Admin, role: str) -> None:
    if role not in ROLES:
        raise AdminError(f"role must be one of {', '.join(ROLES)}", field="role")
    if role not in grantable_roles(admin.permissions):
        extra = ROLE_PERMISSIONS[role] - admin.permissions
        raise AdminError(
            f"you cannot grant the role {role!r}: it holds {sorted(extra)[0]!r}, which you do not",
            field="role",
            status=403,
        )


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AdminError(f"use at least {MIN_PASSWORD} characters", field="password")


def manageable_ids(session: Session, scope: Scope, users: Sequence[User]) -> set[int]:
    """The ids of ``users`` whose units all lie in ``scope`` (one query for any number)."""
    inside = set(session.scalars(scope.units_subquery()))
    return {u.id for u in users if set(u.unit_ids) <= inside}


def manageable_user(session: Session, admin: Admin, user_id: int) -> User:
    """The user when every one of their units is in the admin's scope (404 otherwise)."""
    user = session.scalar(
        select(User).where(User.id == user_id, visible_users_condition(admin.scope))
    )
    if user is None:
        raise AdminError("user not found", status=404)
    if not manageable_ids(session, admin.scope, [user]):
        raise AdminError(
            "this user also belongs to units outside your scope; ask an administrator above them",
            status=403,
        )
    return user


def add_user(
    session: Session,
    admin: Admin,
    *,
    email: str,
    name: str,
    role: str,
    unit_ids: Sequence[int],
    password: str,
    language: str | None = None,
) -> User:
    _check_role(admin, role)
    units = _check_units(session, admin.scope, unit_ids)
    check_password(password)
    if language not in (None, "", "en", "ja"):
        raise AdminError("language must be en or ja", field="language")
    try:
        user = create_user(
            session=session,
            email=email,
            name=name.strip() or email.split("@")[0],
            role=role,
            units=units,
            password=password,
            language=language or None,
        )
    except ValueError as exc:
        raise AdminError(str(exc), field="email") from None
    audit.record(
        session,
        admin.actor,
        "user_created",
        target_type="user",
        target_id=user.id,
        org_unit_id=units[0].id,
        role=role,
        unit_ids=sorted(u.id for u in units),
    )
    return user


def change_access(
    session: Session, admin: Admin, user_id: int, *, role: str, unit_ids: Sequence[int]
) -> User:
    user = manageable_user(session, admin, user_id)
    _check_role(admin, role)
    _check_units(session, admin.scope, unit_ids)
    if user.id == admin.user_id and role != user.role:
        raise AdminError("you cannot change your own role", field="role", status=403)
    before = {"role": user.role, "unit_ids": user.unit_ids}
    set_user_access(session=session, user=user, role=role, unit_ids=list(unit_ids))
    after = {"role": user.role, "unit_ids": user.unit_ids}
    _audit_user(session, admin, "permission_change", user, before=before, after=after)
    return user


def _audit_user(session: Session, admin: Admin, action: str, user: User, **detail: object) -> None:
    audit.record(
        session,
        admin.actor,
        action,
        target_type="user",
        target_id=user.id,
        org_unit_id=user.unit_ids[0],
        **detail,
    )


def _end_sessions(session: Session, user: User) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))


def set_active(session: Session, admin: Admin, user_id: int, active: bool) -> User:
    user = manageable_user(session, admin, user_id)
    if user.id == admin.user_id and not active:
        raise AdminError("you cannot deactivate yourself", field="is_active", status=403)
    if user.is_active != active:
        user.is_active = active
        if not active:
            _end_sessions(session, user)
        _audit_user(session, admin, "user_activated" if active else "user_deactivated", user)
    return user


def unlock(session: Session, admin: Admin, user_id: int) -> User:
    user = manageable_user(session, admin, user_id)
    user.failed_logins = 0
    user.locked_until = None
    _audit_user(session, admin, "user_unlocked", user)
    return user


def reset_password(session: Session, admin: Admin, user_id: int, password: str) -> User:
    """Set a new password chosen by the admin; the user's open sessions end."""
    from cxloop.security import hash_password

    user = manageable_user(session, admin, user_id)
    check_password(password)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    _end_sessions(session, user)
    _audit_user(session, admin, "password_reset", user)
    return user


def is_locked(user: User, now: datetime | None = None) -> bool:
    return user.locked_until is not None and user.locked_until > (now or utcnow())


# --- API keys -------------------------------------------------------------------------


def visible_keys(
    session: Session, scope: Scope, *, limit: int = 50, offset: int = 0
) -> tuple[list[ApiKey], int]:
    base = select(ApiKey).where(scope.condition(ApiKey.org_unit_id))
    count = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(base.order_by(ApiKey.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), count


def add_api_key(
    session: Session,
    admin: Admin,
    *,
    name: str,
    scopes: Sequence[str],
    unit_id: int,
    creator: User | None,
) -> tuple[str, ApiKey]:
    """A new key limited to ``unit_id``; the full key is returned once."""
    if not name.strip():
        raise AdminError("give the key a name", field="name")
    unit = _check_units(session, admin.scope, [unit_id])[0]
    try:
        wanted = check_scopes(list(scopes))
    except ValueError as exc:
        raise AdminError(str(exc), field="scopes") from None
    if not wanted:
        raise AdminError("choose at least one scope", field="scopes")
    beyond = [s for s in wanted if s not in admin.permissions]
    if beyond:
        raise AdminError(
            f"you cannot grant {beyond[0]!r}: you do not hold it", field="scopes", status=403
        )
    key, row = create_api_key(
        session=session,
        name=name.strip()[:200],
        scopes=wanted,
        unit=unit,
        created_by=creator,
        actor=admin.actor,
    )
    return key, row


def revoke_api_key(session: Session, admin: Admin, key_id: int) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None or not admin.scope.contains(session, row.org_unit_id):
        raise AdminError("API key not found", status=404)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(
            session,
            admin.actor,
            "api_key_revoked",
            target_type="api_key",
            target_id=row.id,
            org_unit_id=row.org_unit_id,
        )
    return row
