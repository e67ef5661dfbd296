"""What a survey form POST brings and the limits on it: body size and field count, per-link
and per-visitor rate limits, the signed form key, the language asked for, and the answers
read out of the posted fields. Shared by the form's pages, the public link and the ASGI
fast path."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from itsdangerous import BadSignature, TimestampSigner
from starlette.datastructures import FormData, UploadFile

from cxloop.config import Settings
from cxloop.security import key_ring_signer
from cxloop.signals.survey_definitions import SurveyDefinition
from cxloop.web.errors import ApiError
from cxloop.web.i18n import LANGUAGES, negotiate

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
