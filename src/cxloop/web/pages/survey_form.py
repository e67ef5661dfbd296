"""The public survey form: personal links, the anonymous public link and the widget.

No login: a personal link's token is the credential (an HMAC, single use); every form
also carries a signed, expiring form key that ties each POST to the form it came from.
Requests are size-limited and rate-limited per link.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from cxloop.config import Settings
from cxloop.security import key_ring_signer, new_token
from cxloop.signals.survey_definitions import SurveyDefinition
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
from cxloop.signals.survey_responses import Form, open_invitation, open_public, save_answers
from cxloop.signals.survey_submit import complete, open_personal
from cxloop.signals.surveys import title_in
from cxloop.store.base import utcnow
from cxloop.store.models.surveys import Survey
from cxloop.web.deps import SessionDep, SettingsDep
from cxloop.web.errors import ApiError
from cxloop.web.i18n import LANGUAGES, negotiate
from cxloop.web.render import render

router = APIRouter(include_in_schema=False)
MAX_FORM_BYTES = 64 * 1024
_MAX_FIELDS = 1000  # Starlette's default: more is a 400
FORM_KEY_MAX_AGE = 3 * 24 * 3600


class _RateLimit:
    """At most ``limit`` requests per ``window`` seconds per key, in this process."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._hits) > 50_000:  # forget idle keys rather than grow without bound
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - 60}
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True


_per_link = _RateLimit(60)
_per_visitor = _RateLimit(120)


def _guard(key: str, limiter: _RateLimit = _per_link) -> None:
    if not limiter.allow(key):
        raise ApiError(429, "too many requests; please wait a minute")


def _signer(settings: Settings) -> TimestampSigner:
    return key_ring_signer(settings.secret_keys, "cxloop-survey-form")


def _form_key(settings: Settings, ref: str, nonce: str) -> str:
    return _signer(settings).sign(f"{ref}|{nonce}").decode()


def _check_form_key(settings: Settings, key: str | None, ref: str) -> str:
    """The nonce of a valid key for ``ref``; raises a 403 otherwise."""
    try:
        value = _signer(settings).unsign(key or "", max_age=FORM_KEY_MAX_AGE).decode()
    except BadSignature:
        raise ApiError(403, "this form has expired; reload the page", field="form_key") from None
    got_ref, _, nonce = value.partition("|")
    if got_ref != ref or not nonce:
        raise ApiError(403, "this form belongs to another survey", field="form_key")
    return nonce


def _lang(request: Request, fallback: str) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    return fallback if fallback in LANGUAGES else negotiate(request.headers.get("accept-language"))


async def _posted_form(request: Request) -> FormData:
    """The posted form, parsed on the event loop; handlers then run in the thread pool
    so that a database wait never blocks the loop (and the commits of other requests)."""
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise ApiError(413, "the form is too large")
    ctype = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        body = await request.body()
        # parse_qsl reads what Starlette's parser reads, at a fifth of its cost; a body with
        # ";" (a separator only to the latter) or too many fields goes to Starlette.
        if b";" not in body and body.count(b"&") < _MAX_FIELDS:
            pairs: list[tuple[str, str | UploadFile]] = []
            pairs += parse_qsl(body.decode("latin-1"), keep_blank_values=True)
            return FormData(pairs)
    return await request.form()


PostedForm = Annotated[FormData, Depends(_posted_form)]


def answers_from(data: FormData, definition: SurveyDefinition) -> tuple[dict[str, Any], str | None]:
    """The answers to ``definition``'s questions in a posted form, and its form key."""
    given: dict[str, Any] = {}
    for q in definition.questions:
        values = [v for v in data.getlist(f"q_{q.id}") if isinstance(v, str)]
        if q.type == "multi":
            given[q.id] = values
        elif values:
            given[q.id] = values[0]
    key = data.get("form_key")
    return given, key if isinstance(key, str) else None


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


# --- anonymous public link and embeddable widget -------------------------------------


def _public_survey(session: Session, public_token: str) -> Survey:
    from sqlalchemy import select

    survey = session.scalar(select(Survey).where(Survey.public_token == public_token))
    if survey is None or not survey.anonymous or survey.kind == "pulse":
        raise _InvalidLink
    return survey


def _public_form(request: Request, session: Session, public_token: str, nonce: str | None) -> Form:
    survey = _public_survey(session, public_token)
    lang = _lang(request, negotiate(request.headers.get("accept-language")))
    return open_public(session=session, survey=survey, nonce=nonce, language=lang)


def _public_get(
    request: Request, session: Session, settings: Settings, public_token: str, widget: bool
) -> Response:
    form = _public_form(request, session, public_token, None)
    key = _form_key(settings, f"p{form.survey.id}", new_token(16))
    prefix = "/s/w/" if widget else "/s/p/"
    return _page(request, form, base=f"{prefix}{public_token}", form_key=key, widget=widget)


@router.get("/s/p/{public_token}")
@_friendly
def public_form(
    public_token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    return _public_get(request, session, settings, public_token, widget=False)


@router.get("/s/w/{public_token}")
@_friendly
def widget_form(
    public_token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    return _public_get(request, session, settings, public_token, widget=True)


def _public_nonce(data: FormData, settings: Settings, survey_id: int) -> str:
    key = data.get("form_key")
    return _check_form_key(settings, key if isinstance(key, str) else None, f"p{survey_id}")


def _open_public(
    kind: str,
    public_token: str,
    request: Request,
    data: FormData,
    session: Session,
    settings: Settings,
) -> tuple[Form, str]:
    """The public link's form for a post, rate-limited per visitor; (form, its ref)."""
    if kind not in ("p", "w"):
        raise ApiError(404, "not found")
    ip = request.client.host if request.client else "?"
    _guard(f"p:{public_token}:{ip}", _per_visitor)
    survey = _public_survey(session, public_token)
    nonce = _public_nonce(data, settings, survey.id)
    return _public_form(request, session, public_token, nonce), f"p{survey.id}"


@router.post("/s/{kind}/{public_token}/answer")
def public_answer(
    kind: str,
    public_token: str,
    request: Request,
    data: PostedForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    form, ref = _open_public(kind, public_token, request, data, session, settings)
    return _save_one(request, data, session, settings, form, ref=ref)


@router.post("/s/{kind}/{public_token}")
def public_submit(
    kind: str,
    public_token: str,
    request: Request,
    data: PostedForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    form, ref = _open_public(kind, public_token, request, data, session, settings)
    return _submit(
        request,
        data,
        session,
        settings,
        form,
        ref=ref,
        base=f"/s/{kind}/{public_token}",
        widget=kind == "w",
    )


@router.get("/s/{kind}/{public_token}/thanks")
@_friendly
def public_thanks(kind: str, public_token: str, request: Request, session: SessionDep) -> Response:
    if kind not in ("p", "w"):
        raise ApiError(404, "not found")
    form = _public_form(request, session, public_token, None)
    form.state = "used"
    return _thanks(request, form, base=f"/s/{kind}/{public_token}")
