from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from cxloop.config import Settings
from cxloop.store.engine import get_engine
from cxloop.store.migrate import current_heads, downgrade, is_up_to_date, script_heads, upgrade
from cxloop.store.models import Base


def test_models_match_the_migrations(settings: Settings):
    """Every model change comes with a migration (on SQLite and on PostgreSQL)."""
    url = settings.resolved_database_url
    assert is_up_to_date(url)
    with get_engine(url).connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, Base.metadata)
    meaningful = [d for d in diff if not _search_machinery(d)]
    assert meaningful == []


def test_upgrade_from_empty_then_down_and_up_again(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    tables = set(inspect(get_engine(url)).get_table_names())
    assert {"org_units", "users", "customers", "api_keys", "audit_log"} <= tables
    assert current_heads(url) == script_heads(url)
    downgrade(url, "base")
    assert set(inspect(get_engine(url)).get_table_names()) <= {"alembic_version"}
    upgrade(url)
    assert is_up_to_date(url)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    with get_engine(url).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def _search_machinery(diff: object) -> bool:
    """Full-text search lives outside the models: SQLite FTS5 tables (and their shadow
    tables) and PostgreSQL trigram indexes, created by migrations with raw SQL."""
    if not isinstance(diff, tuple):
        return False
    if diff[0] == "remove_table":
        return "_fts" in diff[1].name
    return diff[0] == "remove_index" and "trgm" in (diff[1].name or "")
