"""``cxloop surveys ...`` commands."""

import typer
from typer.testing import CliRunner

from cxloop.signals.survey_commands import register
from tests.survey_helpers import make_customer, make_program, make_survey


def _cli():
    app = typer.Typer()
    register(app=app, import_app=typer.Typer())
    return app


def test_wave_list_and_dispatch(settings, session, org, monkeypatch):
    monkeypatch.setenv("CXLOOP_DATABASE_URL", settings.database_url or "")
    monkeypatch.setenv("CXLOOP_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CXLOOP_SECRET_KEY", settings.secret_key or "")
    survey = make_survey(session, org.unit("acme"), key="rel-nps")
    make_program(
        session, survey, org.unit("acme"), key="yearly", kind="relationship", event_types=[]
    )
    for i in range(3):
        make_customer(session, org.unit("store_a"), f"c{i}@cust.example")
    runner = CliRunner()
    result = runner.invoke(
        _cli(),
        ["surveys", "wave", "yearly", "--wave", "2030", "--send-at", "2030-01-10T10:00:00+09:00"],
    )
    assert result.exit_code == 0, result.output
    assert "wave 2030 of yearly: 3 invitations" in result.output and "sent: 3" in result.output
    again = runner.invoke(_cli(), ["surveys", "wave", "yearly", "--wave", "2030"])
    assert again.exit_code == 2 and "already planned" in again.output
    naive = runner.invoke(
        _cli(), ["surveys", "wave", "yearly", "--wave", "x", "--send-at", "2030-01-10T10:00"]
    )
    assert naive.exit_code == 2 and "time zone offset" in naive.output
    listed = runner.invoke(_cli(), ["surveys", "list"])
    assert "rel-nps" in listed.output
    assert runner.invoke(_cli(), ["surveys", "dispatch"]).exit_code == 0
