"""Scorecard speed with 1,000,000 survey responses and 5,000,000 metric points.

    .venv/bin/python bench/bench_scorecard.py [--url postgresql://...] [--scale 1.0] [--pad 9]

Builds a company of 10 regions x 100 stores, 40 monthly metrics over 125 months
(40 x 1000 x 125 = 5,000,000 points) and 1,000,000 survey responses over a year (NPS and
CSAT, from 20,000 customers with a customer type and tier). The rows are generated with
NumPy and bulk-loaded on a connection of their own, committed every 200,000 rows: ``COPY``
on PostgreSQL, ``executemany`` with ``synchronous=OFF`` (for the load only) on SQLite.
The rollups are then built once by the real code: ``rebuild_all`` for the metric points
and ``refresh_rollups`` (month by month, as ``cxloop metrics rollup`` does) for the
responses. Then it times the scorecard, via the service function and via the HTTP route
in-process, for the company and for one store (median, p95 and CPU per call of this
process plus, on PostgreSQL, the database backends), then the minute job (100 marked
store days) and the hourly safety net (the last two days). ``--pad 9`` then adds nine
copies of every row of the tables the scorecard reads (``metric_rollups``,
``cx_period_rollups``) under other metrics — those tables at 10x — and times the reads
again. ``--scale`` multiplies the number of stores and responses; ``--reuse`` times an
already built database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, func, insert, make_url, select, text
from sqlalchemy.orm import Session

from cxloop.config import load_settings
from cxloop.engage.cx_dirty import mark_stored, refresh_dirty
from cxloop.engage.cx_metrics import refresh_rollups
from cxloop.engage.hierarchy import get_unit
from cxloop.engage.kpis import KpiCreate, create_kpi
from cxloop.engage.scorecard import build_scorecard
from cxloop.engage.targets import TargetIn, set_targets
from cxloop.signals.metrics import period_back
from cxloop.signals.metrics_rollup import rebuild_all
from cxloop.store.engine import get_engine, session_scope
from cxloop.store.migrate import upgrade
from cxloop.store.models.customers import Customer
from cxloop.store.models.metrics import (
    CxPeriodRollup,
    CxRollup,
    MetricDefinition,
    MetricPoint,
    MetricRollup,
)
from cxloop.store.models.org import OrgUnit
from cxloop.store.models.surveys import Survey, SurveyResponse, SurveyVersion
from cxloop.store.org import create_unit, unit_by_code

REGIONS, STORES, METRICS, MONTHS = 10, 100, 40, 125
RESPONSES, CUSTOMERS = 1_000_000, 20_000
LAST = date(2025, 12, 1)  # the scorecard month
YEAR_END = date(2026, 1, 1)
_RESPONSE_COLS = (
    "org_unit_id",
    "survey_id",
    "version_id",
    "customer_id",
    "channel",
    "wave",
    "language",
    "status",
    "answers",
    "nps",
    "csat",
    "feedback_ids",
    "started_at",
    "completed_at",
)


def say(*parts: object) -> None:
    print(*parts, flush=True)  # noqa: T201 - a benchmark reports on stdout


def build(url: str, scale: float) -> None:
    rng = np.random.default_rng(1)
    n_stores = max(1, int(STORES * scale))
    with session_scope(url) as s:
        company = create_unit(session=s, code="co", name="Co", kind="company")
        stores = []
        for r in range(REGIONS):
            region = create_unit(
                session=s, code=f"r{r}", name=f"R{r}", kind="region", parent=company
            )
            for i in range(n_stores):
                stores.append(
                    create_unit(
                        session=s, code=f"r{r}s{i}", name=f"S{i}", kind="store", parent=region
                    )
                )
        defs = []
        for m in range(METRICS):
            d = MetricDefinition(
                org_unit_id=company.id,
                key=f"m{m}",
                name=f"M{m}",
                unit="count",
                direction="higher",
                aggregation="sum" if m % 2 else "mean",
            )
            s.add(d)
            defs.append(d)
        s.flush()
        ids = np.array([u.id for u in stores])
        s.commit()
        t = time.perf_counter()
        n = _points(url, np.array([d.id for d in defs]), ids, rng)
        say(f"metric points: {n:,} loaded in {time.perf_counter() - t:.1f} s")
        _responses(s, url, company.id, ids, int(RESPONSES * scale), rng)
        kpis = [("cx:nps", 30, 20), ("cx:csat", 0.8, 0.75)] + [
            (f"metric:m{i}", 50, 40) for i in range(4)
        ]
        for ref, target, threshold in kpis:
            k = create_kpi(session=s, data=KpiCreate(org_unit_id=company.id, metric=ref))
            set_targets(
                session=s,
                kpi=k,
                direction="higher",
                targets=[
                    TargetIn(
                        org_unit_id=company.id,
                        period_start=LAST,
                        target=target,
                        threshold=threshold,
                    )
                ],
            )
    _analyze(url)
    rebuild_metric_rollups(url)
    refresh_year(url)


def rebuild_metric_rollups(url: str) -> None:
    """Every metric rollup from the points, by the real code (``rebuild_all``)."""
    with session_scope(url) as s:
        t, cpu = time.perf_counter(), time.process_time()
        written = rebuild_all(session=s)
        took = _took(t, cpu)
    say(f"metric rollups (SQL rebuild_all): {written:,} rows in {took}")
    _analyze(url)


def refresh_year(url: str) -> None:
    """CX rollups of the whole year from the responses, as `cxloop metrics rollup` does."""
    with session_scope(url) as s:
        t, cpu = time.perf_counter(), time.process_time()
        got = 0
        day = date(2025, 1, 1)
        while day < YEAR_END:  # a month at a time
            nxt = min(YEAR_END, day + timedelta(days=31))
            got += sum(refresh_rollups(session=s, since=day, until=nxt).values())
            day = nxt
        took = _took(t, cpu)
    say(f"cx rollups (refresh_rollups, whole year): {got:,} day rows, {took}")
    _analyze(url)


def _took(t: float, cpu: float) -> str:
    """Wall time, and this process's CPU time (the database's own work is not in it on
    PostgreSQL; on SQLite it is, the engine runs in-process)."""
    return f"{time.perf_counter() - t:.1f} s wall, {time.process_time() - cpu:.1f} CPU-s here"


def _points(url: str, metric_ids: Any, unit_ids: Any, rng: Any) -> int:
    """One monthly point per metric, store and month, in the unique key's order (so the
    index is appended to, not split)."""
    months = np.array([m.isoformat() for m in period_back("month", LAST, MONTHS)])
    per_metric = len(unit_ids) * MONTHS
    stamp = _stamp(datetime.now(UTC), url)
    n = 0
    for mid in metric_ids.tolist():
        cols = {
            "metric_id": np.full(per_metric, mid),
            "org_unit_id": np.repeat(unit_ids, MONTHS),
            "period": "month",
            "period_start": np.tile(months, len(unit_ids)),
            "value": np.round(rng.random(per_metric) * 100, 3),
            "source": "bench",
            "updated_at": stamp,
        }
        n += _load(url, MetricPoint, cols, per_metric)
    return n


def _responses(s: Session, url: str, company_id: int, ids: Any, n: int, rng: Any) -> None:
    t = time.perf_counter()
    survey = Survey(org_unit_id=company_id, key="bench", public_token="bench", status="live")
    s.add(survey)
    s.flush()
    version = SurveyVersion(survey_id=survey.id, org_unit_id=company_id, number=1)
    s.add(version)
    s.flush()
    kinds = np.where(rng.random(CUSTOMERS) < 0.25, "business", "consumer")
    tiers = np.array(["gold", "silver", "bronze"])[rng.integers(0, 3, CUSTOMERS)]
    custs = {"customer_type": kinds, "tier": tiers, "org_unit_id": company_id}
    s.commit()
    _load(url, Customer, {**custs, **_defaults(Customer, tuple(custs), url)}, CUSTOMERS)
    first = s.scalar(select(func.min(Customer.id)))
    assert first is not None
    year = int((YEAR_END - date(2025, 1, 1)).days * 86_400)
    at = np.datetime64("2025-01-01T00:00:00", "us") + (rng.integers(0, year, n) * 1_000_000).astype(
        "timedelta64[us]"
    )
    cols: dict[str, Any] = {
        "org_unit_id": rng.choice(ids, n),
        "survey_id": survey.id,
        "version_id": version.id,
        "customer_id": first + rng.integers(0, CUSTOMERS, n),
        "channel": "email",
        "wave": "",
        "language": "en",
        "status": "complete",
        "answers": "{}",
        "nps": np.clip(rng.normal(7.6, 2.2, n).astype(int), 0, 10),
        "csat": np.clip(rng.normal(4.0, 1.0, n).astype(int), 1, 5),
        "feedback_ids": "[]",
        "started_at": _stamps(at - np.timedelta64(3, "m"), url),
        "completed_at": _stamps(at, url),
    }
    # Other not-null columns (the surveys area grows) take their model defaults.
    cols.update(_defaults(SurveyResponse, tuple(cols), url))
    s.commit()
    got = _load(url, SurveyResponse, cols, n)
    say(f"survey responses: {got:,} loaded in {time.perf_counter() - t:.1f} s")


def _stamp(at: datetime, url: str) -> str:
    text_ = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return text_ + "+00" if url.startswith("postgresql") else text_


def _stamps(at: Any, url: str) -> Any:
    """UTC instants as the column stores them (SQLAlchemy's SQLite text format)."""
    out = np.char.replace(np.datetime_as_string(at, unit="us"), "T", " ")
    return np.char.add(out, "+00") if url.startswith("postgresql") else out


def _defaults(model: Any, given: tuple[str, ...], url: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in model.__table__.columns:
        if col.primary_key or col.nullable or col.name in given or col.default is None:
            continue
        arg = col.default.arg
        value = arg(None) if callable(arg) else arg
        if isinstance(value, dict | list):
            value = json.dumps(value)
        elif isinstance(value, datetime):
            value = _stamp(value, url)
        elif isinstance(value, bool):
            value = ("t" if value else "f") if url.startswith("postgresql") else int(value)
        out[col.name] = value
    return out


_CHUNK = 200_000


def _load(url: str, model: Any, cols: dict[str, Any], n: int) -> int:
    """Bulk-load ``n`` rows given as columns (NumPy arrays, or one value for every row) on a
    connection of its own, committing every chunk: ``COPY`` on PostgreSQL, ``executemany``
    on SQLite with ``synchronous=OFF`` for the load only."""
    table, names = model.__tablename__, ", ".join(cols)
    pg = url.startswith("postgresql")
    with get_engine(url).connect() as conn:
        raw: Any = conn.connection.driver_connection
        if not pg:
            raw.execute("PRAGMA synchronous=OFF")
        try:
            for lo in range(0, n, _CHUNK):
                hi = min(n, lo + _CHUNK)
                parts = [
                    v[lo:hi].tolist() if isinstance(v, np.ndarray) else [v] * (hi - lo)
                    for v in cols.values()
                ]
                rows = zip(*parts, strict=True)
                if pg:
                    body = "".join("\t".join(map(str, r)) + "\n" for r in rows)
                    with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as cp:
                        cp.write(body)
                else:
                    marks = ", ".join("?" * len(cols))
                    raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
                raw.commit()
        finally:
            if not pg:
                raw.execute("PRAGMA synchronous=NORMAL")
    return n


def _analyze(url: str) -> None:
    if url.startswith("postgresql"):
        with get_engine(url).connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    else:
        with get_engine(url).begin() as conn:
            conn.execute(text("ANALYZE"))


def _load_avg() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg()) + " (1 / 5 / 15 min)"


def _stats(ms: list[float]) -> str:
    p95 = statistics.quantiles(ms, n=20)[-1] if len(ms) >= 2 else ms[0]
    return f"median {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms"


def _db_cpu(url: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends of this database (same host),
    0 on SQLite (the engine runs inside this process)."""
    if not url.startswith("postgresql"):
        return 0.0
    with get_engine(url).connect() as conn:
        pids = conn.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).all()
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / os.sysconf("SC_CLK_TCK")


def _measured(url: str, call: Any, runs: int) -> str:
    call()  # warm
    out = []
    cpu, db = time.process_time(), _db_cpu(url)
    for _ in range(runs):
        t = time.perf_counter()
        call()
        out.append((time.perf_counter() - t) * 1000)
    used = (time.process_time() - cpu + _db_cpu(url) - db) / runs * 1000
    return f"{_stats(out)}, {used:.0f} ms CPU per call (server + database)"


def timed(url: str, code: str, runs: int = 30) -> str:
    with session_scope(url) as s:
        unit = get_unit(s, unit_by_code(s, code).id)
        assert unit is not None

        def call() -> None:
            card = build_scorecard(session=s, unit=unit, period="month", start=LAST)
            assert len(card.cards) == 6 and all(c.current is not None for c in card.cards)

        return _measured(url, call, runs)


def http_timed(url: str, code: str, runs: int = 30) -> str:
    from fastapi.testclient import TestClient

    from cxloop.store.accounts import create_api_key
    from cxloop.web.app import create_app

    with session_scope(url) as s:
        key, _ = create_api_key(
            session=s,
            name=f"bench-{code}-{time.time()}",
            scopes=["scorecard:read"],
            unit=unit_by_code(s, code),
        )
    settings = load_settings(
        database_url=url, data_dir=Path(tempfile.mkdtemp()), secret_key="b" * 40, workers=0
    )
    with TestClient(create_app(settings)) as client:
        h = {"Authorization": f"Bearer {key}"}
        params = {"start": LAST.isoformat()}

        def call() -> None:
            r = client.get("/api/v1/scorecard", params=params, headers=h)
            assert r.status_code == 200, r.text
            assert all(k["current"] is not None for k in r.json()["kpis"])

        return _measured(url, call, runs)


def refresh_jobs(url: str, stores: int = 100) -> None:
    """The minute job after ``stores`` stores each stored a record on the last day, and
    the hourly safety net (the last two days, every unit)."""
    with session_scope(url) as s:
        ids = s.scalars(select(OrgUnit.id).where(OrgUnit.kind == "store").limit(stores)).all()
        at = datetime(2025, 12, 31, 3, 0, tzinfo=UTC)
        mark_stored(s, [(i, at) for i in ids])
    with session_scope(url) as s:
        t, cpu = time.perf_counter(), time.process_time()
        got = refresh_dirty(session=s)
        say(f"minute job, {got['days']} marked store days: {_took(t, cpu)}")
    with session_scope(url) as s:
        t, cpu = time.perf_counter(), time.process_time()
        refresh_rollups(session=s, since=YEAR_END - timedelta(days=2), until=YEAR_END)
        say(f"hourly safety net (last 2 days, every unit): {_took(t, cpu)}")


def pad(url: str, copies: int) -> None:
    """Rollup tables at (1 + copies)x: every row again under other metrics."""
    t = time.perf_counter()
    with session_scope(url) as s:
        for k in range(1, copies + 1):
            for table in (CxPeriodRollup,):
                cols = [c.name for c in table.__table__.columns if c.name != "id"]
                src = [table.__table__.c[c] for c in cols]
                src[cols.index("metric")] = (table.metric + f"_x{k}").label("metric")
                s.execute(
                    insert(table).from_select(
                        cols, select(*src).where(~table.metric.like("%\\_x%", escape="\\"))
                    )
                )
            originals = select(MetricDefinition).where(~MetricDefinition.key.like("%x%"))
            base = list(s.scalars(originals))
            for d in base:
                new = MetricDefinition(
                    org_unit_id=d.org_unit_id,
                    key=f"{d.key}x{k}",
                    name=d.name,
                    unit=d.unit,
                    direction=d.direction,
                    aggregation=d.aggregation,
                )
                s.add(new)
                s.flush()
                cols = ["metric_id", "org_unit_id", "period", "period_start", "value"]
                R = MetricRollup
                s.execute(
                    insert(R).from_select(
                        cols,
                        select(
                            text(str(new.id)), R.org_unit_id, R.period, R.period_start, R.value
                        ).where(R.metric_id == d.id),
                    )
                )
    _analyze(url)
    say(f"padded rollup tables with {copies} copies in {time.perf_counter() - t:.0f} s")


def counts(url: str) -> None:
    with session_scope(url) as s:
        say(
            "rows:",
            ", ".join(
                f"{m.__tablename__} {s.scalar(select(func.count()).select_from(m)):,}"
                for m in (
                    MetricPoint,
                    MetricRollup,
                    SurveyResponse,
                    CxRollup,
                    CxPeriodRollup,
                )
            ),
        )


def report(url: str) -> None:
    counts(url)
    for code, what in (("co", "whole company"), ("r3s0", "one store")):
        say(f"{what}, service: {timed(url, code)} [load {_load_avg()}]")
        say(f"{what}, HTTP: {http_timed(url, code)} [load {_load_avg()}]")


def _create_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
        )
        if not found:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", default=None, help="database URL (default: a new SQLite file)")
    p.add_argument("--scale", type=float, default=1.0, help="fraction of the stores / responses")
    p.add_argument("--reuse", action="store_true", help="time an already built database")
    p.add_argument("--pad", type=int, default=0, help="then copy rollup rows N times, re-time")
    p.add_argument("--refresh", action="store_true", help="with --reuse: rebuild CX rollups")
    p.add_argument("--rebuild", action="store_true", help="with --reuse: rebuild metric rollups")
    args = p.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    url = load_settings(database_url=url).resolved_database_url
    say(f"load average at start: {_load_avg()} on {os.cpu_count()} cores")
    if not args.reuse:
        if url.startswith("postgresql"):
            _create_database(url)
            with get_engine(url).begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade(url)
        t = time.perf_counter()
        build(url, args.scale)
        say(f"built in {time.perf_counter() - t:.0f} s")
    if args.reuse:
        upgrade(url)  # tables added since the database was built (no data is touched)
    if args.reuse and args.rebuild:
        with session_scope(url) as s:
            t = time.perf_counter()
            written = rebuild_all(session=s)
            took = time.perf_counter() - t
            say(f"metric rollups (SQL rebuild_all): {written:,} rows in {took:.0f} s")
    if args.reuse and args.refresh:
        refresh_year(url)
    report(url)
    refresh_jobs(url)
    if args.pad:
        pad(url, args.pad)
        report(url)
    say(f"load average at end: {_load_avg()}")


if __name__ == "__main__":
    main()
