"""Benchmark ``cxloop.act.rules.evaluate_record``: the rule engine plus its database work.

100 active rules (those of bench_rules.py, each opening a case) on a SQLite file database.
Reports records per wall second and per CPU second of the process (fair on a loaded machine)
for records that fire no rule (the common path: the rule table is checked once per
transaction, the org-unit path is cached), with one transaction for all and with a commit per
record (as a web request stores one record), and for the generated mix, where every firing
writes a firing row, a case and its routing event.

Run: .venv/bin/python bench/bench_evaluate_record.py [--records N] [--mix N]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_rules import UNITS, build_rules, generate_records  # noqa: E402

from cxloop.act import rules as act_rules  # noqa: E402
from cxloop.act.hooks import RuleRecord  # noqa: E402
from cxloop.store.engine import session_factory  # noqa: E402
from cxloop.store.migrate import upgrade  # noqa: E402
from cxloop.store.org import create_unit  # noqa: E402


def _setup(url: str) -> dict[str, int]:
    upgrade(url)
    session = session_factory(url)()
    company = create_unit(session=session, code="co", name="Co", kind="company")
    ids = {}
    for code in UNITS:
        ids[code] = create_unit(
            session=session, code=code, name=code, kind="store", parent=company
        ).id
    for name, condition in build_rules().items():
        act_rules.create_rule(
            session=session,
            org_unit_id=company.id,
            name=name,
            condition=condition,
            actions=[{"type": "open_case"}],
        )
    session.commit()
    session.close()
    return ids


def _records(raw: list[dict], ids: dict[str, int], prefix: str) -> list[RuleRecord]:
    out = []
    for i, rec in enumerate(raw):
        fields = {k: v for k, v in rec.items() if k != "kind" and v is not None}
        out.append(RuleRecord(rec["kind"], f"{prefix}{i}", ids[rec["org_unit"]], fields))
    return out


def _run(url: str, records: list[RuleRecord], mode: str) -> tuple[float, float, int]:
    """Records per wall second and per CPU second, and the firings, for one ``mode``:
    ``batch`` (evaluate_records), ``single`` (evaluate_record, one transaction) or
    ``commit`` (evaluate_record and a commit per record, as the web does)."""
    session = session_factory(url)()
    start, cpu = time.perf_counter(), time.process_time()
    if mode == "batch":
        fired = len(act_rules.evaluate_records(session=session, records=records))
    else:
        fired = 0
        for r in records:
            fired += len(act_rules.evaluate_record(session=session, record=r))
            if mode == "commit":
                session.commit()
    session.commit()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    session.close()
    return len(records) / elapsed, len(records) / cpu, fired


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--mix", type=int, default=2_000, help="records of the firing mix")
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        ids = _setup(url)
        raw = generate_records(args.records * 3)
        ruleset = act_rules._compiled(session_factory(url)()).ruleset  # noqa: SLF001
        quiet = [r for r in raw if not ruleset.matches(r)][: args.records]
        mix = raw[: args.mix]

        def rec(raw: list[dict], prefix: str) -> list[RuleRecord]:
            return _records(raw, ids, prefix)

        runs = {
            "evaluate_record, no firing, one transaction": _run(url, rec(quiet, "q"), "single"),
            "evaluate_record, no firing, a commit per record": _run(url, rec(quiet, "c"), "commit"),
            "evaluate_records batch, no firing": _run(url, rec(quiet, "b"), "batch"),
            "evaluate_record, generated mix, one transaction": _run(url, rec(mix, "m"), "single"),
        }
    print(
        f"python {platform.python_version()} on {platform.machine()}, SQLite, "
        f"{len(quiet):,} quiet records, {len(mix):,} in the mix"
    )
    print(f"load average before: {load[0]:.1f}, after: {os.getloadavg()[0]:.1f}")
    print("| path | records/s (wall) | records per CPU-second | firings |")
    print("|---|---:|---:|---:|")
    for name, (wall, per_cpu, fired) in runs.items():
        print(f"| {name} | {wall:,.0f} | {per_cpu:,.0f} | {fired:,} |")
    assert all(fired == 0 for name, (_, _, fired) in runs.items() if "no firing" in name)


if __name__ == "__main__":
    main()
