"""Case pages: the scoped inbox, case detail with workflow, recognition feed, backlog."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from cxloop.act import cases, messages, views
from cxloop.act.loop_metrics import loop_metrics
from cxloop.store.base import utcnow
from cxloop.store.models.act import Case, CaseEscalation, RootCause
from cxloop.store.models.org import OrgUnit
from cxloop.web.api._act_common import author, send_after_commit
from cxloop.web.deps import HueyDep, PageUser, Principal, SessionDep
from cxloop.web.errors import ApiError, visible_or_404
from cxloop.web.render import NavItem, render

router = APIRouter(include_in_schema=False)
NAV = [
    NavItem("act", "act.nav.inbox", "/act/cases", "cases:read", 10),
    NavItem("act", "act.nav.recognition", "/act/recognition", "feedback:read", 40),
]


@router.get("/act/cases")
def inbox(
    request: Request, principal: PageUser, session: SessionDep, tab: str | None = None
) -> Response:
    principal.require("cases:read")
    # People who own cases start on their own; overseers start on everything open.
    default = "mine" if principal.role in ("manager", "frontline") else "open"
    tab = tab if tab in views.INBOX_TABS else default
    rows = views.inbox(
        session=session,
        scope=principal.scope,
        tab=tab,
        user_id=principal.user.id if principal.user else None,
        now=utcnow(),
        lang=principal.language,
    )
    now = utcnow()
    metrics = loop_metrics(
        session=session, scope=principal.scope, since=now - timedelta(days=90), now=now
    )
    return render(
        request,
        "act/inbox.html",
        principal,
        session=session,
        rows=rows,
        tab=tab,
        tabs=views.INBOX_TABS,
        metrics=metrics,
    )


def _case(principal: Principal, session: SessionDep, case_id: int) -> Case:
    principal.require("cases:read")
    case = visible_or_404(session, principal.scope, Case, case_id, "case")
    return case


def _detail(
    request: Request,
    principal: Principal,
    session: SessionDep,
    case: Case,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    events = cases.events(session, case)
    escalations = session.scalars(
        select(CaseEscalation).where(CaseEscalation.case_id == case.id)
    ).all()
    ids = {case.owner_user_id, case.escalated_to_user_id, *(e.to_user_id for e in escalations)}
    unit = session.get(OrgUnit, case.org_unit_id)
    cause = session.get(RootCause, case.root_cause_id) if case.root_cause_id else None
    return render(
        request,
        "act/case.html",
        principal,
        session=session,
        case=case,
        events=events,
        escalations=escalations,
        people=views.people(session, ids),
        unit=unit,
        cause=cause,
        root_causes=cases.root_causes(session),
        allowed=sorted(cases.TRANSITIONS[case.status]),
        channels=cases.CONTACT_CHANNELS,
        overdue=cases.is_overdue(case),
        error=error,
        status_code=status_code,
    )


@router.get("/act/cases/{case_id}")
def case_page(case_id: int, request: Request, principal: PageUser, session: SessionDep) -> Response:
    return _detail(request, principal, session, _case(principal, session, case_id))


def _back(case_id: int) -> Response:
    return RedirectResponse(f"/act/cases/{case_id}", status_code=303)


@router.post("/act/cases/{case_id}/status")
def post_status(
    case_id: int,
    request: Request,
    principal: PageUser,
    session: SessionDep,
    status: Annotated[str, Form()],
    root_cause_id: Annotated[str, Form()] = "",
    resolution: Annotated[str, Form()] = "",
) -> Response:
    case = _case(principal, session, case_id)
    principal.require("cases:write")
    try:
        cases.change_status(
            session=session,
            case=case,
            status=status,
            author=author(principal),
            root_cause_id=int(root_cause_id) if root_cause_id.isdigit() else None,
            resolution=resolution.strip() or None,
        )
    except cases.CaseError as exc:
        session.rollback()
        case = _case(principal, session, case_id)
        return _detail(request, principal, session, case, exc.message, 422)
    return _back(case_id)


@router.post("/act/cases/{case_id}/notes")
def post_note(
    case_id: int,
    request: Request,
    principal: PageUser,
    session: SessionDep,
    body: Annotated[str, Form()] = "",
) -> Response:
    case = _case(principal, session, case_id)
    principal.require("cases:write")
    try:
        cases.add_note(session=session, case=case, body=body, author=author(principal))
    except cases.CaseError as exc:
        return _detail(request, principal, session, case, exc.message, 422)
    return _back(case_id)


@router.post("/act/cases/{case_id}/contacts")
def post_contact(
    case_id: int,
    request: Request,
    principal: PageUser,
    session: SessionDep,
    channel: Annotated[str, Form()],
    body: Annotated[str, Form()] = "",
    reached: Annotated[str, Form()] = "",
) -> Response:
    case = _case(principal, session, case_id)
    principal.require("cases:write")
    try:
        cases.add_contact(
            session=session,
            case=case,
            channel=channel,
            body=body,
            reached=bool(reached),
            author=author(principal),
        )
    except cases.CaseError as exc:
        session.rollback()
        case = _case(principal, session, case_id)
        return _detail(request, principal, session, case, exc.message, 422)
    return _back(case_id)


@router.get("/act/recognition")
def recognition(request: Request, principal: PageUser, session: SessionDep) -> Response:
    principal.require("feedback:read")
    feed = messages.recognition_feed(
        session=session, scope=principal.scope, lang=principal.language
    )
    mine = messages.messages_for(session=session, user=principal.user, lang=principal.language)  # type: ignore[arg-type]
    return render(request, "act/recognition.html", principal, session=session, feed=feed, mine=mine)


@router.post("/act/recognition")
def post_message(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    huey: HueyDep,
    background: BackgroundTasks,
    kind: Annotated[str, Form()],
    recipient_email: Annotated[str, Form()],
    body: Annotated[str, Form()] = "",
) -> Response:
    from cxloop.act import routing

    recipient = routing.user_by_email(session, recipient_email)
    units = recipient.unit_ids if recipient else []
    unit_id = next((u for u in units if principal.scope.contains(session, u)), None)
    if recipient is None or unit_id is None:
        raise ApiError(422, "recipient not found in your org units", field="recipient_email")
    unit = session.get(OrgUnit, unit_id)
    assert unit is not None
    try:
        messages.send_message(
            session=session,
            kind=kind,
            recipient=recipient,
            unit=unit,
            body=body,
            sender=principal.user,
        )
    except messages.MessageError as exc:
        raise ApiError(422, exc.message, field=exc.field) from None
    send_after_commit(background, huey, session)
    return RedirectResponse("/act/recognition", status_code=303)
