"""Login, logout, language and org-unit switch."""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from cxloop.security import new_token
from cxloop.store import accounts, audit
from cxloop.store.accounts import LoginResult
from cxloop.web.deps import (
    LANG_COOKIE,
    SESSION_COOKIE,
    PageUser,
    SessionDep,
    SettingsDep,
    request_language,
    signer,
)
from cxloop.web.errors import ApiError
from cxloop.web.i18n import LANGUAGES
from cxloop.web.render import render

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "cxloop_login_csrf"


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our login page.
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parsed = urlparse(target)
    return target if not parsed.netloc and not parsed.scheme else "/"


def _login_page(
    request: Request,
    settings: SettingsDep,
    *,
    error: str | None = None,
    status: int = 200,
    next_url: str = "/",
) -> Response:
    token = new_token(24)
    lang = request_language(request, None, settings)
    response = render(
        request,
        "login.html",
        None,
        lang=lang,
        status_code=status,
        csrf_token=token,
        error=error,
        next_url=next_url,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.base_url.startswith("https"),
    )
    return response


@router.get("/login")
def login_form(request: Request, settings: SettingsDep, next: str | None = None) -> Response:
    return _login_page(request, settings, next_url=_safe_next(next))


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not csrf_token or not cookie or not hmac.compare_digest(csrf_token, cookie):
        return _login_page(request, settings, error="login.error.csrf", status=403)
    outcome = accounts.authenticate(
        session=session,
        email=email,
        password=password,
        max_failures=settings.login_max_failures,
        lockout_minutes=settings.login_lockout_minutes,
        ip=request.client.host if request.client else None,
    )
    if outcome.result is LoginResult.LOCKED:
        return _login_page(request, settings, error="login.error.locked", status=429)
    if outcome.result is not LoginResult.OK or outcome.user is None:
        return _login_page(request, settings, error="login.error.invalid", status=401)
    token, _ = accounts.start_session(
        session=session, user=outcome.user, hours=settings.session_hours
    )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signer(settings).sign(token).decode(),
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.base_url.startswith("https"),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(
    request: Request, principal: PageUser, session: SessionDep, settings: SettingsDep
) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    token = signer(settings).unsign(cookie).decode()
    accounts.end_session(session, token)
    audit.record(
        session, principal.actor, "logout", target_type="user", target_id=principal.actor.user_id
    )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/settings/language")
def set_language(
    principal: PageUser,
    session: SessionDep,
    language: Annotated[str, Form()],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    if language not in LANGUAGES:
        raise ApiError(422, f"language must be one of {', '.join(LANGUAGES)}", field="language")
    assert principal.user is not None
    principal.user.language = language
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, language, samesite="lax", max_age=365 * 86400)
    return response


@router.post("/settings/unit")
def switch_unit(
    principal: PageUser,
    session: SessionDep,
    unit_id: Annotated[str, Form()] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    assert principal.user is not None and principal.web_session is not None
    from cxloop.store.scope import Scope

    full = Scope.for_units(session, principal.user.unit_ids)
    chosen = int(unit_id) if unit_id.isdigit() else None
    if chosen is not None and not full.contains(session, chosen):
        raise ApiError(404, "org unit not found", field="unit_id")
    principal.web_session.current_unit_id = chosen
    return RedirectResponse(_safe_next(next), status_code=303)
