"""The job queue runs real tasks through a real consumer, on SQLite and on Redis."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.jobs import build_huey, enqueue, task_names
from cxloop.store import audit
from cxloop.store.base import utcnow
from cxloop.store.models.auth import AuditEntry


def _old_and_new_entries(session: Session, retention_days: int) -> None:
    old = audit.record(session, audit.SYSTEM, "export", target_type="x")
    old.at = utcnow() - timedelta(days=retention_days + 1)
    audit.record(session, audit.SYSTEM, "export", target_type="y")
    session.commit()


def _run_sweep_through_consumer(settings: Settings, name: str) -> int:
    huey = build_huey(settings, name=name)
    consumer = huey.create_consumer(workers=1, worker_type="thread", periodic=False)
    consumer.start()
    try:
        result = enqueue(huey, "audit_retention_sweep")
        return int(result.get(blocking=True, timeout=20))
    finally:
        consumer.stop(graceful=True)
        huey.flush()


def test_sweep_is_registered_as_a_periodic_task():
    assert "audit_retention_sweep" in task_names()


def test_sqlite_queue_runs_the_retention_sweep(settings: Settings, session: Session):
    assert settings.redis_url is None
    _old_and_new_entries(session, settings.audit_retention_days)
    assert _run_sweep_through_consumer(settings, "test-sqlite") == 1
    assert (settings.data_dir / "jobs.db").exists()
    session.expire_all()
    assert [e.target_type for e in session.scalars(select(AuditEntry))] == ["y"]


@pytest.mark.redis
def test_redis_queue_runs_the_retention_sweep(settings: Settings, session: Session):
    redis_settings = settings.model_copy(
        update={"redis_url": os.environ.get("CXLOOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")}
    )
    _old_and_new_entries(session, settings.audit_retention_days)
    name = f"test-{uuid.uuid4().hex[:8]}"
    assert type(build_huey(redis_settings, name=name)).__name__ == "RedisHuey"
    assert _run_sweep_through_consumer(redis_settings, name) == 1
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 1
