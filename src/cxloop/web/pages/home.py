"""Home and the four stage hubs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from cxloop.store.models.customers import Customer
from cxloop.store.models.org import OrgUnit
from cxloop.web.deps import PageUser, SessionDep
from cxloop.web.errors import NotFound
from cxloop.web.render import STAGES, render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, principal: PageUser, session: SessionDep) -> Response:
    scope = principal.scope
    counts = {
        "units": session.scalar(
            select(func.count()).select_from(OrgUnit).where(scope.condition(OrgUnit.id))
        ),
        "customers": session.scalar(
            select(func.count()).select_from(Customer).where(scope.condition(Customer.org_unit_id))
        ),
    }
    from cxloop.web.pages.scorecard import home_context

    panel = home_context(session, principal)
    return render(request, "home.html", principal, session=session, counts=counts, **panel)


@router.get("/stage/{stage}")
def stage_hub(stage: str, request: Request, principal: PageUser, session: SessionDep) -> Response:
    if stage not in STAGES:
        raise NotFound("page")
    return render(request, "stage.html", principal, session=session, stage=stage)
