"""Scorecard speed with 1,000,000 survey responses (as rollups) and 5,000,000 metric points.

    .venv/bin/python bench/bench_scorecard.py [--url postgresql://...] [--scale 1.0]

Builds a company of 10 regions x 100 stores, 40 monthly metrics over 125 months
(40 x 1000 x 125 = 5,000,000 points), and the CX rollups that 1,000,000 responses over a
year produce (per store, per day, plus the customer_type segment). Responses themselves are
not stored: the scorecard only reads rollups, so the bench fills the rollup table directly
with the same rows ``refresh_rollups`` would write. Then it times the scorecard (service
call and the HTTP route in-process) for the company and for one store.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

from cxloop.config import load_settings
from cxloop.engage.hierarchy import get_unit
from cxloop.engage.kpis import KpiCreate, create_kpi
from cxloop.engage.scorecard import build_scorecard
from cxloop.engage.targets import TargetIn, set_targets
from cxloop.signals.metrics import period_back
from cxloop.signals.metrics_rollup import rebuild_all
from cxloop.store.engine import get_engine, session_scope
from cxloop.store.migrate import upgrade
from cxloop.store.models.metrics import CxRollup, MetricDefinition, MetricPoint, MetricRollup
from cxloop.store.org import create_unit

REGIONS, STORES, METRICS, MONTHS = 10, 100, 40, 125
LAST = date(2025, 12, 1)


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
            (d.id, uid, "month", m, rng.random() * 100, "bench")
            for d in defs
            for uid in ids
            for m in months
        )
        n = _bulk(
            s,
            "metric_points",
            ("metric_id", "org_unit_id", "period", "period_start", "value", "source"),
            rows,
            url,
        )
        print(f"metric points: {n:,} in {time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        print(f"metric rollups: {rebuild_all(session=s):,} rows in {time.perf_counter() - t:.0f} s")
        # CX rollups: 1,000,000 responses over 365 days across the stores.
        t = time.perf_counter()
        per_day = 1_000_000 * scale / (len(ids) * 365)
        day0 = LAST + timedelta(days=31) - timedelta(days=365)
        cx = []
        responses = 0
        for uid in ids:
            for k in range(365):
                nn = max(1, int(rng.expovariate(1 / per_day))) if per_day < 5 else int(per_day)
                responses += nn
                a = sum(rng.random() < 0.5 for _ in range(nn))
                b = sum(rng.random() < 0.3 for _ in range(nn - a))
                day = day0 + timedelta(days=k)
                cx.append(("nps", uid, day, "", "", nn, a, b, 0.0, 0.0))
                biz = nn // 4
                cx.append(
                    ("nps", uid, day, "customer_type", "business", biz, a // 4, b // 4, 0.0, 0.0)
                )
                cx.append(
                    (
                        "nps",
                        uid,
                        day,
                        "customer_type",
                        "consumer",
                        nn - biz,
                        a - a // 4,
                        b - b // 4,
                        0.0,
                        0.0,
                    )
                )
                cx.append(("csat", uid, day, "", "", nn, int(nn * 0.8), 0, 0.0, 0.0))
        n = _bulk(
            s,
            "cx_rollups",
            ("metric", "org_unit_id", "day", "dim", "dim_value", "n", "a", "b", "s", "ss"),
            iter(cx),
            url,
        )
        print(
            f"cx rollups: {n:,} rows for {responses:,} responses in {time.perf_counter() - t:.0f} s"
        )
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
    if url.startswith("postgresql"):
        with get_engine(url).connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    else:
        with get_engine(url).begin() as conn:
            conn.execute(text("ANALYZE"))


def _bulk(s, table: str, cols: tuple[str, ...], rows, url: str) -> int:
    n = 0
    if url.startswith("postgresql"):
        raw = s.connection().connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
            for r in rows:
                cp.write_row(r)
                n += 1
        return n
    model = {"metric_points": MetricPoint, "cx_rollups": CxRollup}[table]
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


def timed(url: str, code: str, runs: int = 15) -> tuple[float, float]:
    out = []
    with session_scope(url) as s:
        from cxloop.store.org import unit_by_code

        unit = get_unit(s, unit_by_code(s, code).id)
        assert unit is not None
        build_scorecard(session=s, unit=unit, period="month", start=LAST)  # warm
        for _ in range(runs):
            t = time.perf_counter()
            card = build_scorecard(session=s, unit=unit, period="month", start=LAST)
            out.append((time.perf_counter() - t) * 1000)
        assert len(card.cards) == 6 and card.cards[0].current is not None
    return statistics.median(out), max(out)


def http_timed(url: str, code: str, runs: int = 10) -> float:
    from fastapi.testclient import TestClient

    from cxloop.store.accounts import create_api_key
    from cxloop.store.org import unit_by_code
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
        client.get("/api/v1/scorecard", params={"start": LAST.isoformat()}, headers=h)
        out = []
        for _ in range(runs):
            t = time.perf_counter()
            r = client.get("/api/v1/scorecard", params={"start": LAST.isoformat()}, headers=h)
            out.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.text
    return statistics.median(out)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", default=None, help="database URL (default: a new SQLite file)")
    p.add_argument("--scale", type=float, default=1.0, help="fraction of the stores / responses")
    p.add_argument("--reuse", action="store_true", help="time an already built database")
    args = p.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    url = load_settings(database_url=url).resolved_database_url
    if not args.reuse:
        if url.startswith("postgresql"):
            with get_engine(url).begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade(url)
        t = time.perf_counter()
        build(url, args.scale)
        print(f"built in {time.perf_counter() - t:.0f} s")
    with session_scope(url) as s:
        print(
            "rows: points",
            s.scalar(select(func.count()).select_from(MetricPoint)),
            "metric rollups",
            s.scalar(select(func.count()).select_from(MetricRollup)),
            "cx rollups",
            s.scalar(select(func.count()).select_from(CxRollup)),
            "responses",
            s.scalar(
                select(func.sum(CxRollup.n)).where(CxRollup.dim == "", CxRollup.metric == "nps")
            ),
        )
    for code, what in (("co", "whole company"), ("r3s7", "one store")):
        med, worst = timed(url, code)
        print(
            f"{what}: scorecard service median {med:.0f} ms, max {worst:.0f} ms; "
            f"HTTP median {http_timed(url, code):.0f} ms"
        )


if __name__ == "__main__":
    main()
