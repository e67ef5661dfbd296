"""Org-unit tree and user management."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.security import hash_password
from cxloop.store.models.org import ROLES, UNIT_KINDS, OrgUnit, User, UserUnit


class NotFoundError(LookupError):
    pass


@dataclass(frozen=True)
class UnitNode:
    id: int
    parent_id: int | None
    kind: str
    code: str
    name: str
    name_ja: str | None
    depth: int


def create_unit(
    *,
    session: Session,
    code: str,
    name: str,
    kind: str,
    parent: OrgUnit | None = None,
    name_ja: str | None = None,
    timezone: str | None = None,
) -> OrgUnit:
    if kind not in UNIT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(UNIT_KINDS)}")
    unit = OrgUnit(
        code=code,
        name=name,
        name_ja=name_ja,
        kind=kind,
        parent_id=parent.id if parent else None,
        timezone=timezone or (parent.timezone if parent else "UTC"),
    )
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    session.flush()
    return unit


def unit_by_code(session: Session, code: str) -> OrgUnit:
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise NotFoundError(f"no org unit with code {code!r}")
    return unit


def subtree(session: Session, unit_paths: tuple[str, ...]) -> list[UnitNode]:
    """The units under the given subtree roots, in tree order."""
    from cxloop.store.scope import Scope

    units = session.scalars(
        select(OrgUnit).where(OrgUnit.id.in_(Scope(unit_paths).units_subquery()))
    ).all()
    units = sorted(units, key=lambda u: [int(x) for x in u.path.strip("/").split("/")])
    top = min((u.path.count("/") for u in units), default=0)
    return [
        UnitNode(u.id, u.parent_id, u.kind, u.code, u.name, u.name_ja, u.path.count("/") - top)
        for u in units
    ]


def create_user(
    *,
    session: Session,
    email: str,
    name: str,
    role: str,
    units: list[OrgUnit],
    password: str | None = None,
    language: str | None = None,
) -> User:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not units:
        raise ValueError("a user needs at least one org unit")
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise ValueError(f"{email!r} is not an e-mail address")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ValueError(f"a user with e-mail {email} already exists")
    user = User(
        email=email,
        name=name,
        role=role,
        language=language,
        password_hash=hash_password(password) if password else None,
    )
    user.units = [UserUnit(org_unit_id=u.id) for u in units]
    session.add(user)
    session.flush()
    return user


def set_user_access(*, session: Session, user: User, role: str, unit_ids: list[int]) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not unit_ids:
        raise ValueError("a user needs at least one org unit")
    user.role = role
    user.units = [UserUnit(org_unit_id=i) for i in sorted(set(unit_ids))]
    session.flush()
