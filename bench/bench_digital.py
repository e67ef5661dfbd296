"""Digital body language: scoring speed, batch validation speed and tracker.js size.

    .venv/bin/python bench/bench_digital.py [--sessions N] [--write]

Scores generated sessions (typical: 2-6 pages, 70 % calm, 30 % acting out one to three
frustrations; heavy: 12 pages) with score_session, validates tracker batches with
parse_batch, and reports tracker.js raw and gzipped size. --write replaces the
"## Digital body language" section of docs/benchmarks.md up to its first "###"
sub-section (bench_collector.py writes "### Collector").
"""

from __future__ import annotations

import os

# One core: the targets are per core, and BLAS must not borrow the second one.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from cxloop.insight.digital import SIGNAL_TYPES, Event, parse_batch, score_session  # noqa: E402
from cxloop.insight.digital.synthetic import synthetic_session, to_wire  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
TRACKER = ROOT / "src" / "cxloop" / "web" / "static" / "tracker.js"
HEADING = "## Digital body language"


def make_sessions(n: int, seed: int, pages: int | None = None) -> list[list[Event]]:
    rng = np.random.default_rng(seed)
    sessions = []
    for _ in range(n):
        frustration: list[str] = []
        if rng.random() < 0.3:
            k = int(rng.integers(1, 4))
            frustration = list(rng.choice(SIGNAL_TYPES, size=k, replace=False))
        sessions.append(synthetic_session(rng, pages=pages, frustration=frustration))
    return sessions


def time_scoring(sessions: list[list[Event]], repeats: int) -> tuple[list[float], list[float]]:
    """Sessions per CPU second and per wall-clock second, for each pass over all sessions.

    CPU time is the fair per-core figure on a shared machine: other jobs stealing the
    core stretch wall time but not the process's CPU time.
    """
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        for events in sessions:
            score_session(events)
        cpu.append(len(sessions) / (time.process_time() - c0))
        wall.append(len(sessions) / (time.perf_counter() - w0))
    return cpu, wall


def make_batches(sessions: list[list[Event]]) -> list[str]:
    """Cut sessions into ~3 s batches as tracker.js would send them."""
    bodies = []
    for i, events in enumerate(sessions):
        chunk: list[dict[str, object]] = []
        for e in events:
            chunk.append(to_wire(e))
            if e.ts - int(str(chunk[0]["ts"])) >= 3000 or len(chunk) >= 200:
                bodies.append(_body(i, len(bodies), chunk))
                chunk = []
        if chunk:
            bodies.append(_body(i, len(bodies), chunk))
    return bodies


def _body(session: int, batch: int, events: list[dict[str, object]]) -> str:
    return json.dumps(
        {
            "v": 1,
            "site_key": "site_bench",
            "session_id": f"s{session:015d}",
            "batch_id": f"b{batch:015d}",
            "customer_id": None,
            "sent_at": int(str(events[-1]["ts"])) + 20,
            "events": events,
        }
    )


def time_validation(bodies: list[str], repeats: int) -> tuple[float, float]:
    """Best batches and events per CPU second."""
    events = sum(len(json.loads(b)["events"]) for b in bodies)
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for body in bodies:
            parse_batch(body)
        best = min(best, time.process_time() - start)
    return len(bodies) / best, events / best


def report(n: int) -> str:
    typical = make_sessions(n, seed=1)
    heavy = make_sessions(max(1, n // 5), seed=2, pages=12)
    sizes = [len(s) for s in typical]
    heavy_sizes = [len(s) for s in heavy]
    time_scoring(typical[:200], 1)  # warm up
    rates, wall = time_scoring(typical, 3)
    heavy_rates, heavy_wall = time_scoring(heavy, 3)
    batches = make_batches(typical[: max(1, n // 4)])
    batch_rate, event_rate = time_validation(batches, 3)
    raw = TRACKER.read_bytes()
    gz = len(gzip.compress(raw, compresslevel=9))
    p50, p90 = np.percentile(sizes, [50, 90])
    h50 = np.percentile(heavy_sizes, 50)

    lines = [
        HEADING,
        "",
        "`bench/bench_digital.py` scores generated tracker sessions with `score_session` (all",
        "nine detectors, engagement, session and per-page DXS, hot spots). Typical sessions:",
        "2-6 pages, mouse sampled at 20 Hz while moving, throttled scrolls, clicks with page",
        "responses, a checkout form; 70 % calm, 30 % acting out one to three frustrations.",
        "",
        "| measure | result |",
        "|---|---|",
        f"| typical sessions ({n:,}; events per session median {p50:.0f}, p90 {p90:.0f}) "
        f"| {max(rates):,.0f} sessions per CPU-second best, "
        f"{statistics.median(rates):,.0f} median of 3 passes "
        f"(wall clock: {statistics.median(wall):,.0f}/s) |",
        f"| heavy sessions ({len(heavy):,}; 12 pages, median {h50:.0f} events) "
        f"| {max(heavy_rates):,.0f} per CPU-second best, "
        f"{statistics.median(heavy_rates):,.0f} median "
        f"(wall clock: {statistics.median(heavy_wall):,.0f}/s) |",
        f"| `parse_batch` (strict Pydantic validation), {len(batches):,} ~3 s batches "
        f"| {batch_rate:,.0f} batches, {event_rate:,.0f} events per CPU-second |",
        f"| `tracker.js` size | {len(raw):,} bytes raw, {gz:,} bytes gzipped (-9), "
        f"not minified; budget 8 KB gzipped |",
        "",
        "Target: >= 1,000 sessions/s on one core. Machine: shared 2-core VM, "
        f"Python {platform.python_version()}, NumPy {np.__version__},",
        "with other jobs running (hence CPU time; wall clock is shown for reference).",
        "Run: `.venv/bin/python bench/bench_digital.py [--sessions N] [--write]`.",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    """Replace (or append) this benchmark's part of its section: the text from the heading
    to the first ``###`` sub-section, which other benches (the collector's) write."""
    doc = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    start = doc.find(HEADING + "\n")
    if start < 0:
        doc = doc.rstrip("\n") + "\n\n" + text
    else:
        nxt = doc.find("\n## ", start + len(HEADING))
        end = len(doc) if nxt < 0 else nxt + 1
        sub = doc.find("\n### ", start + len(HEADING), end)
        stop = end if sub < 0 else sub + 1
        doc = doc[:start] + text + ("\n" if stop < len(doc) else "") + doc[stop:]
    DOC.write_text(doc)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    text = report(args.sessions)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
