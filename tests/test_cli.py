"""The command line: users, API keys, the demo company, and `serve` on an empty data dir."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cxloop import cli
from cxloop.config import Settings
from cxloop.demo import load_demo
from cxloop.store.models.customers import Customer
from cxloop.store.models.org import OrgUnit, User
from tests.conftest import Org, bearer, form_token, free_port

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CXLOOP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CXLOOP_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CXLOOP_SECRET_KEY", settings.resolved_secret_key)
    cli._register_area_commands()
    return settings


def test_users_create_then_login(cli_env: Settings, client: TestClient, org: Org):
    r = runner.invoke(
        cli.app,
        [
            "users",
            "create",
            "new@acme.example",
            "--role",
            "manager",
            "--unit",
            "store_b",
            "--password",
            "a long password",
        ],
    )
    assert r.exit_code == 0, r.output
    token = form_token(client, "/login")
    res = client.post(
        "/login",
        data={"email": "new@acme.example", "password": "a long password", "csrf_token": token},
        follow_redirects=False,
    )
    assert res.status_code == 303
    assert [u["code"] for u in client.get("/api/v1/org-units").json()["data"]] == ["store_b"]


def test_users_create_rejects_bad_input(cli_env: Settings, org: Org):
    r = runner.invoke(
        cli.app,
        [
            "users",
            "create",
            "x@acme.example",
            "--role",
            "boss",
            "--unit",
            "acme",
            "--password",
            "a long password",
        ],
    )
    assert r.exit_code == 2 and "role must be one of" in r.output
    r = runner.invoke(
        cli.app,
        [
            "users",
            "create",
            "x@acme.example",
            "--role",
            "manager",
            "--unit",
            "nowhere",
            "--password",
            "a long password",
        ],
    )
    assert r.exit_code == 2 and "nowhere" in r.output


def test_apikey_create_prints_a_working_key_last(cli_env: Settings, client: TestClient, org: Org):
    r = runner.invoke(
        cli.app, ["apikey", "create", "crm-sync", "--scope", "customers:read", "--unit", "east"]
    )
    assert r.exit_code == 0, r.output
    key = r.output.strip().splitlines()[-1]
    me = client.get("/api/v1/me", headers=bearer(key)).json()
    assert me["permissions"] == ["customers:read"] and me["unit_ids"] == [org.unit("east").id]
    bad = runner.invoke(cli.app, ["apikey", "create", "x", "--scope", "everything"])
    assert bad.exit_code == 2 and "unknown scope" in bad.output


def test_demo_company_is_deterministic_and_loaded_once(settings: Settings, session: Session):
    assert load_demo(settings, seed=3)
    first = session.scalars(select(Customer.name).order_by(Customer.id).limit(50)).all()
    assert not load_demo(settings, seed=3)  # already there: left alone
    roles = set(session.scalars(select(User.role)))
    assert roles == {"admin", "executive", "manager", "frontline", "analyst"}
    kinds = set(session.scalars(select(OrgUnit.kind)))
    assert {"company", "region", "store", "ecommerce", "contact_centre", "team"} <= kinds
    names_ja = session.scalars(select(OrgUnit.name_ja)).all()
    assert all(names_ja)
    assert session.scalar(select(func.count()).select_from(Customer)) >= 1000
    session.close()
    from tests.conftest import _wipe

    _wipe(settings.resolved_database_url)
    assert load_demo(settings, seed=3)
    session.expire_all()
    again = session.scalars(select(Customer.name).order_by(Customer.id).limit(50)).all()
    assert again == first


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.mark.parametrize("processes", [1, 2])
def test_serve_starts_on_an_empty_data_dir(tmp_path: Path, processes: int):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CXLOOP_")}
    env.update({"CXLOOP_DATA_DIR": str(tmp_path / "fresh"), "CXLOOP_WORKERS": "1"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "cxloop", "serve", "--port", str(port)]
        + ["--processes", str(processes)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(
                        proc.stdout.read().decode() if proc.stdout else ""
                    ) from None
                time.sleep(0.3)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert httpx.get(f"{base}/api/v1/customers").status_code == 401
        assert (tmp_path / "fresh" / "cxloop.db").exists()
        if processes > 1:  # the web processes answer; this one supervises and runs the jobs
            servers = [pid for pid in _children(proc.pid) if b"spawn" in _cmdline(pid)]
            assert len(servers) == processes
            answers = {httpx.get(f"{base}/healthz", timeout=5).status_code for _ in range(20)}
            assert answers == {200}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stdout:
            proc.stdout.close()
