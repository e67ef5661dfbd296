"""Customers: list, read, create or update by identity, export, erase."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from cxloop.csv_export import csv_download, to_csv
from cxloop.signals.customers import CustomerCreate, find_by_identity, upsert_customer
from cxloop.store import audit
from cxloop.store.models.customers import Customer
from cxloop.store.scope import scoped_page
from cxloop.web.deps import CurrentPrincipal, Pagination, SessionDep
from cxloop.web.errors import ApiError, visible_or_404
from cxloop.web.schemas import Page

router = APIRouter(tags=["customers"])


class IdentityPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kind: str
    value: str


class CustomerPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_unit_id: int
    name: str | None
    language: str | None
    timezone: str | None
    customer_type: str | None
    industry: str | None
    tier: str | None
    region: str | None
    annual_revenue: float | None
    opted_out: bool
    attributes: dict[str, Any]
    identities: list[IdentityPublic]
    created_at: datetime


@router.get("/customers")
def list_customers(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: Pagination,
    tier: str | None = None,
    industry: str | None = None,
) -> Page[CustomerPublic]:
    principal.require("customers:read")
    filters = []
    if tier:
        filters.append(Customer.tier == tier)
    if industry:
        filters.append(Customer.industry == industry)
    rows, count = scoped_page(
        session, principal.scope, Customer, filters=filters, limit=page.limit, offset=page.offset
    )
    data = [CustomerPublic.model_validate(r) for r in rows]
    return Page(data=data, count=count, limit=page.limit, offset=page.offset)


@router.get("/customers/export.csv", response_class=Response)
def export_customers(principal: CurrentPrincipal, session: SessionDep) -> Response:
    principal.require("customers:read")
    principal.require("export")
    cols = ["id", "org_unit_id", "name", "customer_type", "industry", "tier", "region", "language"]
    stmt = select(Customer).where(principal.scope.condition(Customer.org_unit_id))
    rows = [[getattr(r, c) for c in cols] for r in session.scalars(stmt.order_by(Customer.id))]
    audit.record(session, principal.actor, "export", target_type="customers", rows=len(rows))
    return csv_download(to_csv(cols, rows), "customers.csv")


@router.get("/customers/{customer_id}")
def get_customer(
    customer_id: int, principal: CurrentPrincipal, session: SessionDep
) -> CustomerPublic:
    principal.require("customers:read")
    row = visible_or_404(session, principal.scope, Customer, customer_id, "customer")
    return CustomerPublic.model_validate(row)


@router.post("/customers", status_code=201)
def create_customer(
    body: CustomerCreate, principal: CurrentPrincipal, session: SessionDep, response: Response
) -> CustomerPublic:
    principal.require("customers:write")
    if not principal.scope.contains(session, body.org_unit_id):
        raise ApiError(404, f"org unit {body.org_unit_id} not found", field="org_unit_id")
    for ident in body.identities:
        # An identity names one customer; a caller may not reach one outside their scope.
        owner = find_by_identity(session, ident.kind, ident.value)
        if owner is not None and not principal.scope.contains(session, owner.org_unit_id):
            raise ApiError(
                409, "an identity belongs to a customer outside your scope", field="identities"
            )
    try:
        customer, created = upsert_customer(session=session, data=body)
    except ValueError as exc:
        raise ApiError(409, str(exc), field="identities") from None
    if not created:
        response.status_code = 200
    return CustomerPublic.model_validate(customer)


@router.delete("/customers/{customer_id}", status_code=204)
def delete_customer(customer_id: int, principal: CurrentPrincipal, session: SessionDep) -> Response:
    principal.require("customers:write")
    row = visible_or_404(session, principal.scope, Customer, customer_id, "customer")
    audit.record(
        session,
        principal.actor,
        "delete",
        target_type="customer",
        target_id=row.id,
        org_unit_id=row.org_unit_id,
    )
    session.delete(row)
    return Response(status_code=204)
