"""Tracked sites: create, update, look up by public key (cached for the collector)."""

from __future__ import annotations

import dataclasses
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.insight.digital import Thresholds
from cxloop.store.models.digital import DigitalSite

_THRESHOLD_FIELDS = {f.name: f.type for f in dataclasses.fields(Thresholds)}


def new_site_key() -> str:
    return "cxs_" + secrets.token_urlsafe(18)


def normalise_origin(value: str) -> str:
    """``scheme://host[:port]`` in lower case; raises ValueError for anything else."""
    value = value.strip()
    if value == "*":
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an origin like https://shop.example")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{value!r} is not an origin: drop the path, query and credentials")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def check_thresholds(overrides: dict[str, Any]) -> dict[str, Any]:
    """Overrides naming real Thresholds fields with numbers (or booleans where boolean)."""
    for name, value in overrides.items():
        kind = _THRESHOLD_FIELDS.get(name)
        if kind is None:
            raise ValueError(f"unknown threshold {name!r}")
        if kind in ("bool", bool):
            if not isinstance(value, bool):
                raise ValueError(f"threshold {name!r} must be true or false")
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"threshold {name!r} must be a non-negative number")
    Thresholds(**overrides)
    return dict(overrides)


class _SiteFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("allowed_origins", check_fields=False)
    @classmethod
    def _origins(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else sorted({normalise_origin(o) for o in v})

    @field_validator("thresholds", check_fields=False)
    @classmethod
    def _thresholds(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if v is None else check_thresholds(v)


class SiteCreate(_SiteFields):
    org_unit_id: int
    name: str = Field(min_length=1, max_length=200)
    allowed_origins: list[str] = Field(default_factory=list, max_length=50)
    thresholds: dict[str, Any] = Field(default_factory=dict)
    consent_required: bool = False
    frustration_dxs: float = Field(default=6.0, ge=0, le=10)


class SiteUpdate(_SiteFields):
    name: str | None = Field(None, min_length=1, max_length=200)
    allowed_origins: list[str] | None = Field(None, max_length=50)
    thresholds: dict[str, Any] | None = None
    consent_required: bool | None = None
    frustration_dxs: float | None = Field(None, ge=0, le=10)
    active: bool | None = None


@dataclass(frozen=True)
class SiteInfo:
    """What the collector and scoring need to know about a site."""

    id: int
    org_unit_id: int
    site_key: str
    origins: frozenset[str]
    thresholds: Thresholds
    consent_required: bool
    frustration_dxs: float
    active: bool

    def allows(self, origin: str | None) -> bool:
        """Whether a request from ``origin`` may post (no Origin header: not a browser)."""
        if origin is None:
            return True
        return "*" in self.origins or origin.lower() in self.origins


def site_info(row: DigitalSite) -> SiteInfo:
    return SiteInfo(
        id=row.id,
        org_unit_id=row.org_unit_id,
        site_key=row.site_key,
        origins=frozenset(row.allowed_origins or ()),
        thresholds=Thresholds(**(row.thresholds or {})),
        consent_required=row.consent_required,
        frustration_dxs=row.frustration_dxs,
        active=row.active,
    )


def create_site(*, session: Session, data: SiteCreate, site_key: str | None = None) -> DigitalSite:
    site = DigitalSite(
        org_unit_id=data.org_unit_id,
        name=data.name,
        site_key=site_key or new_site_key(),
        allowed_origins=data.allowed_origins,
        thresholds=data.thresholds,
        consent_required=data.consent_required,
        frustration_dxs=data.frustration_dxs,
    )
    session.add(site)
    session.flush()
    return site


def update_site(*, session: Session, site: DigitalSite, data: SiteUpdate) -> DigitalSite:
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(site, name, value)
    session.flush()
    return site


def site_by_key(session: Session, site_key: str) -> SiteInfo | None:
    row = session.scalar(select(DigitalSite).where(DigitalSite.site_key == site_key))
    return None if row is None else site_info(row)


class SiteCache:
    """Site lookups for the collector, kept ``ttl`` seconds (edits show within that time)."""

    def __init__(self, ttl: float = 10.0) -> None:
        self.ttl = ttl
        self._items: dict[str, tuple[float, SiteInfo | None]] = {}
        self._lock = threading.Lock()

    def get(self, session_maker: Any, site_key: str) -> SiteInfo | None:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(site_key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        with session_maker() as session:
            info = site_by_key(session, site_key)
        with self._lock:
            if len(self._items) > 10_000:  # unknown keys must not grow memory without bound
                self._items.clear()
            self._items[site_key] = (now, info)
        return info

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
