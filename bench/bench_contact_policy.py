"""Benchmark: plan a relationship wave for a large population with the full policy.

Run: .venv/bin/python bench/bench_contact_policy.py [customers]
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

import numpy as np

from cxloop.signals.contact_policy import (
    ContactPolicy,
    CustomerFacts,
    FrequencyCap,
    Invitation,
    Population,
    QuietHours,
    SendLog,
    SensitivityRule,
    SentInvitation,
    decide,
    plan_wave,
    to_micros,
)

ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "UTC",
]
INDUSTRIES = ["travel", "retail", "banking", "telecom", "health"]
TIERS = ["bronze", "silver", "gold", "platinum"]
SURVEYS = ["rel-nps", "csat-support", "ces-onboarding", "csat-delivery"]
SEND_AT = datetime(2026, 3, 8, 3, 0, tzinfo=UTC)
POLICY = ContactPolicy(
    caps=(FrequencyCap(2, 90), FrequencyCap(1, 365, survey_id="rel-nps")),
    min_days_between=30,
    quiet_hours=QuietHours(clock(21), clock(9)),
    sample_percent=40,
    sensitivity_rules=(
        SensitivityRule(
            "Travel disruption",
            "industry",
            ("travel",),
            date(2026, 3, 1),
            date(2026, 4, 15),
            "airline strikes",
        ),
        SensitivityRule(
            "Renewals",
            "tier",
            ("gold", "platinum"),
            date(2026, 3, 1),
            date(2026, 3, 31),
            "account teams own contact",
        ),
    ),
)


def build(n: int, seed: int = 1) -> tuple[Population, SendLog]:
    rng = np.random.default_rng(seed)
    per_customer = rng.poisson(3.0, n)
    cust = np.repeat(np.arange(n), per_customer)
    days_ago = rng.uniform(0, 730, cust.size)
    sent = (to_micros(SEND_AT) - (days_ago * 86_400_000_000).astype(np.int64)).astype(np.int64)
    population = Population(
        customer_ids=np.arange(1, n + 1, dtype=np.int64),
        zone_codes=rng.integers(0, len(ZONES), n),
        zones=ZONES,
        opted_out=rng.random(n) < 0.03,
        unsubscribed=rng.random(n) < 0.02,
        attributes={
            "industry": rng.integers(0, len(INDUSTRIES), n),
            "tier": rng.integers(-1, len(TIERS), n),
        },
        categories={"industry": INDUSTRIES, "tier": TIERS},
    )
    return population, SendLog(cust, sent, rng.integers(0, len(SURVEYS), cust.size), SURVEYS)


def scalar_rate(population: Population, log: SendLog, m: int) -> float:
    """Decisions per second of the scalar engine on the first ``m`` customers."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    histories: list[list[SentInvitation]] = [[] for _ in range(m)]
    keep = log.customer_index < m
    for c, t, s in zip(
        log.customer_index[keep], log.sent_at_us[keep], log.survey_codes[keep], strict=True
    ):
        histories[c].append(SentInvitation(epoch + timedelta(microseconds=int(t)), SURVEYS[s]))
    facts = []
    for i in range(m):
        tier = int(population.attributes["tier"][i])
        attributes = {"industry": INDUSTRIES[int(population.attributes["industry"][i])]}
        if tier >= 0:
            attributes["tier"] = TIERS[tier]
        facts.append(
            CustomerFacts(
                int(population.customer_ids[i]),
                ZONES[int(population.zone_codes[i])],
                bool(population.opted_out[i]),
                bool(population.unsubscribed[i]),
                attributes,
            )
        )
    start = time.perf_counter()
    for f, h in zip(facts, histories, strict=True):
        inv = Invitation(f.customer_id, "rel-nps", "relationship", SEND_AT, "2026Q1")
        decide(inv, f, h, POLICY)
    return m / (time.perf_counter() - start)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    population, log = build(n)
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        plan = plan_wave(
            population,
            log,
            survey_id="rel-nps",
            program="relationship",
            send_at=SEND_AT,
            policy=POLICY,
            wave="2026Q1",
        )
        runs.append(time.perf_counter() - start)
    print(f"customers: {n:,}  history rows: {log.customer_index.size:,}")
    print(f"plan_wave: best {min(runs):.2f} s, median {sorted(runs)[1]:.2f} s of 3 runs")
    for code, count in plan.counts().items():
        print(f"  {code:22s} {count:>9,}")
    print(f"scalar decide: {scalar_rate(population, log, 20_000):,.0f} decisions/s")


if __name__ == "__main__":
    main()
