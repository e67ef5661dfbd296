"""Request dependencies: settings, the per-request transaction, the caller and their scope."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from huey import Huey
from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.security import ROLE_PERMISSIONS, key_ring_signer
from cxloop.store import accounts, audit
from cxloop.store.engine import session_factory
from cxloop.store.models.auth import ApiKey, WebSession
from cxloop.store.models.org import User
from cxloop.store.scope import Scope
from cxloop.web.errors import ApiError, LoginRequired
from cxloop.web.i18n import LANGUAGES, negotiate

SESSION_COOKIE = "cxloop_session"
LANG_COOKIE = "cxloop_lang"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_huey(request: Request) -> Huey:
    return request.app.state.huey


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, else rolled back."""
    session = session_factory(get_settings(request).resolved_database_url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
HueyDep = Annotated[Huey, Depends(get_huey)]


@dataclass
class Principal:
    """Who is calling: a logged-in user or an API key, with what they may see and do."""

    user: User | None
    api_key: ApiKey | None
    permissions: frozenset[str]
    scope: Scope
    web_session: WebSession | None
    language: str
    actor: audit.Actor

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise ApiError(403, f"this action needs the {permission!r} permission")

    @property
    def role(self) -> str:
        return self.user.role if self.user else "api_key"


def signer(settings: Settings) -> TimestampSigner:
    return key_ring_signer(settings.secret_keys, "cxloop-session")


def request_language(request: Request, user: User | None, settings: Settings) -> str:
    if user is not None and user.language in LANGUAGES:
        return user.language
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return negotiate(request.headers.get("accept-language"), settings.default_language)


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def sent_csrf_token(request: Request) -> str | None:
    """The CSRF token the request carries (header or form field). Async because reading a
    form is; it touches no database, so the event loop never waits on a lock."""
    if request.method not in UNSAFE:
        return None
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    return sent


def _check_csrf(sent: str | None, web: WebSession) -> None:
    if not sent or not hmac.compare_digest(sent, web.csrf_token):
        raise ApiError(403, "missing or invalid CSRF token", field="csrf_token", code="csrf")


def _resolve(
    request: Request, session: Session, settings: Settings, csrf: str | None
) -> Principal | None:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "Authorization header must be 'Bearer <api key>'")
        key = accounts.resolve_api_key(session, token.strip())
        if key is None:
            raise ApiError(401, "invalid or revoked API key")
        return Principal(
            user=None,
            api_key=key,
            permissions=frozenset(key.scopes),
            scope=Scope.for_units(session, [key.org_unit_id]),
            web_session=None,
            language=request_language(request, None, settings),
            actor=audit.Actor(
                api_key_id=key.id, label=f"api key {key.name}", ip=_client_ip(request)
            ),
        )
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        token = signer(settings).unsign(cookie, max_age=settings.session_hours * 3600).decode()
    except BadSignature:
        return None
    loaded = accounts.load_session(session, token)
    if loaded is None:
        return None
    web, user = loaded
    if request.method in UNSAFE:
        _check_csrf(csrf, web)
    full = Scope.for_units(session, user.unit_ids)
    return Principal(
        user=user,
        api_key=None,
        permissions=ROLE_PERMISSIONS.get(user.role, frozenset()),
        scope=full.narrowed(session, web.current_unit_id),
        web_session=web,
        language=request_language(request, user, settings),
        actor=audit.Actor(user_id=user.id, label=user.email, ip=_client_ip(request)),
    )


CsrfDep = Annotated[str | None, Depends(sent_csrf_token)]


# Sync on purpose: FastAPI runs these in its thread pool, so a database wait (a row lock)
# never blocks the event loop and every other request with it.
def api_principal(
    request: Request, session: SessionDep, settings: SettingsDep, csrf: CsrfDep
) -> Principal:
    principal = _resolve(request, session, settings, csrf)
    if principal is None:
        raise ApiError(401, "authentication required: send a session cookie or a Bearer API key")
    return principal


def page_principal(
    request: Request, session: SessionDep, settings: SettingsDep, csrf: CsrfDep
) -> Principal:
    principal = _resolve(request, session, settings, csrf)
    if principal is None or principal.user is None:
        raise LoginRequired
    return principal


CurrentPrincipal = Annotated[Principal, Depends(api_principal)]
PageUser = Annotated[Principal, Depends(page_principal)]


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PageParams:
    return PageParams(limit, offset)


Pagination = Annotated[PageParams, Depends(page_params)]
