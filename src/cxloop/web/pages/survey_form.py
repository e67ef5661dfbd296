"""The public survey form: personal links, the anonymous public link and the widget.

No login: a personal link's token is the credential (an HMAC, single use); every form
also carries a signed, expiring form key that ties each POST to the form it came from.
Requests are size-limited and rate-limited per link.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from cxloop.config import Settings
from cxloop.security import new_token
from cxloop.signals.survey_invitations import (
    resolve_token,
    token_invitation_id,
    token_matches,
    unsubscribe,
)
from cxloop.signals.survey_logic import (
    AnswerError,
    merge_answers,
    missing_required,
    visible_questions,
)
from cxloop.signals.survey_responses import Form, open_invitation, save_answers
from cxloop.signals.survey_submit import complete, open_personal
from cxloop.signals.surveys import title_in
from cxloop.store.base import utcnow
from cxloop.web.deps import SessionDep, SettingsDep
from cxloop.web.errors import ApiError
from cxloop.web.i18n import negotiate
from cxloop.web.pages._survey_form_input import (
    PostedForm,
    _check_form_key,
    _form_key,
    _guard,
    _lang,
    answers_from,
)
from cxloop.web.render import render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    form: Form,
    *,
    base: str,
    form_key: str,
    error: AnswerError | None = None,
    widget: bool = False,
    status: int = 200,
) -> Response:
    if form.state != "open":
        return _state_page(request, form, base=base, status=status)
    lang = form.language
    visible = {q.id for q in visible_questions(form.definition, form.answers)}
    response = render(
        request,
        "surveys/form.html",
        None,
        lang=lang,
        status_code=status,
        form=form,
        definition=form.definition,
        answers=form.answers,
        visible=visible,
        title=title_in(form.survey, lang),
        base=base,
        form_key=form_key,
        error=error,
        widget=widget,
    )
    if widget:
        origins = " ".join(form.survey.embed_origins) or "*"
        response.headers["content-security-policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data:; connect-src 'self'; frame-ancestors {origins}; "
            "base-uri 'self'; form-action 'self'"
        )
    return response


def _state_page(request: Request, form: Form, *, base: str, status: int = 200) -> Response:
    """Used, closed or expired: a friendly page. A re-submission of a used link is a 409."""
    lang = form.language
    code = 410 if form.state in ("closed", "expired") else status
    return render(
        request,
        "surveys/form_state.html",
        None,
        lang=lang,
        status_code=code,
        state=form.state,
        title=title_in(form.survey, lang),
        thanks=form.definition.thanks.get(lang) if form.definition.thanks else None,
        base=base,
    )


class _InvalidLink(ApiError):
    def __init__(self) -> None:
        super().__init__(404, "this survey link is not valid")


def invalid_link_page(request: Request) -> Response:
    lang = _lang(request, negotiate(request.headers.get("accept-language")))
    return render(
        request,
        "surveys/form_state.html",
        None,
        lang=lang,
        status_code=404,
        state="invalid",
        title="",
        thanks=None,
        base="",
    )


def _friendly(handler: Callable[..., Response]) -> Callable[..., Response]:
    """GET pages answer an unknown link with a friendly page rather than JSON."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return handler(*args, **kwargs)
        except _InvalidLink:
            return invalid_link_page(kwargs["request"])

    return wrapper


def _personal(session: Session, settings: Settings, token: str, request: Request) -> Form:
    inv = resolve_token(session, settings.secret_keys, token)
    if inv is None:
        raise _InvalidLink
    return open_invitation(
        session=session, inv=inv, now=utcnow(), language=_lang(request, inv.language)
    )


@router.get("/s/{token}")
@_friendly
def personal_form(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    form = _personal(session, settings, token, request)
    key = _form_key(settings, f"i{form.invitation.id if form.invitation else 0}", new_token(8))
    return _page(request, form, base=f"/s/{token}", form_key=key)


@router.post("/s/{token}/answer")
def personal_answer(
    token: str,
    request: Request,
    data: PostedForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Save the answers in this request (one question, from the form's script)."""
    _guard(f"t:{token}")
    form = _personal(session, settings, token, request)
    return _save_one(request, data, session, settings, form, ref=f"i{_inv_id(form)}")


@router.post("/s/{token}")
def personal_submit(
    token: str,
    request: Request,
    data: PostedForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    _guard(f"t:{token}")
    done = quick_submit(request, data, session, settings, token)
    if done is not None:
        return done
    form = _personal(session, settings, token, request)
    return _submit(
        request, data, session, settings, form, ref=f"i{_inv_id(form)}", base=f"/s/{token}"
    )


def quick_submit(
    request: Request, data: FormData, session: Session, settings: Settings, token: str
) -> Response | None:
    """Submit an open customer survey's personal link in a few Core statements; ``None``
    (nothing written) for anything else, which the ORM path then answers in full."""
    ident = token_invitation_id(token)
    now = utcnow()
    form = open_personal(session, ident, now) if ident is not None else None
    if form is None or not token_matches(settings.secret_keys, form.invitation, token):
        return None
    if form.state != "open" or form.survey.kind == "pulse":
        return None
    given, key = answers_from(data, form.definition)
    _check_form_key(settings, key, f"i{form.invitation.id}")
    try:
        answers = merge_answers(form.definition, form.answers, given)
    except AnswerError:
        return None
    if missing_required(form.definition, answers):
        return None
    lang = _lang(request, form.invitation.language)
    complete(session, form, answers, language=lang, now=now)
    return RedirectResponse(f"/s/{token}/thanks?lang={lang}", status_code=303)


def _inv_id(form: Form) -> int:
    return form.invitation.id if form.invitation else 0


def _save_one(
    request: Request,
    data: FormData,
    session: Session,
    settings: Settings,
    form: Form,
    *,
    ref: str,
) -> Response:
    given, key = answers_from(data, form.definition)
    nonce = _check_form_key(settings, key, ref)
    asked = request.query_params.get("q")
    if asked:
        given = {asked: given.get(asked)} if asked in given else {asked: None}
    if form.state != "open":
        return JSONResponse({"state": form.state}, status_code=409)
    try:
        save_answers(
            session=session,
            form=form,
            given=given,
            complete=False,
            now=utcnow(),
            nonce=nonce if ref.startswith("p") else None,
        )
    except AnswerError as exc:
        raise ApiError(422, exc.message, field=exc.question) from None
    visible = [q.id for q in visible_questions(form.definition, form.answers)]
    return JSONResponse({"saved": sorted(given), "visible": visible})


def _submit(
    request: Request,
    data: FormData,
    session: Session,
    settings: Settings,
    form: Form,
    *,
    ref: str,
    base: str,
    widget: bool = False,
) -> Response:
    given, key = answers_from(data, form.definition)
    nonce = _check_form_key(settings, key, ref)
    if form.state != "open":
        # A second submission never replaces the first: say so, change nothing.
        return _state_page(request, form, base=base, status=409)
    try:
        save_answers(
            session=session,
            form=form,
            given=given,
            complete=True,
            now=utcnow(),
            nonce=nonce if ref.startswith("p") else None,
        )
    except AnswerError as exc:
        form.answers = {**form.answers, **{k: v for k, v in given.items() if v}}
        return _page(
            request, form, base=base, form_key=key or "", error=exc, widget=widget, status=422
        )
    lang = f"?lang={form.language}"
    return RedirectResponse(f"{base}/thanks{lang}", status_code=303)


@router.get("/s/{token}/thanks")
@_friendly
def personal_thanks(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    form = _personal(session, settings, token, request)
    form.state = "used" if form.state == "used" else form.state
    return _thanks(request, form, base=f"/s/{token}")


def _thanks(request: Request, form: Form, *, base: str) -> Response:
    lang = form.language
    return render(
        request,
        "surveys/form_state.html",
        None,
        lang=lang,
        state="thanks" if form.state == "used" else form.state,
        title=title_in(form.survey, lang),
        thanks=form.definition.thanks.get(lang) if form.definition.thanks else None,
        base=base,
    )


@router.get("/s/{token}/unsubscribe")
@_friendly
def unsubscribe_form(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    form = _personal(session, settings, token, request)
    key = _form_key(settings, f"u{_inv_id(form)}", new_token(8))
    return render(
        request,
        "surveys/unsubscribe.html",
        None,
        lang=form.language,
        done=False,
        form_key=key,
        base=f"/s/{token}",
        title=title_in(form.survey, form.language),
    )


@router.post("/s/{token}/unsubscribe")
def unsubscribe_confirm(
    token: str,
    request: Request,
    data: PostedForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    _guard(f"t:{token}")
    form = _personal(session, settings, token, request)
    key = data.get("form_key")
    _check_form_key(settings, key if isinstance(key, str) else None, f"u{_inv_id(form)}")
    assert form.invitation is not None
    unsubscribe(session=session, inv=form.invitation)
    return render(
        request,
        "surveys/unsubscribe.html",
        None,
        lang=form.language,
        done=True,
        base=f"/s/{token}",
        title=title_in(form.survey, form.language),
    )
