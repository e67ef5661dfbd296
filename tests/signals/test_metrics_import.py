"""``cxloop import metrics``: CSV and XLSX, bad rows named, duplicates reported, idempotent."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cxloop.cli import _register_area_commands, app
from cxloop.config import Settings
from cxloop.store.models.metrics import MetricDefinition, MetricPoint, MetricRollup
from tests.conftest import Org

CSV = """\ufeffmetric,unit,period,period_start,value,metric_unit,direction,aggregation
aht,store_a,month,2025-01-01,310,seconds,lower,mean
aht,store_b,month,2025-01-01,290,seconds,lower,mean
aht,store_a,month,2025-03-01,300,,,
aht,store_a,month,2025-01-01,305,,,
fcr,store_a,month,2025-01-01,0.8,fraction,higher,mean
aht,store_z,month,2025-01-01,1,,,
aht,store_a,month,2025-02-15,1,,,
aht,store_a,month,2025-04-01,abc,,,
"""


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CXLOOP_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CXLOOP_DATA_DIR", str(settings.data_dir))
    if not any(getattr(g, "name", None) == "metrics" for g in app.registered_groups):
        _register_area_commands()
    return CliRunner()


def test_csv_import_names_bad_rows_and_is_idempotent(
    cli: CliRunner, session: Session, org: Org, tmp_path: Path
) -> None:
    path = tmp_path / "ops.csv"
    path.write_text(CSV, encoding="utf-8")
    r = cli.invoke(app, ["import", "metrics", str(path)])
    assert r.exit_code == 1, r.output
    out = r.output + (r.stderr if r.stderr_bytes else "")
    assert "3 new" in out and "defined metric aht" in out
    assert "row 5 repeats row 2" in out  # the later value (305) is kept
    assert "row 6: metric_unit: unknown unit 'fraction'" in out
    assert "row 7: unknown org unit 'store_z'" in out
    assert "row 8: period_start 2025-02-15 is not the first day of a month" in out
    assert "row 9: value 'abc' is not a number" in out
    session.expire_all()
    aht = session.scalar(select(MetricDefinition).where(MetricDefinition.key == "aht"))
    assert aht is not None and aht.unit == "seconds" and aht.direction == "lower"
    values = {
        (p.org_unit_id, p.period_start.isoformat()): p.value
        for p in session.scalars(select(MetricPoint))
    }
    assert values[(org.unit("store_a").id, "2025-01-01")] == 305
    east = session.scalar(
        select(MetricRollup.value).where(
            MetricRollup.org_unit_id == org.unit("east").id, MetricRollup.period == "month"
        )
    )
    assert east == pytest.approx((305 + 290) / 2)  # mean of the stores
    again = cli.invoke(app, ["import", "metrics", str(path)])
    assert "0 new, 0 updated, 3 unchanged" in again.output


def test_xlsx_import_and_missing_columns(
    cli: CliRunner, session: Session, org: Org, tmp_path: Path
) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["metric", "unit", "period", "period_start", "value", "metric_unit"])
    ws.append(["revenue", "store_c", "month", "2025-01-01", 1200000, "JPY"])
    ws.append(["revenue", "store_c", "week", "2025-01-06", 300000, "JPY"])
    buf = io.BytesIO()
    wb.save(buf)
    path = tmp_path / "fin.xlsx"
    path.write_bytes(buf.getvalue())
    r = cli.invoke(app, ["import", "metrics", str(path)])
    assert r.exit_code == 0, r.output
    assert "2 new" in r.output
    bad = tmp_path / "bad.csv"
    bad.write_text("metric,unit,value\nx,store_a,1\n", encoding="utf-8")
    r = cli.invoke(app, ["import", "metrics", str(bad)])
    assert r.exit_code == 2
    assert "line 1: missing column(s) period, period_start" in (r.output + r.stderr)
