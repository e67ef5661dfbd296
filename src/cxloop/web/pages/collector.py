"""The public collector's state and the tracker script (``GET /t.js``).

``POST /collect`` and ``OPTIONS /collect`` are answered by :mod:`.collector_asgi` ahead of
FastAPI's routing. Both are public and site-key based: bodies are capped at 64 KiB on the
wire and 256 KiB unzipped, each (site key, client IP) has a token bucket, and CORS answers
only a site's allowed origins. Checks run in the request; storing goes to the group-commit
writer.
"""

from __future__ import annotations

import gzip
import hashlib
import time
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from cxloop.signals.digital_collect import RateLimiter
from cxloop.signals.digital_sites import SiteCache
from cxloop.signals.digital_writer import BatchWriter
from cxloop.store.engine import session_factory
from cxloop.store.models.digital import DigitalSite

router = APIRouter(include_in_schema=False)

TRACKER = Path(__file__).resolve().parents[1] / "static" / "tracker.js"


class CollectorState:
    """Per-app collector machinery: writer (and its tally of rejections that name no
    active site), site cache, rate limiter."""

    def __init__(self, database_url: str) -> None:
        self.sessions = session_factory(database_url)
        self.writer = BatchWriter(database_url)
        self.sites = SiteCache()
        self.limiter = RateLimiter()
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


def collector_state_of(app: Any) -> CollectorState:
    """The app's collector machinery, made on first use (tests reset ``app.state``)."""
    state = getattr(app.state, "digital_collector", None)
    if state is None:
        state = CollectorState(app.state.settings.resolved_database_url)
        app.state.digital_collector = state
    return state


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
