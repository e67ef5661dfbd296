"""Benchmark ``cxloop.act.rules.evaluate_record``: the rule engine plus its database work.

100 active rules (those of bench_rules.py, each opening a case) on a SQLite file database.
Reports records/second for records that fire no rule (the common path: one cached-rules check
and the org-unit lookup) and for the generated mix, where every firing writes a firing row,
a case and its routing event.

Run: .venv/bin/python bench/bench_evaluate_record.py [--records N]
"""

from __future__ import annotations

import argparse
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


def _run(url: str, records: list[RuleRecord], batch: bool) -> tuple[float, int]:
    session = session_factory(url)()
    start = time.perf_counter()
    if batch:
        fired = len(act_rules.evaluate_records(session=session, records=records))
    else:
        fired = sum(len(act_rules.evaluate_record(session=session, record=r)) for r in records)
    session.commit()
    elapsed = time.perf_counter() - start
    session.close()
    return len(records) / elapsed, fired


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        ids = _setup(url)
        raw = generate_records(args.records * 3)
        ruleset = act_rules._compiled(session_factory(url)()).ruleset  # noqa: SLF001
        quiet = [r for r in raw if not ruleset.matches(r)][: args.records]
        mix = raw[: args.records]
        quiet_rate, quiet_fired = _run(url, _records(quiet, ids, "q"), batch=False)
        batch_rate, _ = _run(url, _records(quiet, ids, "b"), batch=True)
        mix_rate, mix_fired = _run(url, _records(mix, ids, "m"), batch=False)
    print(f"python {platform.python_version()} on {platform.machine()}, SQLite")
    print(
        "| records | evaluate_record, no firing | evaluate_records batch, no firing "
        "| evaluate_record, generated mix (firings) |"
    )
    print("|---:|---:|---:|---:|")
    print(
        f"| {len(quiet):,} | {quiet_rate:,.0f} rec/s | {batch_rate:,.0f} rec/s "
        f"| {mix_rate:,.0f} rec/s ({mix_fired:,} cases) |"
    )
    assert quiet_fired == 0


if __name__ == "__main__":
    main()
