"""``POST /collect`` and ``OPTIONS /collect`` as plain ASGI, ahead of FastAPI's routing.

The collector is the one endpoint hit hundreds of times a second. FastAPI's routing, request
objects and dependency solving cost more per batch than checking it, so these two methods
are answered here from the raw ASGI scope, with the same checks, counts, CORS and error
bodies as any other endpoint. Every other request (``GET /t.js`` included) passes through.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cxloop.signals.digital_collect import MAX_WIRE_BYTES, Rejected, check_batch, decode_body
from cxloop.signals.digital_ingest import Arrival, Count
from cxloop.signals.digital_sites import SiteInfo
from cxloop.web.errors import error_body
from cxloop.web.pages.collector import CollectorState, collector_state_of

try:  # about three times faster than the stdlib on a 5 KB batch; optional
    import orjson

    def _dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)
except ImportError:  # pragma: no cover - depends on the installed extras

    def _dumps(obj: Any) -> bytes:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


PATH = "/collect"
_BODY_TYPES = ("", "text/plain", "application/json")
_BAD_ORIGIN = "origin not allowed for this site"
_TOO_LARGE = f"body larger than {MAX_WIRE_BYTES} bytes"
_JSON = (b"content-type", b"application/json")
_PREFLIGHT = [
    (b"access-control-allow-methods", b"POST"),
    (b"access-control-allow-headers", b"Content-Type, Content-Encoding"),
    (b"access-control-max-age", b"600"),
]
_VARY = (b"vary", b"Origin")

Headers = list[tuple[bytes, bytes]]


class CollectorFastPath:
    """ASGI middleware: serves ``/collect`` itself, hands everything else to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, _flush_on_shutdown(scope, receive), send)
            return
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        state = collector_state_of(scope["app"])
        method = scope["method"]
        if method == "POST":
            status, payload, headers = await _collect(state, scope, receive)
        elif method == "OPTIONS":
            status, payload, headers = _preflight(state, scope)
        else:
            status, payload = 405, error_body(405, "use POST", None, "method_not_allowed")
            headers = [(b"allow", b"POST, OPTIONS")]
        await _respond(send, status, payload, headers)


def _flush_on_shutdown(scope: Scope, receive: Receive) -> Receive:
    """``receive`` that writes the collector's tally of unattributed rejections when the
    server shuts down, so a graceful stop loses none of them."""

    async def wrapped() -> Message:
        message = await receive()
        if message["type"] == "lifespan.shutdown":
            state = getattr(scope["app"].state, "digital_collector", None)
            if state is not None:
                await asyncio.to_thread(state.writer.flush_unknown)
        return message

    return wrapped


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _cors(origin: str | None) -> Headers:
    if not origin:
        return []
    return [(b"access-control-allow-origin", origin.encode("latin-1")), _VARY]


async def _respond(send: Send, status: int, payload: Any, headers: Headers) -> None:
    if payload is None:
        body = b""
        if status not in (204, 304):
            headers = [*headers, (b"content-length", b"0")]
    else:
        body = _dumps(payload)
        headers = [_JSON, (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    declared = _header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_WIRE_BYTES:
        raise Rejected("too_large", _TOO_LARGE)
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            raise Rejected("malformed_json", "body is not JSON")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_WIRE_BYTES:
            raise Rejected("too_large", _TOO_LARGE)
        chunks.append(chunk)
        more = message.get("more_body", False)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _site(state: CollectorState, site_key: str | None) -> SiteInfo:
    site = state.sites.get(state.sessions, site_key) if site_key else None
    if site is None or not site.active:
        raise Rejected("unknown_site", "unknown or inactive site key", site_key)
    return site


async def _collect(
    state: CollectorState, scope: Scope, receive: Receive
) -> tuple[int, Any, Headers]:
    """Accept one tracker batch (text/plain or JSON, optionally gzip)."""
    origin = _header(scope, b"origin")
    site: SiteInfo | None = None
    try:
        ctype = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if ctype not in _BODY_TYPES:
            raise Rejected("unsupported_media_type", "send the batch as text/plain or JSON")
        raw = await _read_body(scope, receive)
        body = decode_body(raw, _header(scope, b"content-encoding"))
        try:
            checked = check_batch(body, now_ms=int(time.time() * 1000))
        except Rejected as exc:
            if exc.site_key is not None:
                site = _site(state, exc.site_key)
                if not site.allows(origin):
                    raise Rejected("origin_not_allowed", _BAD_ORIGIN) from None
            raise
        site = _site(state, checked.site_key)
        if not site.allows(origin):
            raise Rejected("origin_not_allowed", _BAD_ORIGIN)
        client = scope.get("client")
        if not state.limiter.allow(site.site_key, client[0] if client else "-"):
            raise Rejected("rate_limited", "too many batches; slow down")
    except Rejected as exc:
        headers = _cors(origin if site is not None and site.allows(origin) else None)
        if site is not None and exc.reason != "unknown_site":
            day = datetime.now(UTC).date()
            await state.writer.count([Count(site.id, site.org_unit_id, day, exc.reason)])
        else:  # no active site to count against: tallied in memory, written in batches
            state.writer.tally_unknown(exc.site_key, exc.reason)
        if exc.status == 429:
            headers.append((b"retry-after", b"1"))
        return exc.status, error_body(exc.status, exc.message, None, exc.reason), headers
    outcome = await state.writer.store(Arrival(site, checked, datetime.now(UTC)))
    payload: dict[str, Any] = {"status": outcome, "events": len(checked.events)}
    if checked.dropped:
        payload["dropped_out_of_time_range"] = checked.dropped
    return 200, payload, _cors(origin)


def _preflight(state: CollectorState, scope: Scope) -> tuple[int, Any, Headers]:
    origin = _header(scope, b"origin")
    keys = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("k")
    if keys and keys[0]:
        site = state.sites.get(state.sessions, keys[0])
        allowed = site is not None and site.active and site.allows(origin)
    else:
        allowed = bool(origin) and state.any_site_allows(origin or "")
    if not origin or not allowed:
        return 403, None, [_VARY]
    return 204, None, [*_cors(origin), *_PREFLIGHT]
