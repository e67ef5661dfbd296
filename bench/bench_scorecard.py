"""Scorecard speed with 1,000,000 survey responses and 5,000,000 metric points.

    .venv/bin/python bench/bench_scorecard.py [--url postgresql://...] [--scale 1.0] [--pad 9]

Builds a company of 10 regions x 100 stores, 40 monthly metrics over 125 months
(40 x 1000 x 125 = 5,000,000 points) and 1,000,000 survey responses over a year (NPS and
CSAT, from 20,000 customers with a customer type and tier), all by bulk load (executemany
in batches of 50,000 on SQLite, COPY on PostgreSQL). The rollups are then built by the real
code: ``rebuild_all`` for the metric points and ``refresh_rollups`` (month by month, as
``cxloop metrics rollup`` does) for the responses. Then it times the scorecard, via the
service function and via the HTTP route in-process, for the company and for one store,
and the 15-minute job (refresh of the last two days). ``--pad 9`` then adds nine copies of
every row of the tables the scorecard reads (``metric_rollups``, ``cx_period_rollups``)
under other metrics — those tables at 10x — and times the reads again.
``--scale`` multiplies the number of stores and responses.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, make_url, select, text
from sqlalchemy.orm import Session

from cxloop.config import load_settings
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
    rng = random.Random(1)
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
        months = period_back("month", LAST, MONTHS)
        ids = [u.id for u in stores]
        t = time.perf_counter()
        rows = (
            (d.id, uid, "month", m, rng.random() * 100, "bench", datetime.now(UTC))
            for d in defs
            for uid in ids
            for m in months
        )
        cols = ("metric_id", "org_unit_id", "period", "period_start", "value", "source")
        n = _bulk(s, MetricPoint, (*cols, "updated_at"), rows, url)
        say(f"metric points: {n:,} loaded in {time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        rebuild_all(session=s)
        took = time.perf_counter() - t
        written = s.scalar(select(func.count()).select_from(MetricRollup))
        say(f"metric rollups (SQL rebuild_all): {written:,} rows in {took:.0f} s")
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
    refresh_year(url)


def refresh_year(url: str) -> None:
    """CX rollups of the whole year from the responses, as `cxloop metrics rollup` does."""
    with session_scope(url) as s:
        t = time.perf_counter()
        got = 0
        day = date(2025, 1, 1)
        while day < YEAR_END:  # a month at a time
            nxt = min(YEAR_END, day + timedelta(days=31))
            got += sum(refresh_rollups(session=s, since=day, until=nxt).values())
            day = nxt
        took = time.perf_counter() - t
        say(f"cx rollups (refresh_rollups, whole year): {got:,} day rows, {took:.0f} s")
    _analyze(url)


def _responses(s: Session, url: str, company_id: int, ids: list[int], n: int, rng: Any) -> None:
    t = time.perf_counter()
    survey = Survey(org_unit_id=company_id, key="bench", public_token="bench", status="live")
    s.add(survey)
    s.flush()
    version = SurveyVersion(survey_id=survey.id, org_unit_id=company_id, number=1)
    s.add(version)
    s.flush()
    custs = [
        {
            "org_unit_id": company_id,
            "customer_type": "business" if rng.random() < 0.25 else "consumer",
            "tier": rng.choice(("gold", "silver", "bronze")),
        }
        for _ in range(CUSTOMERS)
    ]
    s.execute(insert(Customer), custs)
    first = s.scalar(select(func.min(Customer.id)))
    assert first is not None
    start = datetime(2025, 1, 1, tzinfo=UTC)
    seconds = int((datetime(2026, 1, 1, tzinfo=UTC) - start).total_seconds())

    def rows() -> Iterator[tuple[Any, ...]]:
        for _ in range(n):
            at = start + timedelta(seconds=rng.randrange(seconds))
            nps = min(10, max(0, int(rng.gauss(7.6, 2.2))))
            csat = min(5, max(1, int(rng.gauss(4.0, 1.0))))
            yield (
                rng.choice(ids),
                survey.id,
                version.id,
                first + rng.randrange(CUSTOMERS),
                "email",
                "",
                "en",
                "complete",
                "{}" if url.startswith("postgresql") else {},
                nps,
                csat,
                "[]" if url.startswith("postgresql") else [],
                at - timedelta(minutes=3),
                at,
            )

    # Other not-null columns (the surveys area grows) take their model defaults.
    extra = _defaults(SurveyResponse, _RESPONSE_COLS, url)
    tail = tuple(extra.values())
    widened = (r + tail for r in rows())
    got = _bulk(s, SurveyResponse, (*_RESPONSE_COLS, *extra), widened, url)
    say(f"survey responses: {got:,} loaded in {time.perf_counter() - t:.0f} s")


def _defaults(model: Any, given: tuple[str, ...], url: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in model.__table__.columns:
        if col.primary_key or col.nullable or col.name in given or col.default is None:
            continue
        arg = col.default.arg
        value = arg(None) if callable(arg) else arg
        if url.startswith("postgresql") and isinstance(value, dict | list):
            value = json.dumps(value)
        out[col.name] = value
    return out


def _bulk(s: Session, model: Any, cols: tuple[str, ...], rows: Iterable[Any], url: str) -> int:
    n = 0
    table = model.__tablename__
    if url.startswith("postgresql"):
        raw = s.connection().connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
            for r in rows:
                cp.write_row(r)
                n += 1
        return n
    batch = []
    for r in rows:
        batch.append(dict(zip(cols, r, strict=True)))
        if len(batch) == 50_000:
            s.execute(insert(model), batch)
            n += len(batch)
            batch = []
    if batch:
        s.execute(insert(model), batch)
        n += len(batch)
    return n


def _analyze(url: str) -> None:
    if url.startswith("postgresql"):
        with get_engine(url).connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    else:
        with get_engine(url).begin() as conn:
            conn.execute(text("ANALYZE"))


def _stats(ms: list[float]) -> str:
    p95 = statistics.quantiles(ms, n=20)[-1] if len(ms) >= 2 else ms[0]
    return f"median {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms"


def timed(url: str, code: str, runs: int = 20) -> str:
    out = []
    with session_scope(url) as s:
        unit = get_unit(s, unit_by_code(s, code).id)
        assert unit is not None
        build_scorecard(session=s, unit=unit, period="month", start=LAST)  # warm
        for _ in range(runs):
            t = time.perf_counter()
            card = build_scorecard(session=s, unit=unit, period="month", start=LAST)
            out.append((time.perf_counter() - t) * 1000)
        assert len(card.cards) == 6 and all(c.current is not None for c in card.cards)
    return _stats(out)


def http_timed(url: str, code: str, runs: int = 20) -> str:
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
        client.get("/api/v1/scorecard", params=params, headers=h)
        out = []
        for _ in range(runs):
            t = time.perf_counter()
            r = client.get("/api/v1/scorecard", params=params, headers=h)
            out.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.text
            assert all(k["current"] is not None for k in r.json()["kpis"])
    return _stats(out)


def periodic_refresh(url: str) -> None:
    """What the 15-minute job does at the end of the year: the last two days again."""
    with session_scope(url) as s:
        t = time.perf_counter()
        refresh_rollups(session=s, since=YEAR_END - timedelta(days=2), until=YEAR_END)
        say(
            f"15-minute job (last 2 days + their week/month/quarter totals): "
            f"{time.perf_counter() - t:.1f} s"
        )


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
        say(f"{what}: service {timed(url, code)}; HTTP {http_timed(url, code)}")


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
    say(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
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
    if args.reuse and args.rebuild:
        with session_scope(url) as s:
            t = time.perf_counter()
            written = rebuild_all(session=s)
            took = time.perf_counter() - t
            say(f"metric rollups (SQL rebuild_all): {written:,} rows in {took:.0f} s")
    if args.reuse and args.refresh:
        refresh_year(url)
    report(url)
    periodic_refresh(url)
    if args.pad:
        pad(url, args.pad)
        report(url)
    say(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
