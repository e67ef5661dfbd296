"""The one place where a caller's visible org units are applied to a query.

A caller sees exactly the union of the subtrees of the units they are assigned to,
optionally narrowed to one unit inside that union (the unit switcher).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import Session

from cxloop.store.models.org import OrgUnit

T = TypeVar("T")


@dataclass(frozen=True)
class Scope:
    unit_paths: tuple[str, ...]

    @classmethod
    def for_units(cls, session: Session, unit_ids: list[int]) -> Scope:
        paths = session.scalars(select(OrgUnit.path).where(OrgUnit.id.in_(unit_ids))).all()
        # A path inside another adds nothing; keeping only the tops keeps the SQL short.
        tops = sorted(p for p in paths if not any(p != q and p.startswith(q) for q in paths))
        return cls(tuple(tops))

    def condition(self, column: Any) -> ColumnElement[bool]:
        """``column`` (an org-unit id column) lies in one of the visible subtrees."""
        if not self.unit_paths:
            return false()
        return column.in_(self.units_subquery())

    def units_subquery(self) -> Select[int]:
        if not self.unit_paths:
            return select(OrgUnit.id).where(false())
        return select(OrgUnit.id).where(or_(*(OrgUnit.path.startswith(p) for p in self.unit_paths)))

    def contains(self, session: Session, unit_id: int | None) -> bool:
        if unit_id is None:
            return False
        path = session.scalar(select(OrgUnit.path).where(OrgUnit.id == unit_id))
        return path is not None and any(path.startswith(p) for p in self.unit_paths)

    def narrowed(self, session: Session, unit_id: int | None) -> Scope:
        """The subtree of ``unit_id`` when it is visible; otherwise the scope unchanged."""
        if unit_id is None or not self.contains(session, unit_id):
            return self
        path = session.scalar(select(OrgUnit.path).where(OrgUnit.id == unit_id))
        return Scope((path,)) if path else self


def scoped(stmt: Select[Any], scope: Scope, column: Any) -> Select[Any]:
    return stmt.where(scope.condition(column))


def scoped_page(
    session: Session,
    scope: Scope,
    model: type[T],
    *,
    filters: list[ColumnElement[bool]] | None = None,
    order_by: Any = None,
    limit: int = 50,
    offset: int = 0,
    unit_column: Any = None,
) -> tuple[list[T], int]:
    """One page of ``model`` rows visible in ``scope`` and their total count."""
    column = unit_column if unit_column is not None else model.org_unit_id  # type: ignore[attr-defined]
    base = select(model).where(scope.condition(column), *(filters or []))
    count = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    order = order_by if order_by is not None else model.id.desc()  # type: ignore[attr-defined]
    rows = session.scalars(base.order_by(order).limit(limit).offset(offset)).all()
    return list(rows), count


def scoped_get(
    session: Session, scope: Scope, model: type[T], row_id: int, *, unit_column: Any = None
) -> T | None:
    """The row when it exists and is visible; ``None`` otherwise (the caller answers 404)."""
    column = unit_column if unit_column is not None else model.org_unit_id  # type: ignore[attr-defined]
    stmt = select(model).where(model.id == row_id, scope.condition(column))  # type: ignore[attr-defined]
    return session.scalars(stmt).first()
