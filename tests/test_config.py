from __future__ import annotations

from pathlib import Path

import pytest

from cxloop.config import SettingsError, load_settings


def test_bad_value_names_the_setting(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CXLOOP_PORT", "eighty")
    with pytest.raises(SettingsError, match="CXLOOP_PORT"):
        load_settings()


def test_unknown_database_scheme_is_refused():
    with pytest.raises(SettingsError, match="CXLOOP_DATABASE_URL"):
        load_settings(database_url="mysql://x")


def test_pulse_group_never_below_three():
    with pytest.raises(SettingsError, match="CXLOOP_PULSE_MIN_GROUP"):
        load_settings(pulse_min_group=2)


def test_production_refuses_an_insecure_secret():
    with pytest.raises(SettingsError, match="CXLOOP_SECRET_KEY"):
        load_settings(env="production", secret_key="changeme")
    with pytest.raises(SettingsError, match="CXLOOP_SECRET_KEY"):
        load_settings(env="production")
    ok = load_settings(env="production", secret_key="k" * 40)
    assert ok.resolved_secret_key == "k" * 40


def test_development_secret_is_generated_once_and_kept(tmp_path: Path):
    first = load_settings(data_dir=tmp_path).resolved_secret_key
    second = load_settings(data_dir=tmp_path).resolved_secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_postgres_url_uses_psycopg3_and_sqlite_is_the_default(tmp_path: Path):
    pg = load_settings(database_url="postgresql://u@h/db")
    assert pg.resolved_database_url == "postgresql+psycopg://u@h/db"
    lite = load_settings(data_dir=tmp_path)
    assert lite.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'cxloop.db'}"
