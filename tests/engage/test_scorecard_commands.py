"""`cxloop metrics rollup`: a back-dated import reaches the scorecard after a rebuild."""

from __future__ import annotations

from datetime import date

import typer
from typer.testing import CliRunner

from cxloop.config import Settings
from cxloop.engage.cx_periods import period_moments
from cxloop.engage.cx_stats import Moments
from cxloop.engage.scorecard_commands import register
from tests.conftest import Org
from tests.engage.test_cx_wiring import _responses


def test_rollup_command_folds_a_backdated_import(
    settings: Settings, session, org: Org, monkeypatch
) -> None:
    monkeypatch.setenv("CXLOOP_DATABASE_URL", settings.database_url or "")
    monkeypatch.setenv("CXLOOP_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CXLOOP_SECRET_KEY", settings.secret_key or "")
    _responses(session, org, "store_b", [10, 9, 0], day=date(2024, 11, 20))
    session.commit()

    def q4() -> Moments | None:
        session.expire_all()
        return period_moments(
            session=session,
            metric="nps",
            unit_id=org.unit("acme").id,
            grain="quarter",
            starts=[date(2024, 10, 1)],
        )[0]

    assert q4() is None
    app = typer.Typer()
    register(app=app, import_app=typer.Typer())
    result = CliRunner().invoke(
        app, ["metrics", "rollup", "--since", "2024-11-01", "--until", "2024-12-01"]
    )
    assert result.exit_code == 0, result.output
    assert q4() == Moments(3, 2, 1, 19.0, 181.0)
