"""Benchmark: `cxloop import feedback` of a large generated CSV (rows/s and peak memory).

Run: .venv/bin/python bench/bench_feedback_import.py [--rows N] [--workers W] [--keep DIR]
     [--no-reimport]

Generates a bilingual CSV (75 % Japanese, one to three sentences, a pool of 50,000
customers, 8 stores), then runs the real command line in a child process on a fresh
SQLite database, sampling the resident memory of the whole process tree (the importer
and its analysis workers) every 0.5 s, and the machine's load average with it (wall time
on a shared machine means little without it). A second run on the same file measures the
idempotent re-import (everything reported as a duplicate).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cxloop.demo.feedback_texts import EN, JA

ROOT = Path(__file__).resolve().parents[1]
STORES = ["store_a", "store_b", "store_c", "store_d", "store_e", "store_f", "store_g", "store_h"]
SOURCES = ["review", "survey_comment", "social_post", "email", "complaint_letter"]


def generate(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    ja, en = list(JA.values()), list(EN.values())
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "body", "date", "store", "kind", "email", "stars"])
        for i in range(rows):
            japanese = rng.random() < 0.75
            bank = ja if japanese else en
            parts = [rng.choice(rng.choice(bank)) for _ in range(rng.choice((1, 2, 2, 3)))]
            text = ("" if japanese else " ").join(parts).replace("{staff}", "田中")
            when = start + timedelta(seconds=rng.randrange(300 * 86400))
            w.writerow(
                [
                    f"b{i}",
                    text,
                    when.strftime("%Y-%m-%d %H:%M"),
                    rng.choice(STORES),
                    rng.choice(SOURCES),
                    f"c{rng.randrange(50_000)}@bench.example",
                    rng.randint(1, 5),
                ]
            )


def _tree_memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) bytes of ``pid`` and all its descendants (Linux /proc).

    RSS counts pages shared between the processes (the dictionary, libraries) once per
    process; PSS splits them, so the PSS sum is the memory the tree really uses.
    """
    rss = pss = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1]) * 1024
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
            # Direct children only: scanning all of /proc five times a second cost the
            # loaded machine more CPU than the importer's own parsing.
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo.extend(int(c) for c in fh.read().split())
        except OSError:
            pass
    return rss, pss


def run_import(
    env: dict[str, str], csv_path: Path, workers: int
) -> tuple[float, float, tuple[int, int], tuple[float, float], str]:
    args = [
        sys.executable,
        "-m",
        "cxloop",
        "import",
        "feedback",
        str(csv_path),
        "--map",
        "text=body",
        "--map",
        "occurred_at=date",
        "--map",
        "org_unit=store",
        "--map",
        "source=kind",
        "--map",
        "external_id=id",
        "--map",
        "customer_email=email",
        "--map",
        "rating=stars",
        "--workers",
        str(workers),
        "--batch-size",
        "1000",
    ]
    peak = [0, 0]
    loads: list[float] = []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss, pss = _tree_memory(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            loads.append(os.getloadavg()[0])
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    done.set()
    sampler.join()
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(out.decode(errors="replace")[-2000:])
    load = (sum(loads) / len(loads), max(loads)) if loads else (0.0, 0.0)
    summary = out.decode(errors="replace").strip().splitlines()[-1]
    return elapsed, cpu, (peak[0], peak[1]), load, summary


def prepare_db(url: str) -> None:
    from cxloop.store.engine import session_scope
    from cxloop.store.migrate import upgrade
    from cxloop.store.org import create_unit

    upgrade(url)
    with session_scope(url) as session:
        company = create_unit(session=session, code="bench", name="Bench", kind="company")
        for code in STORES:
            create_unit(
                session=session,
                code=code,
                name=code,
                kind="store",
                parent=company,
                timezone="Asia/Tokyo",
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--no-reimport", action="store_true", help="Skip the second run.")
    opts = parser.parse_args()
    base = opts.keep or Path(tempfile.mkdtemp(prefix="cxloop-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    csv_path = base / "feedback.csv"
    t0 = time.perf_counter()
    generate(csv_path, opts.rows)
    size = csv_path.stat().st_size
    sys.stdout.write(
        f"generated {opts.rows:,} rows, {size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s\n"
    )
    url = f"sqlite:///{base / 'bench.db'}"
    prepare_db(url)
    env = {**os.environ, "CXLOOP_DATABASE_URL": url, "CXLOOP_DATA_DIR": str(base)}
    labels = ["first import"] + ([] if opts.no_reimport else ["re-import (all duplicates)"])
    for label in labels:
        elapsed, cpu, peak, load, summary = run_import(env, csv_path, opts.workers)
        sys.stdout.write(
            f"{label}: {elapsed:.1f} s wall, {opts.rows / elapsed:,.0f} rows/s; "
            f"{cpu:.1f} CPU-s ({opts.rows / cpu:,.0f} rows per CPU-second); "
            f"peak memory of the process tree: PSS {peak[1] / 2**20:,.0f} MiB, "
            f"RSS {peak[0] / 2**20:,.0f} MiB; load average {load[0]:.1f} (max {load[1]:.1f})"
            f"\n  {summary}\n"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
