"""The audit log page: filters by action, actor and dates, paging, and an audited CSV export,
inside the caller's scope (entries with no unit only for company-wide auditors)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cxloop.csv_export import csv_download, to_csv
from cxloop.store import audit
from cxloop.store.admin import AdminError
from cxloop.web.api.admin import admin_errors
from cxloop.web.deps import PageUser, Principal, SessionDep
from cxloop.web.pages.admin import PAGE_SIZE
from cxloop.web.render import render

router = APIRouter(include_in_schema=False)

AUDIT_COLUMNS = ("at", "actor", "action", "target_type", "target_id", "org_unit_id", "ip")


def _day(value: str, field: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise AdminError(f"{value!r} is not a date (YYYY-MM-DD)", field=field) from None


def _audit_query(
    principal: Principal, action: str, actor: str, since: str, until: str
) -> dict[str, Any]:
    principal.require("audit:read")
    first, last = _day(since, "since"), _day(until, "until")
    return {
        "action": action or None,
        "actor": actor or None,
        "since": datetime.combine(first, time()) if first else None,
        "until": datetime.combine(last + timedelta(days=1), time()) if last else None,
    }


@router.get("/admin/audit")
def audit_page(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    action: str = "",
    actor: str = "",
    since: str = "",
    until: str = "",
    offset: int = 0,
) -> Response:
    error: AdminError | None = None
    try:
        query = _audit_query(principal, action, actor, since, until)
    except AdminError as exc:
        error, query = exc, _audit_query(principal, action, actor, "", "")
    rows, count = audit.search(
        session, principal.scope, limit=PAGE_SIZE, offset=max(offset, 0), **query
    )
    return render(
        request,
        "admin/audit.html",
        principal,
        session=session,
        status_code=error.status if error else 200,
        entries=rows,
        count=count,
        offset=max(offset, 0),
        page_size=PAGE_SIZE,
        actions=audit.AUDIT_ACTIONS,
        filters={"action": action, "actor": actor, "since": since, "until": until},
        error=error,
        section="audit",
    )


@router.get("/admin/audit.csv")
def audit_csv(
    principal: PageUser,
    session: SessionDep,
    action: str = "",
    actor: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    """Every matching entry (up to 100,000), audited like every export."""
    principal.require("export")
    with admin_errors():
        query = _audit_query(principal, action, actor, since, until)
    rows, _ = audit.search(session, principal.scope, limit=100_000, offset=0, **query)
    body = to_csv(
        AUDIT_COLUMNS,
        (
            (
                e.at.isoformat(),
                e.actor_label,
                e.action,
                e.target_type,
                e.target_id,
                e.org_unit_id,
                e.ip,
            )
            for e in rows
        ),
    )
    audit.record(
        session,
        principal.actor,
        "export",
        target_type="audit_log",
        rows=len(rows),
        filters=query_detail(query),
    )
    return csv_download(body, "audit-log.csv")


def query_detail(query: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in query.items() if v}
