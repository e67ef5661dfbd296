"""Benchmark: `cxloop import events` (rows/s) and the stuck-invitation sweep (sends/s).

Run: .venv/bin/python bench/bench_survey_events.py [--rows N] [--sweep M]
     [--database-url postgresql://...]

Generates a CSV of N store visits (a pool of 20,000 customers, 8 stores, a third of the
rows with an extra attribute column), imports it in this process into a fresh database
with one live transactional program (new customers created), then imports it again (all
duplicates). Then M invitations are left `pending` long past their send time, as after a
restore, and the sweep sends them in this process to a local aiosmtpd server (its CPU is
in the figure). Wall and process CPU times are printed with the load average.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

STORES = ["store_a", "store_b", "store_c", "store_d", "store_e", "store_f", "store_g", "store_h"]
TYPES = ["store_visit", "order_delivered", "call_ended"]


def generate(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["type", "org_unit", "customer_email", "occurred_at", "touchpoint", "ext_ref"])
        for i in range(rows):
            when = start + timedelta(seconds=rng.randrange(300 * 86400))
            w.writerow(
                [
                    rng.choice(TYPES),
                    rng.choice(STORES),
                    f"c{rng.randrange(20_000)}@bench.example",
                    when.isoformat(),
                    rng.choice(("checkout", "counter", "phone")),
                    f"r{i}" if i % 3 == 0 else "",
                ]
            )


def prepare(url: str) -> None:
    from cxloop.signals.survey_definitions import SurveyDefinition
    from cxloop.signals.survey_programs import ProgramCreate, create_program
    from cxloop.signals.surveys import SurveyCreate, create_survey
    from cxloop.store.engine import session_scope
    from cxloop.store.migrate import upgrade
    from cxloop.store.org import create_unit

    upgrade(url)
    text = {"en": "How likely are you to recommend us?", "ja": "おすすめ度は？"}
    with session_scope(url) as session:
        company = create_unit(session=session, code="bench", name="Bench", kind="company")
        for code in STORES:
            create_unit(session=session, code=code, name=code, kind="store", parent=company)
        survey = create_survey(
            session=session,
            data=SurveyCreate(
                key="visit-nps",
                org_unit_id=company.id,
                title={"en": "Visit", "ja": "来店"},  # type: ignore[arg-type]
                status="live",
                definition=SurveyDefinition.model_validate(
                    {"questions": [{"id": "nps", "type": "nps", "text": text}]}
                ),
            ),
        )
        create_program(
            session=session,
            data=ProgramCreate.model_validate(
                {
                    "key": "post-visit",
                    "name": "post visit",
                    "kind": "transactional",
                    "survey_id": survey.id,
                    "org_unit_id": company.id,
                    "event_types": ["store_visit"],
                    "delay_minutes": 60,
                    "unknown_customer": "create",
                }
            ),
        )


def _timed(fn):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def bench_import(url: str, path: Path, rows: int, data_dir: Path) -> None:
    from cxloop.signals.survey_event_import import import_events

    for label in ("first import", "re-import (all duplicates)"):
        report, wall, cpu = _timed(
            lambda: import_events(path, database_url=url, default_language="en")
        )
        sys.stdout.write(
            f"{label}: {wall:.1f} s wall, {rows / wall:,.0f} rows/s; {cpu:.1f} CPU-s "
            f"({rows / cpu:,.0f} rows per CPU-s); load {os.getloadavg()[0]:.1f}\n"
            f"  imported {report.imported:,}, duplicates {report.duplicates:,}, "
            f"invitations {report.invitations:,}, customers created "
            f"{report.customers_created:,}, rejected {report.rejected:,}\n"
        )


def bench_sweep(url: str, sweep: int, data_dir: Path) -> None:
    from aiosmtpd.controller import Controller
    from sqlalchemy import select, update

    from cxloop.config import load_settings
    from cxloop.jobs import JobContext
    from cxloop.signals.survey_tasks import requeue_stuck_invitations
    from cxloop.store.engine import session_scope
    from cxloop.store.models.surveys import SurveyInvitation

    class _Sink:
        count = 0

        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            _Sink.count += 1
            return "250 OK"

    with session_scope(url) as session:
        keep = session.scalars(
            select(SurveyInvitation.id).order_by(SurveyInvitation.id).limit(sweep)
        ).all()
        session.execute(
            update(SurveyInvitation)
            .where(SurveyInvitation.id.not_in(keep))
            .values(status="suppressed", reason_code="bench", reason="bench")
        )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(_Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = load_settings(
            env="test",
            data_dir=data_dir,
            database_url=url,
            secret_key="bench-" + "k" * 40,
            smtp_port=port,
        )
        outcomes, wall, cpu = _timed(lambda: requeue_stuck_invitations(JobContext(settings)))
        again, _, _ = _timed(lambda: requeue_stuck_invitations(JobContext(settings)))
    finally:
        controller.stop()
    sent = sum(1 for o in outcomes.values() if o == "sent")
    sys.stdout.write(
        f"sweep of {len(keep):,} stuck invitations: {sent:,} sent, {_Sink.count:,} mails "
        f"received, second sweep {len(again)}; {wall:.1f} s wall, {sent / wall:,.0f} sends/s; "
        f"{cpu:.1f} CPU-s ({sent / cpu:,.0f} per CPU-s, SMTP server included); "
        f"load {os.getloadavg()[0]:.1f}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--sweep", type=int, default=1_000)
    parser.add_argument("--database-url", default=None)
    opts = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="cxloop-bench-events-"))
    path = base / "events.csv"
    generate(path, opts.rows)
    url = opts.database_url or f"sqlite:///{base / 'bench.db'}"
    prepare(url)
    sys.stdout.write(f"database {url.split('://')[0]}, {opts.rows:,} rows\n")
    bench_import(url, path, opts.rows, base)
    bench_sweep(url, opts.sweep, base)


if __name__ == "__main__":
    main()
