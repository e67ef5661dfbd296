"""Logins with lock-out, browser sessions and API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cxloop.security import (
    api_key_matches,
    check_scopes,
    new_api_key,
    new_token,
    parse_api_key,
    sha256,
    verify_password,
)
from cxloop.store import audit
from cxloop.store.base import utcnow
from cxloop.store.models.auth import ApiKey, WebSession
from cxloop.store.models.org import OrgUnit, User


class LoginResult(Enum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"


@dataclass(frozen=True)
class LoginOutcome:
    result: LoginResult
    user: User | None = None


def authenticate(
    *,
    session: Session,
    email: str,
    password: str,
    max_failures: int,
    lockout_minutes: int,
    ip: str | None = None,
) -> LoginOutcome:
    email = email.strip().lower()
    user = session.scalar(select(User).where(User.email == email))
    now = utcnow()
    if user is not None and user.locked_until and user.locked_until > now:
        verify_password(None, password)  # same cost as a real check
        audit.record(
            session, _actor(user, ip), "login_locked", target_type="user", target_id=user.id
        )
        return LoginOutcome(LoginResult.LOCKED)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= max_failures:
                user.locked_until = now + timedelta(minutes=lockout_minutes)
                user.failed_logins = 0
        audit.record(
            session,
            _actor(user, ip) if user else audit.Actor(label=email[:254], ip=ip),
            "login_failed",
            target_type="user",
            target_id=user.id if user else None,
        )
        return LoginOutcome(LoginResult.BAD_CREDENTIALS)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, _actor(user, ip), "login", target_type="user", target_id=user.id)
    return LoginOutcome(LoginResult.OK, user)


def _actor(user: User, ip: str | None) -> audit.Actor:
    return audit.Actor(user_id=user.id, label=user.email, ip=ip)


def start_session(*, session: Session, user: User, hours: int) -> tuple[str, WebSession]:
    """A new browser session; returns the cookie token (only its hash is stored)."""
    token = new_token()
    web = WebSession(
        id=sha256(token),
        user_id=user.id,
        csrf_token=new_token(24),
        expires_at=utcnow() + timedelta(hours=hours),
    )
    session.add(web)
    session.flush()
    return token, web


def load_session(session: Session, token: str) -> tuple[WebSession, User] | None:
    web = session.get(WebSession, sha256(token))
    if web is None or web.expires_at <= utcnow():
        return None
    user = session.get(User, web.user_id)
    if user is None or not user.is_active:
        return None
    return web, user


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == sha256(token)))


def create_api_key(
    *,
    session: Session,
    name: str,
    scopes: list[str],
    unit: OrgUnit,
    created_by: User | None = None,
    actor: audit.Actor | None = None,
) -> tuple[str, ApiKey]:
    """A new key; the full key is returned once and never stored."""
    key, prefix, key_hash = new_api_key()
    row = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=key_hash,
        scopes=check_scopes(scopes),
        org_unit_id=unit.id,
        created_by_id=created_by.id if created_by else None,
    )
    session.add(row)
    session.flush()
    if actor is None:
        actor = (
            audit.Actor(user_id=created_by.id, label=created_by.email)
            if created_by
            else audit.SYSTEM
        )
    audit.record(
        session,
        actor,
        "api_key_created",
        target_type="api_key",
        target_id=row.id,
        org_unit_id=unit.id,
        scopes=row.scopes,
    )
    return key, row


def resolve_api_key(session: Session, key: str) -> ApiKey | None:
    prefix = parse_api_key(key)
    if prefix is None:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None or row.revoked_at is not None or not api_key_matches(key, row.key_hash):
        return None
    now = utcnow()
    # Stamped at most once a minute: a write on every call would hold SQLite's write lock
    # for the length of every API request.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
    return row
