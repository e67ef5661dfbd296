"""The default taxonomy is seeded by the migrations, not by the first request."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import func, select

from cxloop.insight.text import default_taxonomy
from cxloop.signals.feedback_taxonomy import org_taxonomy, seed_default_taxonomy, taxonomy_version
from cxloop.store.engine import get_engine, session_scope
from cxloop.store.migrate import upgrade
from cxloop.store.models.feedback import TaxonomyState, ThemeDefinition


def _fresh(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "fresh.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    return url, path


def test_migrations_seed_the_default_taxonomy(tmp_path: Path):
    url, _ = _fresh(tmp_path)
    with session_scope(url) as session:
        keys = set(session.scalars(select(ThemeDefinition.key)))
        assert keys == {t.id for t in default_taxonomy().themes}
        assert session.scalar(select(TaxonomyState.version)) == 1
    get_engine(url).dispose()


def test_first_use_after_install_reads_while_another_writer_holds_the_lock(tmp_path: Path):
    url, path = _fresh(tmp_path)
    get_engine(url).dispose()
    holder = sqlite3.connect(path, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the write lock, as a long import would hold it
        holder.execute("UPDATE feedback_taxonomy SET updated_by = 'import'")
        with session_scope(url) as session:
            # Seeding here would wait for the lock and fail with "database is locked".
            assert taxonomy_version(session=session) == 1
            ids = {t.id for t in org_taxonomy(session=session).themes}
        assert ids == {t.id for t in default_taxonomy().themes}
    finally:
        holder.rollback()
        holder.close()
        get_engine(url).dispose()


def test_seeding_again_keeps_an_edited_taxonomy(settings, session):
    """Re-running the seed (a second migration run, two first uses) changes nothing."""
    assert seed_default_taxonomy(session) is True
    session.execute(ThemeDefinition.__table__.delete().where(ThemeDefinition.key == "wait_time"))
    assert seed_default_taxonomy(session) is False
    count = session.scalar(select(func.count()).select_from(ThemeDefinition))
    assert count == len(default_taxonomy().themes) - 1
