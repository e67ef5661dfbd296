"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when
``CXLOOP_TEST_DATABASE_URL`` is set), the app, a small org and helpers to log in."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.orm import Session

from cxloop.config import Settings, load_settings
from cxloop.jobs import build_huey
from cxloop.security import hash_password
from cxloop.store.accounts import create_api_key
from cxloop.store.engine import dispose_engines, get_engine, session_factory
from cxloop.store.migrate import upgrade
from cxloop.store.models import Base
from cxloop.store.models.org import OrgUnit, User
from cxloop.store.org import create_unit, create_user
from cxloop.web.app import create_app

PASSWORD = "correct horse battery"
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per run


def _database_url(tmp: Path) -> str:
    return os.environ.get("CXLOOP_TEST_DATABASE_URL") or f"sqlite:///{tmp / 'test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = _database_url(tmp_path_factory.mktemp("db"))
    settings = load_settings(database_url=url)
    url = settings.resolved_database_url
    if url.startswith("postgresql"):
        url = _per_worker_database(url)
        with get_engine(url).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(url)
    yield url
    dispose_engines()


def _per_worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database (``test_gw0`` ...)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base, _, name = url.rpartition("/")
    own = f"{name}_{worker}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": own})
        if exists.scalar() is None:
            conn.execute(text(f'CREATE DATABASE "{own}"'))
    admin.dispose()
    return f"{base}/{own}"


def _wipe(url: str) -> None:
    present = set(inspect(get_engine(url)).get_table_names())
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in present]
    with get_engine(url).begin() as conn:
        # DELETE in dependency order: far faster than TRUNCATE on many small tables.
        if not url.startswith("postgresql"):
            conn.execute(text("PRAGMA defer_foreign_keys=ON"))
        for name in tables:
            conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings on a clean database; every test starts with no rows."""
    _wipe(database_url)
    yield load_settings(
        env="test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-" + "x" * 40,
        workers=0,
    )


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    s = session_factory(settings.resolved_database_url)()
    try:
        yield s
    finally:
        s.rollback()
        s.close()


_APPS: dict[str, FastAPI] = {}


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """The application on this test's settings. Building FastAPI's routes takes about a
    second, so one app per database is built and its state reset for each test."""
    application = _APPS.get(settings.resolved_database_url)
    if application is None:
        application = _APPS[settings.resolved_database_url] = create_app(settings)
    nav = application.state.nav
    application.state._state.clear()  # caches, rate limiters... start empty for each test
    application.state.nav = nav
    application.state.settings = settings
    application.state.huey = build_huey(settings)
    # Background work runs inline in tests unless a test starts a real consumer.
    application.state.huey.immediate = True
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as c:
        yield c


@dataclass
class Org:
    """company → east (store_a, store_b), west (store_c); a user per role."""

    units: dict[str, OrgUnit] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def unit(self, code: str) -> OrgUnit:
        return self.units[code]


@pytest.fixture
def org(session: Session) -> Org:
    o = Org()
    tree = [
        ("acme", "company", None),
        ("east", "region", "acme"),
        ("store_a", "store", "east"),
        ("store_b", "store", "east"),
        ("west", "region", "acme"),
        ("store_c", "store", "west"),
    ]
    for code, kind, parent in tree:
        o.units[code] = create_unit(
            session=session,
            code=code,
            name=code.replace("_", " ").title(),
            kind=kind,
            parent=o.units[parent] if parent else None,
            timezone="Asia/Tokyo",
        )
    people = [
        ("admin", "admin", ["acme"]),
        ("exec", "executive", ["acme"]),
        ("analyst", "analyst", ["acme"]),
        ("east_manager", "manager", ["east"]),
        ("manager_a", "manager", ["store_a"]),
        ("manager_c", "manager", ["store_c"]),
        ("frontline_a", "frontline", ["store_a"]),
    ]
    for name, role, units in people:
        o.users[name] = create_user(
            session=session,
            email=f"{name}@acme.example",
            name=name,
            role=role,
            units=[o.units[u] for u in units],
        )
        o.users[name].password_hash = _PASSWORD_HASH
    session.commit()
    return o


def form_token(client: TestClient, path: str) -> str:
    """The hidden CSRF field of the form on page ``path``."""
    return client.get(path).text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log ``client`` in through the real form; returns the session's CSRF token."""
    token = form_token(client, "/login")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get("/")
    return home.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def browser_page(browser: Any, *, console: bool = True, **options: Any) -> tuple[Any, list[str]]:
    """A new Chromium page and the list that collects its script errors (and, with
    ``console``, the errors it logs to the console)."""
    page = browser.new_page(**options)
    errors: list[str] = []
    if console:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def browser_login(
    page: Any,
    base_url: str,
    email: str = "admin@acme.example",
    *,
    next_path: str = "/",
    password: str = PASSWORD,
) -> None:
    """Log a Playwright ``page`` in through the real login form; waits for ``next_path``."""
    query = "" if next_path == "/" else f"?next={quote(next_path, safe='')}"
    page.goto(f"{base_url}/login{query}")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}{next_path}")


def make_api_key(session: Session, unit: OrgUnit, scopes: list[str], name: str = "test") -> str:
    key, _ = create_api_key(session=session, name=name, scopes=scopes, unit=unit)
    session.commit()
    return key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    app: FastAPI


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    """The app on a real socket, for browsers and load tools."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("live server did not start")
        time.sleep(0.02)
    yield LiveServer(f"http://127.0.0.1:{port}", app)
    server.should_exit = True
    thread.join(timeout=10)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class SmtpServer:
    """A real SMTP server (aiosmtpd) that keeps what it receives."""

    host: str
    port: int
    messages: list[object] = field(default_factory=list)

    def parsed(self) -> list[object]:
        import email
        from email import policy

        return [email.message_from_bytes(m, policy=policy.default) for m in self.messages]  # type: ignore[arg-type]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    from aiosmtpd.controller import Controller

    port = free_port()
    box = SmtpServer("127.0.0.1", port)

    class _Handler:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            box.messages.append(envelope.original_content)  # type: ignore[attr-defined]
            return "250 OK"

    controller = Controller(_Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    """``settings`` pointing at the test SMTP server."""
    return settings.model_copy(
        update={"smtp_host": smtp_server.host, "smtp_port": smtp_server.port}
    )
