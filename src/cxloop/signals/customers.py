"""Customers and their identities: find by any identity, create, update, erase."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.store.models.customers import IDENTITY_KINDS, Customer, CustomerIdentity


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    value: str = Field(min_length=1, max_length=320)

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in IDENTITY_KINDS:
            raise ValueError(f"must be one of {', '.join(IDENTITY_KINDS)}")
        return v


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org_unit_id: int
    name: str | None = Field(None, max_length=200)
    language: str | None = Field(None, max_length=8)
    timezone: str | None = Field(None, max_length=64)
    customer_type: str | None = Field(None, max_length=32)
    industry: str | None = Field(None, max_length=64)
    tier: str | None = Field(None, max_length=32)
    region: str | None = Field(None, max_length=64)
    annual_revenue: float | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    identities: list[IdentityIn] = Field(default_factory=list, max_length=20)


def normalise_identity(kind: str, value: str) -> str:
    value = value.strip()
    if kind == "email":
        return value.lower()
    if kind == "phone":
        return "".join(ch for ch in value if ch.isdigit() or ch == "+")
    return value


def find_by_identity(session: Session, kind: str, value: str) -> Customer | None:
    return session.scalar(
        select(Customer)
        .join(CustomerIdentity)
        .where(
            CustomerIdentity.kind == kind, CustomerIdentity.value == normalise_identity(kind, value)
        )
    )


def upsert_customer(*, session: Session, data: CustomerCreate) -> tuple[Customer, bool]:
    """The customer any given identity already names (updated), or a new one; (row, created)."""
    for ident in data.identities:
        existing = find_by_identity(session, ident.kind, ident.value)
        if existing is not None:
            _apply(existing, data)
            _add_identities(session, existing, data.identities)
            return existing, False
    customer = Customer(org_unit_id=data.org_unit_id)
    _apply(customer, data)
    session.add(customer)
    session.flush()
    _add_identities(session, customer, data.identities)
    return customer, True


def _apply(customer: Customer, data: CustomerCreate) -> None:
    fields = data.model_dump(exclude={"identities", "attributes"}, exclude_unset=True)
    for name, value in fields.items():
        setattr(customer, name, value)
    if data.attributes:
        customer.attributes = {**(customer.attributes or {}), **data.attributes}


def _add_identities(session: Session, customer: Customer, identities: list[IdentityIn]) -> None:
    have = {(i.kind, i.value) for i in customer.identities}
    for ident in identities:
        key = (ident.kind, normalise_identity(ident.kind, ident.value))
        if key in have:
            continue
        owner = find_by_identity(session, *key)
        if owner is not None and owner.id != customer.id:
            raise ValueError(f"identity {key[0]}={key[1]} already belongs to another customer")
        customer.identities.append(CustomerIdentity(kind=key[0], value=key[1]))
        have.add(key)
    session.flush()
