"""Vectorised contact-policy engine for a relationship wave over a whole population.

Gives the same decision as ``engine.decide`` for every customer. A wave has a single
planned send time, so quiet-hour deferral and the local date depend only on the time
zone: they are computed once per distinct zone with the scalar code and broadcast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import numpy as np

from cxloop.signals.contact_policy.model import (
    DEFERRED,
    FREQUENCY_CAP,
    MIN_GAP,
    NOT_SAMPLED,
    OPTED_OUT,
    REASON_CODES,
    SENSITIVITY,
    SENT,
    UNSUBSCRIBED,
    ContactPolicy,
    Decision,
    defer_for_quiet_hours,
    deferred_reason,
    sample_salt,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US_PER_DAY = 86_400_000_000
_CODE = {name: i for i, name in enumerate(REASON_CODES)}
_UNDECIDED = -1


def to_micros(moment: datetime) -> int:
    """Exact microseconds since the Unix epoch of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return (moment - _EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(micros))


@dataclass(frozen=True)
class Population:
    """Customers as parallel arrays; row ``i`` is one customer.

    ``zones[zone_codes[i]]`` is customer i's zone (an IANA name or a ``tzinfo``);
    ``attributes[name][i]`` indexes ``categories[name]``, with -1 for missing.
    """

    customer_ids: np.ndarray
    zone_codes: np.ndarray
    zones: Sequence[str | tzinfo]
    opted_out: np.ndarray
    unsubscribed: np.ndarray
    attributes: Mapping[str, np.ndarray] = field(default_factory=dict)
    categories: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.customer_ids.shape[0])


@dataclass(frozen=True)
class SendLog:
    """Invitations actually sent: row j went to population row ``customer_index[j]``."""

    customer_index: np.ndarray
    sent_at_us: np.ndarray
    survey_codes: np.ndarray
    surveys: Sequence[str]

    @classmethod
    def empty(cls) -> SendLog:
        none = np.zeros(0, dtype=np.int64)
        return cls(none, none, none, ())


def zones_from_offsets(offset_minutes: np.ndarray) -> tuple[np.ndarray, list[tzinfo]]:
    """Zone codes and fixed-offset zones for callers that only know UTC offsets."""
    unique, codes = np.unique(np.asarray(offset_minutes, dtype=np.int64), return_inverse=True)
    zones: list[tzinfo] = [timezone(timedelta(minutes=int(m))) for m in unique]
    return codes.astype(np.int32), zones


def _tz(zone: str | tzinfo) -> tzinfo:
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def _zone_label(zone: str | tzinfo) -> str:
    return zone if isinstance(zone, str) else str(zone)


@dataclass(frozen=True)
class WavePlan:
    """Decisions for a wave as arrays; ``decision(i)`` gives customer i's ``Decision``."""

    reason: np.ndarray  # int8 index into REASON_CODES
    rule: np.ndarray  # index of the sensitivity rule or cap that suppressed, else -1
    send_at_us: np.ndarray  # actual send time (after deferral), meaningful when sent
    zone_codes: np.ndarray
    zones: Sequence[str | tzinfo]
    policy: ContactPolicy

    @property
    def sent(self) -> np.ndarray:
        return self.reason <= _CODE[DEFERRED]

    def counts(self) -> dict[str, int]:
        """How many customers got each reason code."""
        totals = np.bincount(self.reason, minlength=len(REASON_CODES))
        return {name: int(totals[i]) for i, name in enumerate(REASON_CODES)}

    def decision(self, i: int) -> Decision:
        code = REASON_CODES[int(self.reason[i])]
        rule = int(self.rule[i])
        policy = self.policy
        if code == SENT:
            return Decision("sent", SENT, "", from_micros(int(self.send_at_us[i])))
        if code == DEFERRED and policy.quiet_hours is not None:
            label = _zone_label(self.zones[int(self.zone_codes[i])])
            text = deferred_reason(policy.quiet_hours, label)
            return Decision("sent", DEFERRED, text, from_micros(int(self.send_at_us[i])))
        texts = {
            OPTED_OUT: lambda: "opted out",
            UNSUBSCRIBED: lambda: "unsubscribed",
            SENSITIVITY: lambda: policy.sensitivity_rules[rule].text,
            FREQUENCY_CAP: lambda: policy.caps[rule].reason,
            MIN_GAP: lambda: policy.min_gap_reason,
            NOT_SAMPLED: lambda: policy.not_sampled_reason,
        }
        return Decision("suppressed", code, texts[code](), None)


def _per_zone(
    zones: Sequence[str | tzinfo], used: np.ndarray, send_at: datetime, policy: ContactPolicy
) -> tuple[np.ndarray, np.ndarray, list]:
    eff = np.zeros(len(zones), dtype=np.int64)
    deferred = np.zeros(len(zones), dtype=bool)
    days: list = [None] * len(zones)
    for z in np.flatnonzero(used).tolist():
        tz = _tz(zones[z])
        moment, deferred[z] = defer_for_quiet_hours(send_at, tz, policy.quiet_hours)
        eff[z] = to_micros(moment)
        days[z] = moment.astimezone(tz).date()
    return eff, deferred, days


def _mix64(x: np.ndarray) -> np.ndarray:
    # Same SplitMix64 finaliser as model._mix64; uint64 array arithmetic wraps mod 2**64.
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _window_counts(
    log: SendLog, eff: np.ndarray, days: int, survey_code: int | None, n: int
) -> np.ndarray:
    cust = log.customer_index
    sent = log.sent_at_us
    if survey_code is not None:
        keep = log.survey_codes == survey_code
        cust, sent = cust[keep], sent[keep]
    at = eff[cust]
    inside = (sent > at - days * _US_PER_DAY) & (sent <= at)
    return np.bincount(cust[inside], minlength=n)


def plan_wave(
    population: Population,
    log: SendLog,
    *,
    survey_id: str,
    program: str,
    send_at: datetime,
    policy: ContactPolicy,
    wave: str = "",
) -> WavePlan:
    """Plan one survey wave for a whole population, in the order of ``engine.decide``."""
    n = len(population)
    codes = np.asarray(population.zone_codes)
    used = np.bincount(codes, minlength=len(population.zones)) > 0
    zone_eff, zone_deferred, zone_days = _per_zone(population.zones, used, send_at, policy)
    eff = zone_eff[codes]

    reason = np.full(n, _UNDECIDED, dtype=np.int8)
    rule = np.full(n, -1, dtype=np.int16)

    def settle(hit: np.ndarray, code: str, index: int = -1) -> None:
        hit = hit & (reason == _UNDECIDED)
        reason[hit] = _CODE[code]
        rule[hit] = index

    settle(np.asarray(population.opted_out, dtype=bool), OPTED_OUT)
    settle(np.asarray(population.unsubscribed, dtype=bool), UNSUBSCRIBED)

    for k, srule in enumerate(policy.sensitivity_rules):
        values = population.attributes.get(srule.attribute)
        if not srule.applies_to(program) or values is None:
            continue
        vocab = list(population.categories.get(srule.attribute, ()))
        wanted = [vocab.index(v) for v in srule.values if v in vocab]
        zone_active = np.array(
            [d is not None and srule.active_on(d) for d in zone_days], dtype=bool
        )
        settle(zone_active[codes] & np.isin(values, wanted), SENSITIVITY, k)

    survey_code = {s: i for i, s in enumerate(log.surveys)}.get(survey_id, -2)
    for k, cap in enumerate(policy.caps):
        if not cap.applies_to(survey_id):
            continue
        scope = None if cap.survey_id is None else survey_code
        counts = _window_counts(log, eff, cap.window_days, scope, n)
        settle(counts >= cap.max_invitations, FREQUENCY_CAP, k)

    if policy.min_days_between is not None:
        settle(_window_counts(log, eff, policy.min_days_between, None, n) > 0, MIN_GAP)

    salt = np.uint64(sample_salt(survey_id, wave))
    draws = _mix64(population.customer_ids.astype(np.uint64) ^ salt) >> np.uint64(11)
    sampled = draws.astype(np.float64) / float(1 << 53) * 100.0 < policy.sample_percent
    settle(~sampled, NOT_SAMPLED)

    settle(zone_deferred[codes], DEFERRED)
    settle(np.ones(n, dtype=bool), SENT)
    return WavePlan(reason, rule, eff, codes, population.zones, policy)
