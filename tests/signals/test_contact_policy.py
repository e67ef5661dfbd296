from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest

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
    zones_from_offsets,
)

T = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 10:00 in New York, 00:00 in Tokyo
QUIET = QuietHours(time(21, 0), time(9, 0))
TRAVEL = SensitivityRule(
    name="Travel disruption",
    attribute="industry",
    values=("travel",),
    start=date(2026, 3, 1),
    end=date(2026, 4, 15),
    reason="airline strikes; do not survey travel customers",
)


def _inv(at=T, customer_id=7, survey="rel-nps", program="relationship", wave="2026Q1"):
    return Invitation(customer_id, survey, program, at, wave)


def _cust(zone="UTC", **kw):
    return CustomerFacts(customer_id=7, time_zone=zone, **kw)


def test_no_rules_sends_at_planned_time():
    d = decide(_inv(), _cust(), [], ContactPolicy())
    assert (d.status, d.reason_code, d.send_at) == ("sent", "sent", T)


def test_opted_out_and_unsubscribed_are_suppressed_first():
    policy = ContactPolicy(sensitivity_rules=(TRAVEL,))
    d = decide(_inv(), _cust(opted_out=True, attributes={"industry": "travel"}), [], policy)
    assert (d.status, d.reason_code, d.reason, d.send_at) == (
        "suppressed",
        "opted_out",
        "opted out",
        None,
    )
    d = decide(_inv(), _cust(unsubscribed=True), [], policy)
    assert (d.reason_code, d.reason) == ("unsubscribed", "unsubscribed")


def test_sensitivity_rule_names_rule_segment_dates_and_reason():
    d = decide(
        _inv(),
        _cust(attributes={"industry": "travel"}),
        [],
        ContactPolicy(sensitivity_rules=(TRAVEL,)),
    )
    assert d.status == "suppressed"
    assert d.reason_code == "sensitivity_rule"
    assert d.reason == (
        'sensitivity rule "Travel disruption" (industry = travel, 2026-03-01..2026-04-15): '
        "airline strikes; do not survey travel customers"
    )
    other = decide(
        _inv(),
        _cust(attributes={"industry": "retail"}),
        [],
        ContactPolicy(sensitivity_rules=(TRAVEL,)),
    )
    assert other.status == "sent"


def test_sensitivity_dates_are_inclusive_and_local():
    policy = ContactPolicy(sensitivity_rules=(TRAVEL,))
    travel = {"industry": "travel"}
    last_day = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)
    assert decide(_inv(last_day), _cust(attributes=travel), [], policy).status == "suppressed"
    # 16:00 UTC on the 15th is already the 16th in Tokyo: the rule has ended there.
    tokyo = decide(
        _inv(datetime(2026, 4, 15, 16, 0, tzinfo=UTC)),
        _cust("Asia/Tokyo", attributes=travel),
        [],
        policy,
    )
    assert tokyo.status == "sent"
    before = datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert decide(_inv(before), _cust(attributes=travel), [], policy).status == "sent"


def test_sensitivity_membership_and_program_scope():
    rule = SensitivityRule(
        "Key accounts in renewal",
        "tier",
        ("gold", "platinum"),
        date(2026, 1, 1),
        date(2026, 12, 31),
        "account teams own contact during renewal",
        programs=("relationship",),
    )
    policy = ContactPolicy(sensitivity_rules=(rule,))
    d = decide(_inv(), _cust(attributes={"tier": "platinum"}), [], policy)
    assert d.reason.startswith(
        'sensitivity rule "Key accounts in renewal" (tier in {gold, platinum}'
    )
    assert decide(_inv(), _cust(attributes={"tier": "silver"}), [], policy).status == "sent"
    assert decide(_inv(), _cust(), [], policy).status == "sent"  # attribute missing
    txn = decide(_inv(program="transactional"), _cust(attributes={"tier": "gold"}), [], policy)
    assert txn.status == "sent"


def test_global_frequency_cap_window_boundary():
    policy = ContactPolicy(caps=(FrequencyCap(1, 90),))
    exactly = [SentInvitation(T - timedelta(days=90), "other")]
    assert decide(_inv(), _cust(), exactly, policy).status == "sent"
    inside = [SentInvitation(T - timedelta(days=90) + timedelta(seconds=1), "other")]
    d = decide(_inv(), _cust(), inside, policy)
    assert (d.status, d.reason_code) == ("suppressed", "frequency_cap")
    assert d.reason == "frequency cap: 1 per 90 days (global)"


def test_per_survey_cap_counts_only_its_survey():
    policy = ContactPolicy(caps=(FrequencyCap(2, 365, survey_id="rel-nps"),))
    one = [SentInvitation(T - timedelta(days=100), "rel-nps")]
    others = one + [SentInvitation(T - timedelta(days=50), "csat-support")] * 3
    assert decide(_inv(), _cust(), others, policy).status == "sent"
    two = one + [SentInvitation(T - timedelta(days=10), "rel-nps")]
    d = decide(_inv(), _cust(), two, policy)
    assert d.reason == "frequency cap: 2 per 365 days (survey rel-nps)"
    # A cap on another survey does not apply to this invitation.
    assert decide(_inv(survey="csat-support"), _cust(), two, policy).status == "sent"


def test_future_sends_are_not_counted():
    policy = ContactPolicy(caps=(FrequencyCap(1, 90),))
    later = [SentInvitation(T + timedelta(days=1), "x")]
    assert decide(_inv(), _cust(), later, policy).status == "sent"


def test_min_gap_and_order_after_caps():
    policy = ContactPolicy(caps=(FrequencyCap(1, 90),), min_days_between=30)
    recent = [SentInvitation(T - timedelta(days=29), "x")]
    assert decide(_inv(), _cust(), recent, policy).reason_code == "frequency_cap"
    gap_only = ContactPolicy(min_days_between=30)
    d = decide(_inv(), _cust(), recent, gap_only)
    assert (d.reason_code, d.reason) == ("min_gap", "minimum gap: 30 days between invitations")
    old = [SentInvitation(T - timedelta(days=30), "x")]
    assert decide(_inv(), _cust(), old, gap_only).status == "sent"


def test_quiet_hours_defer_across_dst_in_new_york():
    # 2026-03-08 03:00 UTC is 22:00 EST on the 7th; DST starts that night, so 09:00
    # local on the 8th is 13:00 UTC (EDT, UTC-4), not 14:00.
    at = datetime(2026, 3, 8, 3, 0, tzinfo=UTC)
    d = decide(_inv(at), _cust("America/New_York"), [], ContactPolicy(quiet_hours=QUIET))
    assert d.status == "sent"
    assert d.reason_code == "deferred_quiet_hours"
    assert d.send_at == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
    assert d.reason == "quiet hours 21:00-09:00 (America/New_York): deferred to 09:00 local"


@pytest.mark.parametrize(
    ("planned", "expected"),
    [
        (datetime(2026, 3, 10, 12, 0), datetime(2026, 3, 11, 0, 0)),  # 21:00 JST: start
        (datetime(2026, 3, 10, 14, 59), datetime(2026, 3, 11, 0, 0)),  # 23:59 JST
        (datetime(2026, 3, 10, 23, 30), datetime(2026, 3, 11, 0, 0)),  # 08:30 JST next day
        (datetime(2026, 3, 11, 0, 0), datetime(2026, 3, 11, 0, 0)),  # 09:00 JST: allowed
        (datetime(2026, 3, 10, 11, 59), datetime(2026, 3, 10, 11, 59)),  # 20:59 JST
    ],
)
def test_quiet_hours_crossing_midnight_in_tokyo(planned, expected):
    d = decide(
        _inv(planned.replace(tzinfo=UTC)), _cust("Asia/Tokyo"), [], ContactPolicy(quiet_hours=QUIET)
    )
    assert d.status == "sent"
    assert d.send_at == expected.replace(tzinfo=UTC)
    assert (d.reason_code == "deferred_quiet_hours") == (planned != expected)


def test_quiet_hours_within_one_day():
    quiet = QuietHours(time(0, 0), time(6, 0))
    d = decide(
        _inv(datetime(2026, 3, 10, 2, 0, tzinfo=UTC)), _cust(), [], ContactPolicy(quiet_hours=quiet)
    )
    assert d.send_at == datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        QuietHours(time(9), time(9))


def test_rules_are_judged_at_the_deferred_send_time():
    # Planned 22:00 UTC (quiet), deferred to 09:00 next day; the last send ages out of
    # the 90-day window in between, so the invitation goes out.
    at = datetime(2026, 3, 10, 22, 0, tzinfo=UTC)
    history = [SentInvitation(at - timedelta(days=90) + timedelta(hours=6), "x")]
    policy = ContactPolicy(caps=(FrequencyCap(1, 90),), quiet_hours=QUIET)
    d = decide(_inv(at), _cust(), history, policy)
    assert d.status == "sent"
    assert d.send_at == datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
    no_quiet = ContactPolicy(caps=(FrequencyCap(1, 90),))
    assert decide(_inv(at), _cust(), history, no_quiet).status == "suppressed"


def test_sampling_is_deterministic_and_has_the_right_share():
    policy = ContactPolicy(sample_percent=20)
    first = [decide(_inv(customer_id=i), _cust(), [], policy) for i in range(10_000)]
    again = [decide(_inv(customer_id=i), _cust(), [], policy) for i in range(10_000)]
    assert first == again
    sent = {i for i, d in enumerate(first) if d.status == "sent"}
    assert 1850 <= len(sent) <= 2150  # binomial sd is 40
    dropped = next(d for d in first if d.status == "suppressed")
    assert (dropped.reason_code, dropped.reason) == ("not_sampled", "not sampled (20 %)")
    other_wave = {
        i
        for i in range(10_000)
        if decide(_inv(customer_id=i, wave="2026Q2"), _cust(), [], policy).status == "sent"
    }
    # An independent draw per wave: overlap near 20 % of 20 %, not the same customers.
    assert 300 <= len(sent & other_wave) <= 500


def test_sampling_extremes():
    everyone = ContactPolicy(sample_percent=100)
    nobody = ContactPolicy(sample_percent=0)
    for i in range(200):
        assert decide(_inv(customer_id=i), _cust(), [], everyone).status == "sent"
        assert decide(_inv(customer_id=i), _cust(), [], nobody).status == "suppressed"


def test_naive_send_time_is_rejected():
    with pytest.raises(ValueError):
        decide(_inv(datetime(2026, 3, 10, 12, 0)), _cust(), [], ContactPolicy())


ZONES = [
    "America/New_York",
    "Asia/Tokyo",
    "Europe/London",
    "UTC",
    "Australia/Sydney",
    "America/Los_Angeles",
    "Asia/Kolkata",
]
INDUSTRIES = ["travel", "retail", "banking"]
TIERS = ["bronze", "silver", "gold", "platinum"]
SURVEYS = ["rel-nps", "csat-support", "ces-onboarding"]


def _random_world(n, seed, send_at):
    rng = np.random.default_rng(seed)
    ids = rng.choice(10**12, size=n, replace=False).astype(np.int64)
    zone_codes = rng.integers(0, len(ZONES), n)
    opted = rng.random(n) < 0.03
    unsub = rng.random(n) < 0.02
    industry = rng.integers(0, len(INDUSTRIES), n)
    tier = rng.integers(-1, len(TIERS), n)  # -1: unknown tier
    per_customer = rng.integers(0, 5, n)
    cust_index = np.repeat(np.arange(n), per_customer)
    days_ago = rng.uniform(0, 400, cust_index.size)
    # Put some sends exactly on a window boundary (90, 30 or 365 days before send_at).
    exact = rng.random(cust_index.size) < 0.1
    days_ago[exact] = rng.choice([30.0, 90.0, 365.0], exact.sum())
    send_us = to_micros(send_at)
    sent_us = (send_us - np.round(days_ago * 86_400_000_000)).astype(np.int64)
    survey_codes = rng.integers(0, len(SURVEYS), cust_index.size)
    population = Population(
        ids,
        zone_codes,
        ZONES,
        opted,
        unsub,
        attributes={"industry": industry, "tier": tier},
        categories={"industry": INDUSTRIES, "tier": TIERS},
    )
    log = SendLog(cust_index, sent_us, survey_codes, SURVEYS)
    return population, log


FULL_POLICY = ContactPolicy(
    caps=(FrequencyCap(2, 90), FrequencyCap(2, 365, survey_id="rel-nps")),
    min_days_between=30,
    quiet_hours=QUIET,
    sample_percent=60,
    sensitivity_rules=(
        TRAVEL,
        SensitivityRule(
            "Platinum renewals", "tier", ("platinum",), date(2026, 3, 8), date(2026, 3, 8), "QBR"
        ),
    ),
)


@pytest.mark.parametrize(
    "send_at",
    [
        datetime(2026, 3, 8, 3, 0, tzinfo=UTC),  # DST night in New York
        datetime(2026, 4, 15, 14, 30, tzinfo=UTC),  # last day of the travel rule
    ],
)
def test_plan_wave_agrees_with_scalar_engine(send_at):
    n = 3000
    population, log = _random_world(n, seed=11, send_at=send_at)
    plan = plan_wave(
        population,
        log,
        survey_id="rel-nps",
        program="relationship",
        send_at=send_at,
        policy=FULL_POLICY,
        wave="2026Q1",
    )
    histories = [[] for _ in range(n)]
    for c, t, s in zip(log.customer_index, log.sent_at_us, log.survey_codes, strict=True):
        histories[c].append(
            SentInvitation(
                datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(t)), SURVEYS[s]
            )
        )
    for i in range(n):
        tier = population.attributes["tier"][i]
        facts = CustomerFacts(
            int(population.customer_ids[i]),
            ZONES[population.zone_codes[i]],
            bool(population.opted_out[i]),
            bool(population.unsubscribed[i]),
            {
                "industry": INDUSTRIES[population.attributes["industry"][i]],
                **({"tier": TIERS[tier]} if tier >= 0 else {}),
            },
        )
        inv = Invitation(facts.customer_id, "rel-nps", "relationship", send_at, "2026Q1")
        assert plan.decision(i) == decide(inv, facts, histories[i], FULL_POLICY), i
    counts = plan.counts()
    assert sum(counts.values()) == n
    # Every rule fired somewhere, so the agreement above covered all of them.
    assert all(count > 0 for count in counts.values()), counts
    assert int(plan.sent.sum()) == counts["sent"] + counts["deferred_quiet_hours"]


def test_plan_wave_from_utc_offsets():
    codes, zones = zones_from_offsets(np.array([540, -300, 540]))
    assert codes.tolist() == [1, 0, 1]
    population = Population(np.array([1, 2, 3]), codes, zones, np.zeros(3, bool), np.zeros(3, bool))
    at = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 21:00 at +09:00, 07:00 at -05:00
    plan = plan_wave(
        population,
        SendLog.empty(),
        survey_id="s",
        program="p",
        send_at=at,
        policy=ContactPolicy(quiet_hours=QUIET),
    )
    assert plan.decision(0).send_at == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)
    assert plan.decision(1).send_at == datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    assert plan.decision(0).reason == (
        "quiet hours 21:00-09:00 (UTC+09:00): deferred to 09:00 local"
    )
