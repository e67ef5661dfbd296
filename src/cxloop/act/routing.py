"""Who owns what: the manager of an org unit, and the chain of units above it."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from cxloop.store.models.org import OrgUnit, User, UserUnit

_OWNER_ROLES = ("manager", "executive")
_MANAGERS = (
    select(User.id, User.email, User.role)
    .join(UserUnit, UserUnit.user_id == User.id)
    .where(
        UserUnit.org_unit_id == bindparam("unit_id"),
        User.is_active.is_(True),
        User.role.in_(_OWNER_ROLES),
    )
    .order_by(User.id)
)


def ancestor_ids(unit: OrgUnit) -> list[int]:
    """Ids from the unit's parent up to the root (nearest first)."""
    ids = [int(x) for x in unit.path.strip("/").split("/") if x]
    return list(reversed(ids[:-1]))


def manager_of(session: Session, unit_id: int) -> User | None:
    """The active manager assigned directly to the unit (an executive when none)."""
    found = manager_id_email(session, unit_id)
    return session.get(User, found[0]) if found else None


def manager_id_email(session: Session, unit_id: int) -> tuple[int, str] | None:
    """:func:`manager_of` as ``(id, email)``, read without loading ORM objects (this runs for
    every case a rule opens)."""
    rows = session.execute(_MANAGERS, {"unit_id": unit_id}).all()
    for role in _OWNER_ROLES:
        for user_id, email, user_role in rows:
            if user_role == role:
                return user_id, email
    return None


def manager_above(session: Session, unit: OrgUnit, steps: int = 1) -> tuple[OrgUnit, User] | None:
    """The first unit at least ``steps`` levels above ``unit`` that has a manager."""
    for unit_id in ancestor_ids(unit)[steps - 1 :]:
        user = manager_of(session, unit_id)
        if user is not None:
            target = session.get(OrgUnit, unit_id)
            assert target is not None
            return target, user
    return None


def user_covers(session: Session, user: User, unit: OrgUnit) -> bool:
    """True when ``unit`` lies in one of the user's subtrees."""
    paths = session.scalars(select(OrgUnit.path).where(OrgUnit.id.in_(user.unit_ids))).all()
    return any(unit.path.startswith(p) for p in paths)


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(
        select(User).where(User.email == email.strip().lower(), User.is_active.is_(True))
    )
