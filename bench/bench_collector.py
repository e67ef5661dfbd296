"""The digital collector under load, and the store-and-score path of closing sessions.

    .venv/bin/python bench/bench_collector.py [--database-url URL] [--seconds 15]
        [--connections 32] [--sessions 2000] [--write]

1. Starts `cxloop`'s app under uvicorn in a subprocess (one process, rate limit lifted so
   one load client may flood it) on a fresh database, and drives `POST /collect` with
   `wrk` (Debian package `wrk`) at a fixed number of connections. Every request is a new
   50-event batch (unique batch id, 2,000 rotating sessions). Reports batches/s, events/s,
   p50/p99 latency, and checks the database holds exactly the batches answered 200.
2. Stores generated sessions (typical: 2-6 pages) and times `close_idle_sessions`: read the
   batches back, `score_stored`, store signals and page scores, per session.

--write replaces the "### Collector" part of the "## Digital body language" section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Digital body language"
SUB = "### Collector"
SITE_KEY = "cxs_bench_site"
ORIGIN = "https://shop.example"

LUA = r"""
local template, counter, tid = nil, 0, "0"
local headers = {["Content-Type"] = "text/plain;charset=UTF-8", ["Origin"] = "%(origin)s"}
setup = function(thread) thread:set("tid", tostring(math.random(100000, 999999))) end
init = function(args)
  local f = assert(io.open(args[1], "r")); template = f:read("*a"); f:close()
end
request = function()
  counter = counter + 1
  local bid = string.format("b%%s%%012d", tid, counter)
  local sid = string.format("s%%s%%06d", tid, counter %% 2000)
  local body = template:gsub("__BATCH__", bid):gsub("__SESSION__", sid)
  return wrk.format("POST", "/collect", headers, body)
end
"""


def batch_template(sent_at: int) -> str:
    """A 50-event batch like the tracker's: page view, pointer, scrolls, clicks, responses."""
    url = ORIGIN + "/shoes/trail-runner"
    events: list[dict[str, Any]] = []
    ts = sent_at - 3000

    def add(type_: str, **kw: Any) -> None:
        nonlocal ts
        ts += 50
        events.append({"type": type_, "ts": ts, "seq": len(events), "url": url, **kw})

    add("pageview", nav="load", ref="", vw=1280, vh=800, dh=3200)
    for i in range(36):
        add("move", x=100 + 7 * i, y=200 + 3 * i)
    for y in (200, 400, 600, 800, 1000, 1200):
        add("scroll", y=y, vh=800, dh=3200)
    for _ in range(3):
        add("click", x=320, y=410, sel="main>div.product>button#add-to-cart", tag="button",
            kind="clickable", pt="mouse")  # fmt: skip
        add("mutation")
    add("visibility", state="visible")
    assert len(events) == 50
    body = {
        "v": 1,
        "site_key": SITE_KEY,
        "session_id": "__SESSION__",
        "batch_id": "__BATCH__",
        "customer_id": None,
        "sent_at": sent_at,
        "events": events,
    }
    return json.dumps(body, separators=(",", ":"))


def prepare_database(url: str) -> None:
    from cxloop.config import load_settings
    from cxloop.signals.digital_sites import SiteCreate, create_site
    from cxloop.store.engine import session_scope
    from cxloop.store.migrate import upgrade
    from cxloop.store.org import create_unit

    url = load_settings(database_url=url).resolved_database_url
    upgrade(url)
    with session_scope(url) as session:
        unit = create_unit(session=session, code="bench", name="Bench", kind="ecommerce")
        data = SiteCreate(org_unit_id=unit.id, name="bench", allowed_origins=[ORIGIN])
        create_site(session=session, data=data, site_key=SITE_KEY)


def serve(url: str, port: int, data_dir: str) -> None:
    """Run in the server subprocess: the real app, rate limit lifted."""
    import uvicorn

    from cxloop.config import load_settings
    from cxloop.signals.digital_collect import RateLimiter
    from cxloop.web.app import create_app
    from cxloop.web.pages.collector import CollectorState

    settings = load_settings(database_url=url, data_dir=Path(data_dir), workers=0)
    app = create_app(settings)
    state = CollectorState(settings.resolved_database_url)
    state.limiter = RateLimiter(rate=1e9, burst=1e9)
    app.state.digital_collector = state
    loop, http = server_flavour()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                loop=loop, http=http)  # fmt: skip


def server_flavour() -> tuple[str, str]:
    """uvloop and httptools (uvicorn[standard]) when installed, else asyncio and h11."""
    import importlib.util

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return loop, http


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(port: int) -> None:
    import httpx

    deadline = time.monotonic() + 180  # importing every area takes a while on a busy VM
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


def _ms(value: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", value)
    if not m:
        return float("nan")
    n, unit = float(m.group(1)), m.group(2)
    return n / 1000 if unit == "us" else n * 1000 if unit == "s" else n


def load_test(url: str, seconds: int, connections: int, tmp: Path) -> dict[str, Any]:
    from sqlalchemy import func, select

    from cxloop.config import load_settings
    from cxloop.store.engine import session_scope
    from cxloop.store.models.digital import DigitalBatch

    port = _free_port()
    template = tmp / "batch.json"
    template.write_text(batch_template(int(time.time() * 1000)))
    script = tmp / "collect.lua"
    script.write_text(LUA % {"origin": ORIGIN})
    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            "--database-url",
            url,
            "--port",
            str(port),
            "--data-dir",
            str(tmp / "data"),
        ]  # fmt: skip
    )
    try:
        _wait_up(port)
        warm = ["wrk", "-t1", f"-c{connections}", "-d3s", "-s", str(script)]
        subprocess.run([*warm, f"http://127.0.0.1:{port}", "--", str(template)],
                       check=True, capture_output=True)  # fmt: skip
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script)]
        cpu0, load0 = _cpu_seconds(server.pid), os.getloadavg()[0]
        out = subprocess.run(
            [*cmd, f"http://127.0.0.1:{port}", "--", str(template)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        cpu, load1 = _cpu_seconds(server.pid) - cpu0, os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait(timeout=30)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
    resolved = load_settings(database_url=url).resolved_database_url
    with session_scope(resolved) as session:
        stored = session.scalar(select(func.count()).select_from(DigitalBatch)) or 0
    return {
        "rps": rps,
        "events_per_s": rps * 50,
        "requests": total,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "p50_ms": _ms(lat.get("50", "")),
        "p99_ms": _ms(lat.get("99", "")),
        "stored_batches": stored,
        "server_cpu_s": cpu,
        "events_per_cpu_s": (total - (int(non2xx.group(1)) if non2xx else 0)) * 50 / cpu,
        "load": (load0, load1),
        "raw": out,
    }


def score_path(url: str, n: int) -> dict[str, Any]:
    """Store n generated sessions, then time closing (reading, scoring, storing) them."""
    import numpy as np
    from sqlalchemy import delete

    from cxloop.config import load_settings
    from cxloop.insight.digital import SIGNAL_TYPES
    from cxloop.insight.digital.synthetic import synthetic_session, to_wire
    from cxloop.signals import listeners
    from cxloop.signals.digital_collect import check_batch
    from cxloop.signals.digital_ingest import Arrival, store_arrivals
    from cxloop.signals.digital_sessions import close_idle_sessions
    from cxloop.signals.digital_sites import site_by_key
    from cxloop.store.engine import session_scope
    from cxloop.store.models.digital import DigitalSession

    url = load_settings(database_url=url).resolved_database_url
    rng = np.random.default_rng(11)
    received = datetime.now(UTC) - timedelta(hours=2)
    events_total = 0
    with session_scope(url) as session:
        session.execute(delete(DigitalSession))  # drop the load test's sessions
        site = site_by_key(session, SITE_KEY)
        assert site is not None
        arrivals = []
        for i in range(n):
            frustration: list[str] = []
            if rng.random() < 0.3:
                k = int(rng.integers(1, 4))
                frustration = list(rng.choice(SIGNAL_TYPES, size=k, replace=False))
            events = [to_wire(e) for e in synthetic_session(rng, frustration=frustration)]
            events_total += len(events)
            for j in range(0, len(events), 50):
                chunk = events[j : j + 50]
                body = {"v": 1, "site_key": SITE_KEY, "session_id": f"bench{i:08d}",
                        "batch_id": f"bench{i:08d}b{j:05d}", "sent_at": chunk[-1]["ts"],
                        "events": chunk}  # fmt: skip
                checked = check_batch(json.dumps(body).encode(), now_ms=chunk[-1]["ts"])
                arrivals.append(Arrival(site, checked, received))
        for k in range(0, len(arrivals), 500):
            store_arrivals(session=session, arrivals=arrivals[k : k + 500])
    # the job runs in a worker that holds nothing else: drop the generated events first
    del arrivals, checked
    # A running worker has found the listeners (the alert rules) and imported them long
    # before: do that outside the timing, as the worker's first round did.
    listeners.listeners("digital_session")
    gc.collect()
    load0 = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    with session_scope(url) as session:
        closed = close_idle_sessions(session=session)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "sessions": closed,
        "events": events_total,
        "per_s": closed / wall,
        "per_cpu_s": closed / cpu,
        "load": (load0, os.getloadavg()[0]),
        **_parts(url),
    }


def _parts(url: str) -> dict[str, float]:
    """The same sessions read back and scored with no storing, timed apart (CPU)."""
    from sqlalchemy import select

    from cxloop.insight.digital import score_stored
    from cxloop.signals.digital_sessions import body_events
    from cxloop.store.engine import session_scope
    from cxloop.store.models.digital import DigitalBatch

    with session_scope(url) as session:
        rows = session.execute(
            select(DigitalBatch.session_id, DigitalBatch.body).order_by(
                DigitalBatch.session_id, DigitalBatch.id
            )
        ).all()
    bodies: dict[int, list[str]] = {}
    for session_id, body in rows:
        bodies.setdefault(session_id, []).append(body)
    del rows
    parse = score = 0.0
    for texts in bodies.values():
        t0 = time.process_time()
        events = body_events(texts)
        t1 = time.process_time()
        score_stored(events)
        score += time.process_time() - t1
        parse += t1 - t0
    n = len(bodies)
    return {"score_only_per_cpu_s": n / score, "parse_only_per_cpu_s": n / parse}


def report(res: dict[str, Any], score: dict[str, Any], args: argparse.Namespace) -> str:
    backend = "PostgreSQL" if args.database_url.startswith("postgresql") else "SQLite (WAL)"
    lost = res["requests"] - res["non2xx"] - res["stored_batches"]
    loop, http = server_flavour()
    return "\n".join(
        [
            SUB + f" ({backend})",
            "",
            "`bench/bench_collector.py` runs the app under uvicorn (one process, one event",
            f"loop: `--loop {loop} --http {http}`; the group-commit writer thread) and drives",
            f"`POST /collect` with `wrk` (1 thread, {args.connections} connections, "
            f"{args.seconds} s after a 3 s warm-up)",
            "over loopback. Each request is a new 50-event batch (`text/plain`, ~5 KB,",
            "an allowed Origin, 2,000 rotating sessions); the per-client rate limit is",
            "lifted for the run. Scoring: generated sessions (2-6 pages, 30 % frustrated)",
            "are stored, then `close_idle_sessions` reads their batches back, scores them",
            "and stores their signals, page scores and figures, 500 sessions per round.",
            "",
            "| measure | result |",
            "|---|---|",
            f"| collector throughput | {res['rps']:,.0f} batches/s = "
            f"**{res['events_per_s']:,.0f} events/s** wall clock |",
            f"| collector CPU | server process {res['server_cpu_s']:.1f} CPU-s for the run = "
            f"**{res['events_per_cpu_s']:,.0f} events per CPU-second** |",
            f"| latency | p50 {res['p50_ms']:.1f} ms, p99 {res['p99_ms']:.1f} ms |",
            f"| answered 200 vs stored | {res['requests'] - res['non2xx']:,} answered, "
            f"{res['stored_batches']:,} stored (+ warm-up), {res['non2xx']} errors; "
            f"lost: {max(0, lost)} |",
            f"| close + score + store ({score['sessions']:,} sessions, "
            f"{score['events']:,} events) | **{score['per_cpu_s']:,.0f} sessions per "
            f"CPU-second**, {score['per_s']:,.0f}/s wall clock |",
            f"| the same sessions: `score_stored` alone / reading events alone "
            f"| {score['score_only_per_cpu_s']:,.0f} / {score['parse_only_per_cpu_s']:,.0f} "
            "sessions per CPU-second |",
            "",
            "Targets: >= 20,000 events/s in one process; >= 1,000 sessions/s scoring. "
            f"Machine: {os.cpu_count()}-core VM ({platform.processor() or platform.machine()}), "
            f"Python {platform.python_version()}, wrk on the same machine (it takes one of "
            "the cores), other jobs running: load average "
            f"{res['load'][0]:.1f} / {res['load'][1]:.1f} at the start / end of the load test, "
            f"{score['load'][0]:.1f} / {score['load'][1]:.1f} of the scoring run.",
            "Run: `.venv/bin/python bench/bench_collector.py [--database-url URL] [--write]`.",
            "",
        ]
    )


def write_subsection(text: str) -> None:
    doc = DOC.read_text()
    sec = doc.find(SECTION + "\n")
    if sec < 0:
        doc = doc.rstrip("\n") + f"\n\n{SECTION}\n\n" + text
    else:
        end = doc.find("\n## ", sec + len(SECTION))
        end = len(doc) if end < 0 else end + 1
        head = text.split("\n", 1)[0]
        start = doc.find(head, sec, end)
        if start < 0:
            insert = doc[:end].rstrip("\n") + "\n\n" + text
            doc = insert + ("\n" if end < len(doc) else "") + doc[end:]
        else:
            stop = doc.find("\n###", start + len(head))
            stop = end if stop < 0 or stop > end else stop + 1
            doc = doc[:start] + text + ("\n" if stop < len(doc) else "") + doc[stop:]
    DOC.write_text(doc)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", default="", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.serve:
        serve(args.database_url, args.port, args.data_dir)
        return
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if not args.database_url:
            args.database_url = f"sqlite:///{tmp / 'bench.db'}"
        prepare_database(args.database_url)
        res = load_test(args.database_url, args.seconds, args.connections, tmp)
        print(res.pop("raw"))
        score = score_path(args.database_url, args.sessions)
    text = report(res, score, args)
    print(text)
    if args.write:
        write_subsection(text)


if __name__ == "__main__":
    main()
