"""Admin pages of the act area: the rule editor with dry-run, and the dead-letter list."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response

from cxloop.act import dry_run, notify, rules, views
from cxloop.jobs import enqueue
from cxloop.store.models.act import AlertRule, Delivery, Endpoint
from cxloop.store.models.org import OrgUnit
from cxloop.store.org import subtree
from cxloop.store.scope import scoped_get, scoped_page
from cxloop.web.deps import HueyDep, PageUser, Principal, SessionDep
from cxloop.web.errors import NotFound, visible_or_404
from cxloop.web.render import NavItem, render

router = APIRouter(include_in_schema=False)
NAV = [
    NavItem("act", "act.nav.rules", "/act/rules", "rules:admin", 20),
    NavItem("act", "act.nav.deliveries", "/act/deliveries", "rules:admin", 60),
]
_EXAMPLE_ACTIONS = '[{"type": "open_case", "priority": "high", "sla_hours": 24}]'


def _editor(
    request: Request,
    principal: Principal,
    session: SessionDep,
    *,
    form: dict[str, str],
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    rows, _ = scoped_page(session, principal.scope, AlertRule, order_by=AlertRule.name, limit=500)
    units = subtree(session, principal.scope.unit_paths)
    return render(
        request,
        "act/rules.html",
        principal,
        session=session,
        rules=rows,
        units=units,
        form=form,
        error=error,
        status_code=status_code,
    )


def _blank(principal: Principal, session: SessionDep) -> dict[str, str]:
    units = subtree(session, principal.scope.unit_paths)
    return {
        "name": "",
        "condition": "nps <= 6",
        "actions": _EXAMPLE_ACTIONS,
        "segments": "{}",
        "org_unit_id": str(units[0].id) if units else "",
        "id": "",
    }


@router.get("/act/rules")
def rules_page(
    request: Request, principal: PageUser, session: SessionDep, edit: int | None = None
) -> Response:
    principal.require("rules:admin")
    form = _blank(principal, session)
    if edit is not None:
        rule = visible_or_404(session, principal.scope, AlertRule, edit, "rule")
        form = {
            "name": rule.name,
            "condition": rule.condition,
            "id": str(rule.id),
            "actions": json.dumps(rule.actions, ensure_ascii=False),
            "segments": json.dumps(rule.segments, ensure_ascii=False),
            "org_unit_id": str(rule.org_unit_id),
        }
    return _editor(request, principal, session, form=form)


def _json(text: str, field: str) -> object:
    try:
        return json.loads(text or "null")
    except json.JSONDecodeError as exc:
        raise rules.RuleError(f"{field}: invalid JSON at column {exc.colno}", field=field) from None


@router.post("/act/rules")
def save_rule(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    name: Annotated[str, Form()],
    condition: Annotated[str, Form()],
    actions: Annotated[str, Form()],
    org_unit_id: Annotated[int, Form()],
    segments: Annotated[str, Form()] = "{}",
    id: Annotated[str, Form()] = "",
) -> Response:
    principal.require("rules:admin")
    form = {
        "name": name,
        "condition": condition,
        "actions": actions,
        "segments": segments,
        "org_unit_id": str(org_unit_id),
        "id": id,
    }
    try:
        if not principal.scope.contains(session, org_unit_id):
            raise rules.RuleError("org unit not found", field="org_unit_id")
        parsed_actions = _json(actions, "actions")
        parsed_segments = _json(segments, "segments") or {}
        if not isinstance(parsed_actions, list) or not isinstance(parsed_segments, dict):
            raise rules.RuleError(
                "actions must be a JSON list, segments an object", field="actions"
            )
        if id.isdigit():
            rule = visible_or_404(session, principal.scope, AlertRule, int(id), "rule")
            rules.update_rule(
                session=session,
                rule=rule,
                changes={
                    "name": name,
                    "condition": condition,
                    "actions": parsed_actions,
                    "segments": parsed_segments,
                    "org_unit_id": org_unit_id,
                },
            )
        else:
            rules.create_rule(
                session=session,
                org_unit_id=org_unit_id,
                name=name.strip() or "rule",
                condition=condition,
                actions=parsed_actions,
                segments=parsed_segments,
                created_by_id=principal.user.id if principal.user else None,
            )
    except rules.RuleError as exc:
        session.rollback()
        return _editor(request, principal, session, form=form, error=exc.message, status_code=422)
    return RedirectResponse("/act/rules", status_code=303)


@router.post("/act/rules/{rule_id}/toggle")
def toggle_rule(rule_id: int, principal: PageUser, session: SessionDep) -> Response:
    principal.require("rules:admin")
    rule = visible_or_404(session, principal.scope, AlertRule, rule_id, "rule")
    rules.update_rule(session=session, rule=rule, changes={"is_active": not rule.is_active})
    return RedirectResponse("/act/rules", status_code=303)


@router.post("/act/rules/dry-run")
def dry_run_fragment(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    condition: Annotated[str, Form()],
    org_unit_id: Annotated[int, Form()],
    segments: Annotated[str, Form()] = "{}",
) -> Response:
    """The dry-run result as an HTML fragment for the editor (HTMX)."""
    principal.require("rules:admin")
    result, error = None, None
    try:
        if not principal.scope.contains(session, org_unit_id):
            raise rules.RuleError("org unit not found", field="org_unit_id")
        seg = _json(segments, "segments") or {}
        result = dry_run.dry_run(
            session=session,
            condition=condition,
            org_unit_id=org_unit_id,
            segments=seg if isinstance(seg, dict) else {},
        )
    except rules.RuleError as exc:
        error = exc.message
    units = {u.id: u for u in session.query(OrgUnit).filter(principal.scope.condition(OrgUnit.id))}
    return render(request, "act/_dry_run.html", principal, result=result, error=error, units=units)


@router.get("/act/deliveries")
def deliveries_page(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    status: str = "dead",
    endpoint: int | None = None,
) -> Response:
    """The delivery log; ``dead`` (the default) is the dead-letter list."""
    principal.require("rules:admin")
    status = status if status in ("dead", "pending", "sent", "all") else "dead"
    shown = scoped_get(session, principal.scope, Endpoint, endpoint) if endpoint else None
    if endpoint is not None and shown is None:
        raise NotFound("endpoint")
    rows = views.deliveries(
        session=session,
        scope=principal.scope,
        status=None if status == "all" else status,
        endpoint_id=endpoint,
    )
    return render(
        request,
        "act/deliveries.html",
        principal,
        session=session,
        rows=rows,
        status=status,
        endpoint=shown,
        shown_target=views.shown_target,
    )


@router.post("/act/deliveries/{delivery_id}/resend")
def resend(
    delivery_id: int,
    principal: PageUser,
    session: SessionDep,
    huey: HueyDep,
    background: BackgroundTasks,
) -> Response:
    principal.require("rules:admin")
    delivery = visible_or_404(session, principal.scope, Delivery, delivery_id, "delivery")
    if delivery.status != "sent":
        notify.resend(session=session, delivery=delivery)
        background.add_task(enqueue, huey, "act_send_delivery", delivery.id)
    return RedirectResponse("/act/deliveries?status=all", status_code=303)
