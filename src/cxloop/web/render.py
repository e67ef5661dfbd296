"""Rendering pages: the Jinja2 environment (autoescape on) and the shared page context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from cxloop.store.org import subtree
from cxloop.store.scope import Scope
from cxloop.web.deps import Principal
from cxloop.web.i18n import translator

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def localtime(value: datetime | None, tz: str | None = None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC datetime shown in ``tz`` (an IANA zone) with the zone's abbreviation."""
    if value is None:
        return ""
    try:
        zone = ZoneInfo(tz) if tz else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    local = value.astimezone(zone)
    return f"{local.strftime(fmt)} {local.tzname() or ''}".strip()


templates.env.filters["localtime"] = localtime
STAGES = ("signals", "insight", "engage", "act")


@dataclass(frozen=True)
class NavItem:
    """A link in the navigation, under one of the four stages."""

    stage: str
    label_key: str
    path: str
    permission: str | None = None
    order: int = 50


def nav_items() -> list[NavItem]:
    from cxloop.plugins import submodules

    items: list[NavItem] = []
    for module in submodules("cxloop.web.pages"):
        items.extend(getattr(module, "NAV", []))
    return sorted(items, key=lambda i: (STAGES.index(i.stage), i.order, i.path))


def render(
    request: Request,
    name: str,
    principal: Principal | None,
    *,
    session: Session | None = None,
    lang: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    language = lang or (principal.language if principal else "en")
    ctx: dict[str, Any] = {
        "t": translator(language),
        "lang": language,
        "principal": principal,
        "user": principal.user if principal else None,
        "csrf_token": principal.web_session.csrf_token
        if principal and principal.web_session
        else context.pop("csrf_token", ""),
        "path": request.url.path,
    }
    if principal is not None and principal.user is not None:
        ctx["tz"] = _home_timezone(session, principal.user.unit_ids) if session else None
        ctx["nav"] = [
            i for i in request.app.state.nav if i.permission is None or principal.can(i.permission)
        ]
        if session is not None:
            full = Scope.for_units(session, principal.user.unit_ids)
            ctx["switch_units"] = subtree(session, full.unit_paths)
            ctx["current_unit_id"] = (
                principal.web_session.current_unit_id if principal.web_session else None
            )
    ctx.update(context)
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def _home_timezone(session: Session, unit_ids: list[int]) -> str | None:
    """Times on pages are shown in the time zone of the viewer's first unit."""
    from cxloop.store.models.org import OrgUnit

    unit = session.get(OrgUnit, unit_ids[0]) if unit_ids else None
    return unit.timezone if unit else None
