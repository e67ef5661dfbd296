"""Engines and sessions: SQLite in WAL mode by default, PostgreSQL through psycopg 3."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

_engines: dict[str, Engine] = {}
_makers: dict[str, sessionmaker[Session]] = {}
_turns: dict[str, threading.Lock] = {}
_lock = threading.Lock()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def get_engine(url: str) -> Engine:
    """One engine per URL per process, shared by the web app and the job workers."""
    engine = _engines.get(url)
    if engine is not None:
        return engine
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _makers.clear()


def session_factory(url: str) -> sessionmaker[Session]:
    """One factory per URL per process: each ``sessionmaker`` is a new Session subclass,
    whose event set-up cost more than a small request's statements."""
    maker = _makers.get(url)
    if maker is None or maker.kw["bind"] is not get_engine(url):
        maker = _makers[url] = sessionmaker(bind=get_engine(url), expire_on_commit=False)
    return maker


def write_turn(url: str) -> AbstractContextManager[Any]:
    """SQLite has one writer: threads of one process that write often (the survey form,
    the job publishing its responses) take turns here, handed over at once, instead of
    racing for the lock and backing off in SQLite's busy-handler sleeps (1, 2, 5, 10 ...
    up to 100 ms), which a waiter can lose to the same writer again and again. Nothing on
    PostgreSQL."""
    if not url.startswith("sqlite"):
        return nullcontext()
    with _lock:
        return _turns.setdefault(url, threading.Lock())


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
