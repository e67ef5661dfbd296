"""Survey benchmarks.

    .venv/bin/python bench/bench_surveys.py submit [--rate 200] [--seconds 20]
    .venv/bin/python bench/bench_surveys.py wave [--customers 1000000]

``submit`` starts the real app under uvicorn in a separate process (SQLite in a temporary
data dir, or PostgreSQL when CXLOOP_BENCH_DATABASE_URL is set) and drives it with an
open-loop asyncio/httpx load generator at a fixed rate: request i is *scheduled* at
t0 + i/rate and its latency is measured from that moment, so a slow server cannot hide
its queueing (no coordinated omission). Each request is a full response submission
through a personal link (validation, logic, scores, 303 to the thank-you page); a third
of them carry a comment, which goes to the feedback pipeline in the same request.

``wave`` fills a SQLite database with N customers and ~N/2 past invitations, then times
planning one relationship wave under the full contact policy *including loading the
population and the contact history from the database*, and separately storing the
invitations.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.survey_helpers (the survey definition)


def _settings(data_dir: Path):
    from cxloop.config import load_settings

    url = os.environ.get("CXLOOP_BENCH_DATABASE_URL") or f"sqlite:///{data_dir / 'bench.db'}"
    return load_settings(
        env="test",
        data_dir=data_dir,
        database_url=url,
        secret_key="bench-secret-" + "x" * 40,
        workers=0,
    )


def _prepare_submissions(settings, n: int) -> list[tuple[str, str]]:
    """A live survey, ``n`` customers and sent invitations; (url path, form key) each."""
    from sqlalchemy import insert, text
    from tests.survey_helpers import make_program, make_survey

    from cxloop.security import new_token
    from cxloop.signals.survey_invitations import invitation_token
    from cxloop.store.engine import get_engine, session_scope
    from cxloop.store.migrate import upgrade
    from cxloop.store.models.customers import Customer, CustomerIdentity
    from cxloop.store.models.surveys import SurveyInvitation
    from cxloop.store.org import create_unit
    from cxloop.web.pages.survey_form import _form_key

    url = settings.resolved_database_url
    if url.startswith("postgresql"):
        with get_engine(url).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(url)
    now = datetime.now(UTC)
    with session_scope(url) as s:
        unit = create_unit(session=s, code="bench", name="Bench", kind="company")
        survey = make_survey(s, unit, key="bench-nps")
        program = make_program(s, survey, unit, key="bench")
        s.execute(
            insert(Customer),
            [
                {
                    "org_unit_id": unit.id,
                    "language": "ja",
                    "timezone": "Asia/Tokyo",
                    "opted_out": False,
                    "attributes": {},
                }
                for _ in range(n)
            ],
        )
        ids = [r[0] for r in s.execute(text("SELECT id FROM customers ORDER BY id")).all()]
        s.execute(
            insert(CustomerIdentity),
            [{"customer_id": c, "kind": "email", "value": f"c{c}@bench.example"} for c in ids],
        )
        s.execute(
            insert(SurveyInvitation),
            [
                {
                    "org_unit_id": unit.id,
                    "survey_id": survey.id,
                    "program_id": program.id,
                    "customer_id": c,
                    "language": "ja",
                    "status": "sent",
                    "nonce": new_token(12),
                    "due_at": now,
                    "sent_at": now,
                    "expires_at": now + timedelta(days=14),
                    "draft": {},
                    "wave": "",
                }
                for c in ids
            ],
        )
        invs = s.scalars(
            __import__("sqlalchemy").select(SurveyInvitation).order_by(SurveyInvitation.id)
        ).all()
        secret = settings.resolved_secret_key
        return [
            (f"/s/{invitation_token(secret, inv)}", _form_key(settings, f"i{inv.id}", "bench"))
            for inv in invs
        ]


def _serve(port: int, data_dir: str) -> None:
    import uvicorn

    from cxloop.web.app import create_app

    app = create_app(_settings(Path(data_dir)))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def _drive(base: str, targets: list[tuple[str, str]], rate: float) -> dict:
    import httpx

    rng = random.Random(5)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        for path, _key in targets[:20]:  # warm up: connections, caches
            await client.get(path)
        targets = targets[20:]
        t0 = time.perf_counter() + 0.2

        async def one(i: int, path: str, key: str) -> None:
            scheduled = t0 + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            data = {
                "form_key": key,
                "q_nps": str(rng.randrange(11)),
                "q_csat": "4",
                "q_ces": "5",
                "q_channels": ["store", "web"],
                "q_stars": "3",
            }
            if i % 3 == 0:
                data["q_comment"] = rng.choice(
                    [
                        "レジが混んでいて待ち時間が長かったです。",
                        "Friendly staff, quick checkout.",
                        "配送が遅れました。",
                        "Great store, will come back.",
                    ]
                )
            r = await client.post(path, data=data, follow_redirects=False)
            latencies.append(time.perf_counter() - scheduled)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        await asyncio.gather(*(one(i, p, k) for i, (p, k) in enumerate(targets)))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    q = statistics.quantiles(latencies, n=1000)
    return {
        "requests": len(latencies),
        "achieved_rate": len(latencies) / elapsed,
        "p50_ms": q[499] * 1000,
        "p90_ms": q[899] * 1000,
        "p99_ms": q[989] * 1000,
        "max_ms": latencies[-1] * 1000,
        "statuses": statuses,
    }


def bench_submit(rate: float, seconds: float) -> None:
    from tests.conftest import free_port

    n = int(rate * seconds) + 20
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp))
        t = time.perf_counter()
        targets = _prepare_submissions(settings, n)
        print(f"prepared {n} invitations in {time.perf_counter() - t:.1f} s")
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, __file__, "serve", str(port), tmp], cwd=str(ROOT)
        )
        try:
            import httpx

            deadline = time.time() + 180  # the app imports every area: slow to start
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.2)
            result = asyncio.run(_drive(f"http://127.0.0.1:{port}", targets, rate))
        finally:
            server.terminate()
            server.wait(10)
    db = "PostgreSQL" if settings.resolved_database_url.startswith("postgresql") else "SQLite"
    print(f"response submission, {db}, target {rate:g}/s for {seconds:g} s:")
    for k, v in result.items():
        print(f"  {k}: {v:.1f}" if isinstance(v, float) else f"  {k}: {v}")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )


def _fill_population(settings, n: int) -> int:
    import numpy as np
    from tests.survey_helpers import make_program, make_survey

    from cxloop.store.engine import session_scope
    from cxloop.store.migrate import upgrade
    from cxloop.store.org import create_unit

    upgrade(settings.resolved_database_url)
    rng = np.random.default_rng(3)
    zones = [
        "Asia/Tokyo",
        "America/New_York",
        "Europe/London",
        "America/Los_Angeles",
        "Asia/Kolkata",
        "Australia/Sydney",
    ]
    industries = [None, "travel", "retail", "banking", "telecom", "health"]
    tiers = ["bronze", "silver", "gold", "platinum"]
    now = datetime(2026, 3, 8, 3, 0, tzinfo=UTC)
    with session_scope(settings.resolved_database_url) as s:
        unit = create_unit(session=s, code="co", name="Co", kind="company")
        rel = make_survey(s, unit, key="rel-nps")
        other = make_survey(s, unit, key="csat-support")
        program = make_program(
            s,
            rel,
            unit,
            key="yearly",
            kind="relationship",
            event_types=[],
            policy={
                "caps": [
                    {"max_invitations": 2, "window_days": 90},
                    {"max_invitations": 1, "window_days": 365, "scope": "survey"},
                ],
                "min_days_between": 30,
                "quiet_start": "21:00",
                "quiet_end": "09:00",
                "sample_percent": 40,
            },
        )
        from cxloop.signals.survey_programs import SensitivityRuleCreate, create_sensitivity_rule

        for attr, values in (("industry", ["travel"]), ("tier", ["platinum"])):
            create_sensitivity_rule(
                session=s,
                data=SensitivityRuleCreate(
                    org_unit_id=unit.id,
                    name=f"hold {attr}",
                    attribute=attr,
                    values=values,
                    start=date(2026, 3, 1),
                    end=date(2026, 4, 15),
                    reason="benchmark rule",
                ),
                created_by="bench",
            )
        chunk = 100_000
        conn = s.connection()
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            z = rng.integers(0, len(zones), m)
            ind = rng.integers(0, len(industries), m)
            tier = rng.integers(0, len(tiers), m)
            out = rng.random(m) < 0.02
            conn.exec_driver_sql(
                "INSERT INTO customers (org_unit_id, timezone, industry, tier, language, "
                "opted_out, attributes, created_at) VALUES (?, ?, ?, ?, 'ja', ?, '{}', ?)",
                [
                    (
                        unit.id,
                        zones[z[i]],
                        industries[ind[i]],
                        tiers[tier[i]],
                        bool(out[i]),
                        now.isoformat(),
                    )
                    for i in range(m)
                ],
            )
        history = n // 2
        cust = rng.integers(1, n + 1, history)
        days = rng.uniform(0, 400, history)
        which = rng.random(history) < 0.5
        for start in range(0, history, chunk):
            rows = []
            for i in range(start, min(start + chunk, history)):
                at = (now - timedelta(days=float(days[i]))).strftime("%Y-%m-%d %H:%M:%S.%f")
                sid = rel.id if which[i] else other.id
                rows.append((unit.id, sid, int(cust[i]), at, at, now.isoformat()))
            conn.exec_driver_sql(
                "INSERT INTO survey_invitations (org_unit_id, survey_id, customer_id, status, "
                "nonce, due_at, sent_at, draft, wave, channel, language, attempts, created_at) "
                "VALUES (?, ?, ?, 'sent', 'x', ?, ?, '{}', 'old', 'email', 'ja', 0, ?)",
                rows,
            )
        return program.id


def bench_wave(customers: int) -> None:
    from cxloop.store.engine import session_scope
    from cxloop.store.models.surveys import SurveyProgram

    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp))
        t = time.perf_counter()
        program_id = _fill_population(settings, customers)
        print(
            f"filled {customers:,} customers and {customers // 2:,} past invitations "
            f"in {time.perf_counter() - t:.1f} s"
        )
        send_at = datetime(2026, 3, 8, 3, 0, tzinfo=UTC)
        from cxloop.signals.survey_waves import (
            load_population,
            load_send_log,
            plan_relationship,
            run_relationship_wave,
        )

        with session_scope(settings.resolved_database_url) as s:
            program = s.get(SurveyProgram, program_id)
            c = time.process_time()
            t = time.perf_counter()
            loaded = load_population(s, program, default_zone="UTC", default_language="ja")
            t_pop = time.perf_counter() - t
            c_pop = time.process_time() - c
            c = time.process_time()
            t = time.perf_counter()
            load_send_log(s, loaded.population, since=send_at - timedelta(days=366), until=send_at)
            t_log = time.perf_counter() - t
            c_log = time.process_time() - c
            c = time.process_time()
            t = time.perf_counter()
            _, plan = plan_relationship(
                s, program, send_at=send_at, wave="2026", default_zone="UTC", default_language="ja"
            )
            t_plan = time.perf_counter() - t
            c_plan = time.process_time() - c
            c = time.process_time()
            t = time.perf_counter()
            summary = run_relationship_wave(
                session=s,
                program=program,
                send_at=send_at,
                wave="2026b",
                default_zone="UTC",
                default_language="ja",
            )
            t_store = time.perf_counter() - t
            c_store = time.process_time() - c
        print(f"load population: {t_pop:.2f} s wall, {c_pop:.2f} s CPU")
        print(f"load contact history: {t_log:.2f} s wall, {c_log:.2f} s CPU")
        print(f"plan wave incl. loading: {t_plan:.2f} s wall, {c_plan:.2f} s CPU")
        print(
            f"plan + store {summary.planned:,} invitations: {t_store:.2f} s wall, "
            f"{c_store:.2f} s CPU"
        )
        print(f"load average: {os.getloadavg()}")
        print(f"decisions: {plan.counts()}")
        print(
            f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("submit")
    p.add_argument("--rate", type=float, default=200)
    p.add_argument("--seconds", type=float, default=20)
    w = sub.add_parser("wave")
    w.add_argument("--customers", type=int, default=1_000_000)
    sv = sub.add_parser("serve")
    sv.add_argument("port", type=int)
    sv.add_argument("data_dir")
    args = parser.parse_args()
    if args.cmd == "submit":
        bench_submit(args.rate, args.seconds)
    elif args.cmd == "wave":
        bench_wave(args.customers)
    else:
        _serve(args.port, args.data_dir)


if __name__ == "__main__":
    main()
