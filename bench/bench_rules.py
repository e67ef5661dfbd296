"""Benchmark the alert-rule engine: 100 realistic rules against 100k generated records.

Run: .venv/bin/python bench/bench_rules.py [--records N]
Reports records/second for the indexed RuleSet and for naive evaluation of every rule.
"""

from __future__ import annotations

import argparse
import platform
import random
import time

from cxloop.act.rule_language import RuleSet, compile_condition

TOUCHPOINTS = ["contact_centre", "store", "web", "app", "delivery", "billing_portal"]
THEMES = ["billing", "cancellation", "delivery", "staff", "price", "app_bug", "wait_time"]
SOURCES = ["survey", "review", "social", "email", "call_transcript", "agent_note"]
UNITS = [f"store-{i:03d}" for i in range(40)]
METRICS = ["average_handle_time", "first_contact_resolution", "churn_rate", "wait_time"]
SENTIMENTS = ["very_negative", "negative", "neutral", "positive", "very_positive"]
PHRASES = [
    "thanks, great service",
    "I want to cancel my account",
    "来月で解約します",
    "the app keeps crashing",
    "待ち時間が長すぎる",
    "billing was wrong again",
    "ｶｲﾔｸ手続き",
    "staff were friendly",
]


def build_rules() -> dict[str, str]:
    rules: dict[str, str] = {}
    for tp in TOUCHPOINTS:
        rules[f"detractor_{tp}"] = f'nps <= 6 and touchpoint = "{tp}"'
        rules[f"low_csat_{tp}"] = f'csat <= 2 and touchpoint = "{tp}"'
        rules[f"high_effort_{tp}"] = f'ces >= 6 and touchpoint = "{tp}"'
    for unit in UNITS[:20]:
        rules[f"unit_{unit}"] = f'org_unit = "{unit}" and (nps <= 4 or csat <= 1)'
    for theme in THEMES:
        rules[f"angry_{theme}"] = f'sentiment = "very_negative" and theme = "{theme}"'
        rules[f"gold_{theme}"] = (
            f'segment.tier = "gold" and theme = "{theme}" and sentiment_score < -0.3'
        )
    for src in SOURCES:
        rules[f"bad_{src}"] = f'rating <= 2 and source = "{src}"'
    rules["churn_words"] = 'text contains_any ("解約", "cancel my account", "カイヤク")'
    rules["crash_words"] = 'text contains_any ("crash", "フリーズ")'
    rules["wait_words"] = 'text contains "待ち時間"'
    rules["legal_words"] = 'text contains_any ("lawyer", "弁護士", "消費者センター")'
    for threshold in (2, 3, 4, 5):
        rules[f"dxs_below_{threshold}"] = f"dxs < {threshold}"
        rules[f"rage_dxs_{threshold}"] = f'signals = "rage_click" and dxs < {threshold + 1}'
    for name in METRICS:
        rules[f"metric_{name}_high"] = f'metric("{name}") > 600'
        rules[f"metric_{name}_low"] = f'metric("{name}") < 0.2'
    rules["enterprise_detractor"] = 'attributes.plan = "enterprise" and nps <= 6'
    rules["big_account"] = "attributes.seats >= 500 and (nps <= 6 or csat <= 2)"
    rules["non_gold_review"] = 'not (segment.tier = "gold") and source = "review" and rating <= 1'
    rules["ja_negative"] = 'language = "ja" and sentiment in ("negative", "very_negative")'
    rules["unknown_lang"] = 'kind = "feedback" and language is null'
    i = 0
    while len(rules) < 100:
        tp = TOUCHPOINTS[i % len(TOUCHPOINTS)]
        theme = THEMES[i % len(THEMES)]
        rules[f"combo_{i}"] = (
            f'touchpoint = "{tp}" and theme in ("{theme}", "price") and nps <= {i % 7}'
        )
        i += 1
    return rules


def generate_records(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    records: list[dict] = []
    for _ in range(n):
        roll = rng.random()
        base = {
            "org_unit": rng.choice(UNITS),
            "touchpoint": rng.choice(TOUCHPOINTS),
            "segment": {"tier": rng.choice(["gold", "silver", "bronze"])},
        }
        if roll < 0.45:
            base |= {
                "kind": "response",
                "source": "survey",
                "nps": rng.randint(0, 10),
                "csat": rng.randint(1, 5) if rng.random() < 0.5 else None,
                "ces": rng.randint(1, 7) if rng.random() < 0.3 else None,
                "text": rng.choice(PHRASES),
                "language": rng.choice(["en", "ja"]),
                "sentiment": rng.choice(SENTIMENTS),
                "sentiment_score": rng.uniform(-1, 1),
                "theme": rng.sample(THEMES, rng.randint(0, 2)),
                "attributes": {
                    "plan": rng.choice(["free", "pro", "enterprise"]),
                    "seats": rng.randint(1, 1000),
                },
            }
        elif roll < 0.75:
            base |= {
                "kind": "feedback",
                "source": rng.choice(SOURCES),
                "rating": rng.randint(1, 5) if rng.random() < 0.4 else None,
                "rating_scale": 5,
                "text": rng.choice(PHRASES) * rng.randint(1, 4),
                "language": rng.choice(["en", "ja", None]),
                "sentiment": rng.choice(SENTIMENTS),
                "sentiment_score": rng.uniform(-1, 1),
                "theme": rng.sample(THEMES, rng.randint(0, 3)),
            }
        elif roll < 0.95:
            base |= {
                "kind": "digital_session",
                "source": "tracker",
                "dxs": rng.uniform(0, 10),
                "signals": rng.sample(
                    ["rage_click", "dead_click", "error", "u_turn"], rng.randint(0, 2)
                ),
            }
        else:
            base |= {
                "kind": "metric",
                "source": "import",
                "metrics": {rng.choice(METRICS): rng.uniform(0, 1000)},
            }
        records.append(base)
    return records


def _rate(fn, records: list[dict]) -> tuple[float, int]:
    start = time.perf_counter()
    hits = 0
    for rec in records:
        hits += len(fn(rec))
    return len(records) / (time.perf_counter() - start), hits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    rules = build_rules()
    assert len(rules) == 100
    t0 = time.perf_counter()
    ruleset = RuleSet(rules)
    compile_ms = (time.perf_counter() - t0) * 1000
    records = generate_records(args.records)
    conditions = [(rid, compile_condition(src)) for rid, src in rules.items()]

    def naive(rec: dict) -> list[str]:
        return [rid for rid, cond in conditions if cond(rec)]

    indexed_rate, indexed_hits = max(_rate(ruleset.matches, records) for _ in range(3))
    naive_rate, naive_hits = max(_rate(naive, records) for _ in range(2))
    assert indexed_hits == naive_hits, "index changed the result"
    print(f"python {platform.python_version()} on {platform.machine()}")
    print("| rules | records | compile 100 rules | indexed RuleSet | naive (all rules) | matches |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {len(rules)} | {len(records):,} | {compile_ms:.1f} ms | {indexed_rate:,.0f} rec/s "
        f"| {naive_rate:,.0f} rec/s | {indexed_hits:,} |"
    )


if __name__ == "__main__":
    main()
