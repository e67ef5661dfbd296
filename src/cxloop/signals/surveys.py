"""Surveys and their versions: create, edit, publish; an edited live survey gets a new version.

Responses point at the version they answered, so old answers keep their questions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, false, func, literal, or_, select
from sqlalchemy.orm import Session

from cxloop.security import new_token
from cxloop.signals.survey_definitions import LocalText, SurveyDefinition, parse_definition
from cxloop.store.models.org import OrgUnit
from cxloop.store.models.surveys import Survey, SurveyVersion
from cxloop.store.scope import Scope

_KEY = r"^[a-z0-9][a-z0-9_-]{1,63}$"


class SurveyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=_KEY)
    org_unit_id: int
    kind: Literal["customer", "pulse"] = "customer"
    title: LocalText
    status: Literal["draft", "live", "closed"] = "draft"
    anonymous: bool = False
    embed_origins: list[str] = Field(default_factory=list, max_length=20)
    closes_at: datetime | None = None
    definition: SurveyDefinition


class SurveyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: LocalText | None = None
    status: Literal["draft", "live", "closed"] | None = None
    anonymous: bool | None = None
    embed_origins: list[str] | None = Field(None, max_length=20)
    closes_at: datetime | None = None


class SurveyError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def create_survey(*, session: Session, data: SurveyCreate) -> Survey:
    if session.scalar(select(Survey.id).where(Survey.key == data.key)) is not None:
        raise SurveyError("key", f"a survey with key {data.key!r} already exists")
    survey = Survey(
        key=data.key,
        org_unit_id=data.org_unit_id,
        kind=data.kind,
        title=data.title.model_dump(),
        status=data.status,
        anonymous=data.anonymous,
        embed_origins=data.embed_origins,
        closes_at=data.closes_at,
        public_token=new_token(18),
    )
    session.add(survey)
    session.flush()
    _new_version(session, survey, data.definition, 1)
    return survey


def update_survey(*, session: Session, survey: Survey, data: SurveyUpdate) -> Survey:
    for name, value in data.model_dump(exclude_unset=True).items():
        if name == "title" and value is not None:
            survey.title = value
        elif value is not None or name == "closes_at":
            setattr(survey, name, value)
    session.flush()
    return survey


def _new_version(
    session: Session, survey: Survey, definition: SurveyDefinition, number: int
) -> SurveyVersion:
    version = SurveyVersion(
        survey_id=survey.id,
        org_unit_id=survey.org_unit_id,
        number=number,
        definition=definition.model_dump(mode="json", exclude_none=True),
    )
    session.add(version)
    session.flush()
    survey.current_version_id = version.id
    return version


def set_definition(
    *, session: Session, survey: Survey, definition: SurveyDefinition
) -> SurveyVersion:
    """Replace the questions with a new version; responses keep the version they answered.

    Versions are never edited in place, so a parsed version can be cached by its id.
    """
    current = session.get(SurveyVersion, survey.current_version_id)
    number = (current.number if current else 0) + 1
    return _new_version(session, survey, definition, number)


def versions(*, session: Session, survey: Survey) -> list[SurveyVersion]:
    stmt = select(SurveyVersion).where(SurveyVersion.survey_id == survey.id)
    return list(session.scalars(stmt.order_by(SurveyVersion.number)).all())


_PARSED: dict[tuple[int, int, datetime], SurveyDefinition] = {}


def version_definition(version: SurveyVersion) -> SurveyDefinition:
    """The parsed definition of an (immutable) version, cached per process."""
    return cached_definition(
        (version.id, version.survey_id, version.created_at), lambda: version.definition
    )


def cached_definition(
    key: tuple[int, int, datetime], load: Callable[[], dict[str, Any]]
) -> SurveyDefinition:
    """The parsed definition of version ``key`` = (id, survey id, created at); ``load``
    reads the stored definition only when this process has not parsed it yet."""
    # The creation time is in the key: a database rebuilt from scratch reuses ids.
    found = _PARSED.get(key)
    if found is None:
        if len(_PARSED) > 2048:
            _PARSED.clear()
        found = _PARSED[key] = parse_definition(load())
    return found


def current_version(*, session: Session, survey: Survey) -> SurveyVersion:
    version = session.get(SurveyVersion, survey.current_version_id)
    if version is None:
        raise SurveyError("definition", f"survey {survey.key} has no version")
    return version


def survey_by_key(session: Session, key: str) -> Survey | None:
    return session.scalar(select(Survey).where(Survey.key == key))


def title_in(survey: Survey, lang: str) -> str:
    title = survey.title or {}
    return str(title.get(lang) or title.get("en") or survey.key)


def readable_condition(scope: Scope) -> ColumnElement[bool]:
    """Surveys a caller may read: those of their units and those that cover them.

    A company-wide survey is readable by a store manager, who then sees only the
    responses of their store (responses are scoped by their own org unit).
    """
    if not scope.unit_paths:
        return false()
    covering = select(OrgUnit.id).where(
        or_(*(literal(p).startswith(OrgUnit.path) for p in scope.unit_paths))
    )
    return or_(scope.condition(Survey.org_unit_id), Survey.org_unit_id.in_(covering))


def readable_surveys(
    session: Session, scope: Scope, *, limit: int = 50, offset: int = 0
) -> tuple[list[Survey], int]:
    base = select(Survey).where(readable_condition(scope))
    count = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(base.order_by(Survey.id).limit(limit).offset(offset)).all()
    return list(rows), count


def readable_survey(session: Session, scope: Scope, survey_id: int) -> Survey | None:
    stmt = select(Survey).where(Survey.id == survey_id, readable_condition(scope))
    return session.scalars(stmt).first()
