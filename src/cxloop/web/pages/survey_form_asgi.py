"""The survey form's answer and submit POSTs as plain ASGI, ahead of FastAPI's routing.

Submitting a response is the public endpoint hit hundreds of times a second. Matching a
path against every area's routes and solving the dependencies cost more than saving the
answers, so the four hot POSTs are dispatched here straight to the same handlers in
``survey_form`` and ``survey_form_public`` (same rate limit, form key, body limit, pages, errors):

* ``POST /s/{token}`` and ``POST /s/{token}/answer`` - a personal link;
* ``POST /s/{kind}/{public_token}`` and ``POST /s/{kind}/{public_token}/answer`` - the
  public link (``p``) and the widget (``w``).

Every other request, ``POST /s/{token}/unsubscribe`` included, passes through to the
router. Handlers run in the thread pool with one transaction, as under FastAPI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from cxloop.config import Settings
from cxloop.jobs import Nudge
from cxloop.signals import survey_publish
from cxloop.store.engine import session_scope, write_turn
from cxloop.web.errors import ApiError, error_response
from cxloop.web.pages import _survey_form_input, survey_form, survey_form_public

Handler = Callable[..., Response]


def route(path: str) -> tuple[Handler, dict[str, str]] | None:
    """The handler and path parameters of a form POST, as the router would pick them;
    ``None`` for any other path (the router then answers it)."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "" or parts[1] != "s" or "" in parts[2:]:
        return None
    if len(parts) == 3:
        return survey_form.personal_submit, {"token": parts[2]}
    if len(parts) == 4:
        # Declared first in the router: ``/s/p/answer`` is a personal link called "p".
        if parts[3] == "answer":
            return survey_form.personal_answer, {"token": parts[2]}
        if parts[3] == "unsubscribe":
            return None
        return survey_form_public.public_submit, {"kind": parts[2], "public_token": parts[3]}
    if len(parts) == 5 and parts[4] == "answer":
        return survey_form_public.public_answer, {"kind": parts[2], "public_token": parts[3]}
    return None


class SurveyFormFastPath:
    """ASGI middleware: serves the form's POSTs itself, hands everything else to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._one_writer: anyio.CapacityLimiter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = None
        if scope["type"] == "http" and scope["method"] == "POST":
            found = route(scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        handler, params = found
        request = Request(scope, receive)
        try:
            data = await _survey_form_input._posted_form(request)
            limiter = self._limiter(request.app.state.settings)
            response = await anyio.to_thread.run_sync(
                _run, handler, params, request, data, limiter=limiter
            )
        except ApiError as exc:
            response = error_response(exc.status, exc.message, exc.field, exc.code)
        except HTTPException as exc:  # e.g. a malformed multipart body: as the router says
            response = error_response(exc.status_code, str(exc.detail))
        await response(scope, receive, send)

    def _limiter(self, settings: Settings) -> anyio.CapacityLimiter | None:
        """SQLite has one writer, so one thread at a time runs the form's handlers and the
        rest wait in the event loop rather than as threads queued on the write turn (a
        wake-up each). ``None`` (the shared thread pool) on PostgreSQL."""
        if not settings.is_sqlite:
            return None
        if self._one_writer is None:  # made in the running loop, as anyio wants
            self._one_writer = anyio.CapacityLimiter(1)
        return self._one_writer


# A completed response reaches the listeners from this job, queued once committed.
_PUBLISH = Nudge(survey_publish.TASK)


def _run(handler: Handler, params: dict[str, Any], request: Request, data: FormData) -> Response:
    """The handler in one transaction: committed when it returns, else rolled back."""
    settings: Settings = request.app.state.settings
    url = settings.resolved_database_url
    with write_turn(url), session_scope(url) as session:
        response = handler(request=request, data=data, session=session, settings=settings, **params)
    if survey_publish.has_pending(session):
        _PUBLISH(request.app.state.huey)
    return response
