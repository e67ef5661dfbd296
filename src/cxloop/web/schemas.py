"""Schemas shared by every API area."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):  # noqa: UP046 - PEP 695 syntax needs Python 3.12
    """A page of a list endpoint: ``data`` plus the total ``count`` before paging."""

    data: list[T]
    count: int
    limit: int
    offset: int
