"""The public collector (``POST /collect``) and the tracker script (``GET /t.js``).

Both are public and site-key based: bodies are capped at 64 KiB on the wire and 256 KiB
unzipped, each (site key, client IP) has a token bucket, and CORS answers only a site's
allowed origins. Checks run in the request; storing goes to the group-commit writer.
"""

from __future__ import annotations

import gzip
import hashlib
import time
from collections import Counter
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from cxloop.signals.digital_collect import (
    MAX_WIRE_BYTES,
    CheckedBatch,
    RateLimiter,
    Rejected,
    check_batch,
    decode_body,
)
from cxloop.signals.digital_ingest import Arrival, Count
from cxloop.signals.digital_sites import SiteCache, SiteInfo
from cxloop.signals.digital_writer import BatchWriter
from cxloop.store.engine import session_factory
from cxloop.store.models.digital import DigitalSite
from cxloop.web.errors import error_body

router = APIRouter(include_in_schema=False)

TRACKER = Path(__file__).resolve().parents[1] / "static" / "tracker.js"
_BODY_TYPES = ("", "text/plain", "application/json")
_PREFLIGHT_MAX_AGE = "600"
_BAD_ORIGIN = "origin not allowed for this site"


class CollectorState:
    """Per-app collector machinery: writer, site cache, rate limiter, unattributed counts."""

    def __init__(self, database_url: str) -> None:
        self.sessions = session_factory(database_url)
        self.writer = BatchWriter(database_url)
        self.sites = SiteCache()
        self.limiter = RateLimiter()
        self.unattributed: Counter[str] = Counter()
        self._origins: tuple[float, frozenset[str]] = (0.0, frozenset())

    def any_site_allows(self, origin: str) -> bool:
        """For preflights, which carry no body: does any active site allow ``origin``?"""
        at, origins = self._origins
        if time.monotonic() - at > self.sites.ttl:
            with self.sessions() as session:
                rows = session.scalars(
                    select(DigitalSite.allowed_origins).where(DigitalSite.active.is_(True))
                )
                origins = frozenset(o for row in rows for o in (row or ()))
            self._origins = (time.monotonic(), origins)
        return "*" in origins or origin.lower() in origins


def collector_state(request: Request) -> CollectorState:
    state = getattr(request.app.state, "digital_collector", None)
    if state is None:
        state = CollectorState(request.app.state.settings.resolved_database_url)
        request.app.state.digital_collector = state
    return state


def _cors(origin: str | None) -> dict[str, str]:
    if not origin:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _reject(exc: Rejected, origin_ok: str | None = None) -> JSONResponse:
    headers = _cors(origin_ok)
    if exc.status == 429:
        headers["Retry-After"] = "1"
    return JSONResponse(
        error_body(exc.status, exc.message, None, exc.reason), exc.status, headers=headers
    )


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_WIRE_BYTES:
        raise Rejected("too_large", f"body larger than {MAX_WIRE_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_WIRE_BYTES:
            raise Rejected("too_large", f"body larger than {MAX_WIRE_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _site(state: CollectorState, site_key: str | None) -> SiteInfo:
    site = state.sites.get(state.sessions, site_key) if site_key else None
    if site is None or not site.active:
        raise Rejected("unknown_site", "unknown or inactive site key", site_key)
    return site


def _count(site: SiteInfo, reason: str) -> list[Count]:
    return [Count(site.id, site.org_unit_id, datetime.now(UTC).date(), reason)]


@router.options("/collect")
def collect_preflight(request: Request) -> Response:
    origin = request.headers.get("origin")
    state = collector_state(request)
    key = request.query_params.get("k")
    if key:
        site = state.sites.get(state.sessions, key)
        allowed = site is not None and site.active and site.allows(origin)
    else:
        allowed = bool(origin) and state.any_site_allows(origin or "")
    if not origin or not allowed:
        return Response(status_code=403, headers={"Vary": "Origin"})
    headers = _cors(origin) | {
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Content-Type, Content-Encoding",
        "Access-Control-Max-Age": _PREFLIGHT_MAX_AGE,
    }
    return Response(status_code=204, headers=headers)


@router.post("/collect")
async def collect(request: Request) -> Response:
    """Accept one tracker batch (text/plain or JSON, optionally gzip)."""
    state = collector_state(request)
    origin = request.headers.get("origin")
    site: SiteInfo | None = None
    try:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in _BODY_TYPES:
            raise Rejected("unsupported_media_type", "send the batch as text/plain or JSON")
        body = decode_body(await _read_body(request), request.headers.get("content-encoding"))
        try:
            checked: CheckedBatch = check_batch(body, now_ms=int(time.time() * 1000))
        except Rejected as exc:
            if exc.site_key is not None:
                site = _site(state, exc.site_key)
                if not site.allows(origin):
                    raise Rejected("origin_not_allowed", _BAD_ORIGIN) from None
            raise
        site = _site(state, checked.site_key)
        if not site.allows(origin):
            raise Rejected("origin_not_allowed", _BAD_ORIGIN)
        client = request.client.host if request.client else "-"
        if not state.limiter.allow(site.site_key, client):
            raise Rejected("rate_limited", "too many batches; slow down")
    except Rejected as exc:
        ok_origin = origin if site is not None and site.allows(origin) else None
        if site is not None and exc.reason != "unknown_site":
            await state.writer.count(_count(site, exc.reason))
        else:
            state.unattributed[exc.reason] += 1
        return _reject(exc, ok_origin)
    arrival = Arrival(site, checked, datetime.now(UTC))
    outcome = await state.writer.store(arrival)
    payload: dict[str, Any] = {"status": outcome, "events": len(checked.events)}
    if checked.dropped:
        payload["dropped_out_of_time_range"] = checked.dropped
    return JSONResponse(payload, 200, headers=_cors(origin))


@cache
def _tracker(mtime_ns: int) -> tuple[bytes, bytes, str]:
    raw = TRACKER.read_bytes()
    return raw, gzip.compress(raw, 9, mtime=0), '"' + hashlib.sha256(raw).hexdigest()[:20] + '"'


@router.get("/t.js")
def tracker_js(request: Request) -> Response:
    raw, zipped, etag = _tracker(TRACKER.stat().st_mtime_ns)
    headers = {
        "Cache-Control": "public, max-age=3600",
        "ETag": etag,
        "Vary": "Accept-Encoding",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    media = "application/javascript; charset=utf-8"
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        return Response(zipped, media_type=media, headers=headers | {"Content-Encoding": "gzip"})
    return Response(raw, media_type=media, headers=headers)
