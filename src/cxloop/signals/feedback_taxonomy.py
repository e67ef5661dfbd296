"""The organisation's theme taxonomy, kept in the database and edited by admins.

It is seeded from the engine's bundled bilingual taxonomy the first time it is needed.
Every edit raises the version; records analysed under an older version are re-analysed by
a background job (see ``feedback_tasks``).
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from cxloop.insight.text import (
    Analyzer,
    Mode,
    Taxonomy,
    TaxonomyError,
    default_taxonomy,
    get_analyzer,
    load_taxonomy,
)
from cxloop.signals.feedback_write import insert_ignoring
from cxloop.store.base import utcnow
from cxloop.store.models.feedback import TaxonomyState, ThemeDefinition

WordLists = dict[str, list[str]]


class ThemeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=64)
    name_en: str = Field(min_length=1, max_length=200)
    name_ja: str = Field(min_length=1, max_length=200)
    parent_key: str | None = None
    description: str = Field(default="", max_length=2000)
    terms: WordLists = Field(default_factory=dict)
    phrases: WordLists = Field(default_factory=dict)


class ThemeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_en: str | None = Field(default=None, min_length=1, max_length=200)
    name_ja: str | None = Field(default=None, min_length=1, max_length=200)
    parent_key: str | None = None
    description: str | None = Field(default=None, max_length=2000)
    terms: WordLists | None = None
    phrases: WordLists | None = None


class ThemePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    key: str
    name_en: str
    name_ja: str
    parent_key: str | None
    description: str
    terms: WordLists
    phrases: WordLists
    origin: str


def seed_default_taxonomy(bind: Session | Connection) -> bool:
    """Store the bundled default taxonomy unless a taxonomy exists; True if it seeded.

    Two writers may both find it missing: the one whose state row (id 1) goes in seeds,
    the other's insert does nothing (PostgreSQL waits for the first to commit; SQLite
    writers take turns), so neither fails on a unique key. Runs in the migrations, so
    that no request pays for it (on SQLite it holds the write lock).
    """
    claim = insert_ignoring(bind, TaxonomyState.__table__).values(  # type: ignore[arg-type]
        id=1, version=1, updated_at=utcnow()
    )
    if bind.execute(claim.returning(TaxonomyState.id)).first() is None:
        return False
    themes = [
        {
            "key": theme.id,
            "name_en": theme.name["en"],
            "name_ja": theme.name["ja"],
            "parent_key": theme.parent,
            "description": theme.description,
            "terms": {k: list(v) for k, v in theme.terms.items()},
            "phrases": {k: list(v) for k, v in theme.phrases.items()},
            "origin": "default",
            "updated_at": utcnow(),
        }
        for theme in default_taxonomy().themes
    ]
    bind.execute(insert_ignoring(bind, ThemeDefinition.__table__), themes)  # type: ignore[arg-type]
    return True


def ensure_seeded(session: Session) -> TaxonomyState:
    """The taxonomy state row; seeds the default themes if the database has none
    (a database emptied after its migrations: the migrations seed a new one)."""
    state = session.scalar(select(TaxonomyState).order_by(TaxonomyState.id).limit(1))
    if state is not None:
        return state
    seed_default_taxonomy(session)
    state = session.scalar(select(TaxonomyState).order_by(TaxonomyState.id).limit(1))
    assert state is not None
    return state


def list_themes(*, session: Session) -> list[ThemeDefinition]:
    ensure_seeded(session)
    return list(session.scalars(select(ThemeDefinition).order_by(ThemeDefinition.key)))


def taxonomy_version(*, session: Session) -> int:
    return ensure_seeded(session).version


def _as_dict(rows: list[ThemeDefinition], version: int) -> dict[str, Any]:
    return {
        "version": version,
        "name": "organisation taxonomy",
        "themes": [
            {
                "id": r.key,
                "name": {"en": r.name_en, "ja": r.name_ja},
                "parent": r.parent_key,
                "description": r.description,
                "terms": r.terms or {},
                "phrases": r.phrases or {},
            }
            for r in rows
        ],
    }


def taxonomy_document(*, session: Session) -> dict[str, Any]:
    """The org's taxonomy in the engine's JSON form (``load_taxonomy`` reads it)."""
    state = ensure_seeded(session)
    return _as_dict(list_themes(session=session), state.version)


def org_taxonomy(*, session: Session) -> Taxonomy:
    state = ensure_seeded(session)
    return load_taxonomy(_as_dict(list_themes(session=session), state.version))


_analyzers: dict[tuple[str, str], Analyzer] = {}
_lock = threading.Lock()


def analyzer_for(*, session: Session, mode: Mode = "fast") -> tuple[Analyzer, int]:
    """An analyzer on the org's taxonomy and that taxonomy's version; built once per content."""
    data = taxonomy_document(session=session)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    with _lock:
        analyzer = _analyzers.get((mode, digest))
        if analyzer is None:
            if len(_analyzers) > 8:
                _analyzers.clear()
            analyzer = get_analyzer(mode, load_taxonomy(data))
            _analyzers[(mode, digest)] = analyzer
    return analyzer, int(data["version"])


def _check(rows: list[ThemeDefinition]) -> None:
    """Raise TaxonomyError when the edited taxonomy would not load (names the field)."""
    load_taxonomy(_as_dict(rows, 1))


def _bump(session: Session, actor: str | None) -> int:
    state = ensure_seeded(session)
    state.version += 1
    state.updated_at = utcnow()
    state.updated_by = actor
    session.flush()
    return state.version


def create_theme(
    *, session: Session, data: ThemeCreate, actor: str | None, origin: str = "custom"
) -> ThemeDefinition:
    rows = list_themes(session=session)
    if any(r.key == data.key for r in rows):
        raise TaxonomyError([f"key: a theme {data.key!r} already exists"])
    row = ThemeDefinition(**data.model_dump(), origin=origin)
    _check([*rows, row])
    session.add(row)
    _bump(session, actor)
    return row


def update_theme(
    *, session: Session, key: str, data: ThemeUpdate, actor: str | None
) -> ThemeDefinition | None:
    rows = list_themes(session=session)
    row = next((r for r in rows if r.key == key), None)
    if row is None:
        return None
    before = {f: getattr(row, f) for f in ThemeUpdate.model_fields}
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(row, name, value)
    try:
        _check(rows)
    except TaxonomyError:
        for name, value in before.items():
            setattr(row, name, value)
        raise
    row.updated_at = utcnow()
    _bump(session, actor)
    return row


def delete_theme(*, session: Session, key: str, actor: str | None) -> bool:
    rows = list_themes(session=session)
    row = next((r for r in rows if r.key == key), None)
    if row is None:
        return False
    children = [r.key for r in rows if r.parent_key == key]
    if children:
        raise TaxonomyError([f"key: {key!r} has child themes ({', '.join(children)}); move them"])
    if len(rows) == 1:
        raise TaxonomyError(["key: the taxonomy needs at least one theme"])
    session.delete(row)
    _bump(session, actor)
    return True


def theme_names(*, session: Session, language: str) -> dict[str, str]:
    """Theme key -> display name in ``language`` (English when no translation)."""
    return {
        r.key: (r.name_ja if language == "ja" else r.name_en) for r in list_themes(session=session)
    }
