"""The anonymous public link (``/s/p/…``) and the embeddable widget (``/s/w/…``): the same
form as a personal link, rate-limited per visitor, each visit a new response. Registered
after ``survey_form``'s personal-link routes, which win for ``/s/{token}/answer``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from cxloop.config import Settings
from cxloop.security import new_token
from cxloop.signals.survey_responses import Form, open_public
from cxloop.store.models.surveys import Survey
from cxloop.web.deps import SessionDep, SettingsDep
from cxloop.web.errors import ApiError
from cxloop.web.i18n import negotiate
from cxloop.web.pages._survey_form_input import (
    PostedForm,
    _check_form_key,
    _form_key,
    _guard,
    _lang,
    _per_visitor,
)
from cxloop.web.pages.survey_form import (
    _friendly,
    _InvalidLink,
    _page,
    _save_one,
    _submit,
    _thanks,
)

router = APIRouter(include_in_schema=False)


def _public_survey(session: Session, public_token: str) -> Survey:
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
