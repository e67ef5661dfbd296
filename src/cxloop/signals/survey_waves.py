"""Scheduled waves: a relationship survey to a sampled segment (planned with the vectorised
contact-policy engine) and an employee pulse to the staff of a unit."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from cxloop.security import new_token
from cxloop.signals.contact_policy import Population, SendLog, WavePlan, plan_wave
from cxloop.signals.contact_policy.wave import from_micros
from cxloop.signals.survey_invitations import CONTACTED, valid_zone
from cxloop.signals.survey_programs import (
    SEGMENT_ATTRIBUTES,
    PolicyConfig,
    active_sensitivity_rules,
    contact_policy,
)
from cxloop.store.bulk import bind, insert_rows
from cxloop.store.models.customers import Customer
from cxloop.store.models.org import OrgUnit, User, UserUnit
from cxloop.store.models.surveys import (
    Survey,
    SurveyInvitation,
    SurveyProgram,
    SurveyUnsubscribe,
)


@dataclass(frozen=True)
class WaveSummary:
    program: str
    wave: str
    planned: int
    counts: dict[str, int]


@dataclass(frozen=True)
class LoadedPopulation:
    population: Population
    languages: np.ndarray  # object array of "en"/"ja"
    unit_ids: np.ndarray


def _codes(values: Sequence[Any]) -> tuple[np.ndarray, list[str]]:
    """Category codes (-1 for missing) and the vocabulary; a dict beats sorting strings."""
    vocab: dict[Any, int] = {None: -1, "": -1}
    codes = np.fromiter(
        (vocab.setdefault(v, len(vocab) - 2) for v in values), dtype=np.int32, count=len(values)
    )
    names = [str(v) for v, i in sorted(vocab.items(), key=lambda kv: kv[1]) if i >= 0]
    return codes, names


def load_population(
    session: Session, program: SurveyProgram, *, default_zone: str, default_language: str
) -> LoadedPopulation:
    """Customers of the program's unit subtree in its segment, as policy arrays."""
    path = session.scalar(select(OrgUnit.path).where(OrgUnit.id == program.org_unit_id)) or "/"
    units = select(OrgUnit.id).where(OrgUnit.path.startswith(path))
    cols = [getattr(Customer, name) for name in SEGMENT_ATTRIBUTES]
    stmt = (
        select(
            Customer.id,
            Customer.org_unit_id,
            Customer.timezone,
            Customer.opted_out,
            SurveyUnsubscribe.id,
            *cols,
        )
        .outerjoin(SurveyUnsubscribe, SurveyUnsubscribe.customer_id == Customer.id)
        .where(Customer.org_unit_id.in_(units))
        .order_by(Customer.id)
    )
    for name, values in (program.segment or {}).items():
        if name in SEGMENT_ATTRIBUTES and values:
            stmt = stmt.where(getattr(Customer, name).in_(values))
    rows = session.execute(stmt).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * (5 + len(cols))
    raw_codes, raw_zones = _codes(columns[2])
    # Validate each distinct zone once; unknown or missing zones get the default.
    final = sorted({z if valid_zone(z) else default_zone for z in raw_zones} | {default_zone})
    remap = np.array(
        [final.index(z if valid_zone(z) else default_zone) for z in raw_zones]
        + [final.index(default_zone)],  # position -1: missing
        dtype=np.int32,
    )
    zone_codes, zones = remap[raw_codes], final
    attributes: dict[str, np.ndarray] = {}
    categories: dict[str, list[str]] = {}
    for k, name in enumerate(SEGMENT_ATTRIBUTES):
        attributes[name], categories[name] = _codes(list(columns[5 + k]))
    langs = np.array(columns[5 + 4], dtype=object)
    langs[~np.isin(langs, ["en", "ja"])] = default_language
    population = Population(
        customer_ids=np.array(columns[0], dtype=np.int64),
        zone_codes=zone_codes,
        zones=zones,
        opted_out=np.array(columns[3], dtype=bool),
        unsubscribed=np.array([u is not None for u in columns[4]], dtype=bool),
        attributes=attributes,
        categories=categories,
    )
    return LoadedPopulation(population, langs, np.array(columns[1], dtype=np.int64))


def load_send_log(
    session: Session, population: Population, *, since: datetime, until: datetime
) -> SendLog:
    """Contacts of these customers in ``(since, until]`` as a ``SendLog``."""
    rows = session.execute(
        select(
            SurveyInvitation.customer_id,
            SurveyInvitation.sent_at,
            SurveyInvitation.due_at,
            Survey.key,
        )
        .join(Survey, Survey.id == SurveyInvitation.survey_id)
        .where(
            SurveyInvitation.status.in_(CONTACTED),
            SurveyInvitation.customer_id.is_not(None),
            SurveyInvitation.due_at > since,
            SurveyInvitation.due_at <= until + timedelta(days=1),
        )
    ).all()
    if not rows:
        return SendLog.empty()
    ids = population.customer_ids
    cust = np.array([r[0] for r in rows], dtype=np.int64)
    pos = np.searchsorted(ids, cust)
    pos = np.clip(pos, 0, max(len(ids) - 1, 0))
    known = (ids[pos] == cust) if len(ids) else np.zeros(len(cust), dtype=bool)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    sent = np.array(
        [((r[1] or r[2]) - epoch) // timedelta(microseconds=1) for r in rows], dtype=np.int64
    )
    survey_codes, surveys = _codes([r[3] for r in rows])
    return SendLog(pos[known], sent[known], survey_codes[known], surveys)


def _lookback_days(program: SurveyProgram) -> int:
    cfg = PolicyConfig.model_validate(program.policy or {})
    return max([c.window_days for c in cfg.caps] + [cfg.min_days_between or 0, 1])


def plan_relationship(
    session: Session,
    program: SurveyProgram,
    *,
    send_at: datetime,
    wave: str,
    default_zone: str,
    default_language: str,
) -> tuple[LoadedPopulation, WavePlan]:
    survey = session.get(Survey, program.survey_id)
    assert survey is not None
    loaded = load_population(
        session, program, default_zone=default_zone, default_language=default_language
    )
    log = load_send_log(
        session,
        loaded.population,
        since=send_at - timedelta(days=_lookback_days(program) + 1),
        until=send_at,
    )
    policy = contact_policy(program, survey.key, active_sensitivity_rules(session))
    plan = plan_wave(
        loaded.population,
        log,
        survey_id=survey.key,
        program=program.key,
        send_at=send_at,
        policy=policy,
        wave=wave,
    )
    return loaded, plan


def run_relationship_wave(
    *,
    session: Session,
    program: SurveyProgram,
    send_at: datetime,
    wave: str,
    default_zone: str = "UTC",
    default_language: str = "en",
) -> WaveSummary:
    """Plan the wave and store one invitation per customer: scheduled or suppressed."""
    already = session.scalar(
        select(SurveyInvitation.id).where(
            SurveyInvitation.program_id == program.id, SurveyInvitation.wave == wave
        )
    )
    if already is not None:
        raise ValueError(f"wave {wave!r} of program {program.key!r} was already planned")
    loaded, plan = plan_relationship(
        session,
        program,
        send_at=send_at,
        wave=wave,
        default_zone=default_zone,
        default_language=default_language,
    )
    # One Decision per distinct (reason, rule, zone): a wave has a handful, not a million.
    combos = np.stack([plan.reason.astype(np.int64), plan.rule, plan.zone_codes], axis=1)
    _, first, combo_of = np.unique(combos, axis=0, return_index=True, return_inverse=True)
    decisions = [plan.decision(int(i)) for i in first]
    total = _store_wave(session, program, loaded, plan, decisions, combo_of, wave, send_at)
    counts = {k: v for k, v in plan.counts().items() if v}
    return WaveSummary(program.key, wave, total, counts)


_WAVE_COLUMNS = (
    "org_unit_id",
    "survey_id",
    "program_id",
    "customer_id",
    "wave",
    "language",
    "status",
    "reason_code",
    "reason",
    "nonce",
    "due_at",
    "draft",
)


def _store_wave(
    session: Session,
    program: SurveyProgram,
    loaded: LoadedPopulation,
    plan: WavePlan,
    decisions: list[Any],
    combo_of: np.ndarray,
    wave: str,
    send_at: datetime,
) -> int:
    """One invitation row per customer, written in bulk: ``scheduled`` at its send time or
    ``suppressed`` with the decision's reason. Each distinct value is bound once."""
    table = SurveyInvitation.__table__
    assert isinstance(table, Table)

    def bound(column: str, value: Any) -> Any:
        return bind(session, table, column, value)

    # status, reason_code, reason of each distinct decision
    outcome = [
        ("scheduled" if d.status == "sent" else "suppressed", d.reason_code, d.reason or None)
        for d in decisions
    ]
    sends, send_index = np.unique(plan.send_at_us, return_inverse=True)
    sent_due = [bound("due_at", from_micros(int(us))) for us in sends]
    held_due = bound("due_at", send_at)
    fixed = (program.survey_id, program.id, wave)
    draft = bound("draft", {})
    # Unique per invitation without a CSPRNG call each: the link's secrecy comes from the
    # HMAC with the server key, not from the nonce.
    prefix = secrets.token_hex(16)[:20]
    combos = combo_of.reshape(-1).tolist()
    rows = (
        (
            unit,
            *fixed[:2],
            customer,
            fixed[2],
            str(lang),
            *outcome[combo],
            f"{prefix}{i:x}"[:32],
            sent_due[send] if outcome[combo][0] == "scheduled" else held_due,
            draft,
        )
        for i, (unit, customer, lang, combo, send) in enumerate(
            zip(
                loaded.unit_ids.tolist(),
                loaded.population.customer_ids.tolist(),
                loaded.languages.tolist(),
                combos,
                send_index.tolist(),
                strict=True,
            )
        )
    )
    return insert_rows(session, table, _WAVE_COLUMNS, rows)


def run_pulse_wave(
    *, session: Session, program: SurveyProgram, wave: str, now: datetime, default_language: str
) -> WaveSummary:
    """Invite every active person of the program's unit subtree to this pulse wave."""
    path = session.scalar(select(OrgUnit.path).where(OrgUnit.id == program.org_unit_id)) or "/"
    rows = session.execute(
        select(User, UserUnit.org_unit_id)
        .join(UserUnit, UserUnit.user_id == User.id)
        .join(OrgUnit, OrgUnit.id == UserUnit.org_unit_id)
        .where(OrgUnit.path.startswith(path), User.is_active.is_(True))
        .order_by(User.id, UserUnit.org_unit_id)
    ).all()
    seen: set[int] = set()
    for user, unit_id in rows:
        if user.id in seen:
            continue
        seen.add(user.id)
        session.add(
            SurveyInvitation(
                org_unit_id=unit_id,
                survey_id=program.survey_id,
                program_id=program.id,
                user_id=user.id,
                wave=wave,
                address=user.email,
                language=user.language if user.language in ("en", "ja") else default_language,
                status="scheduled",
                reason_code="sent",
                nonce=new_token(12),
                due_at=now,
            )
        )
    session.flush()
    return WaveSummary(program.key, wave, len(seen), {"sent": len(seen)})


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


def run_due_waves(
    *, session: Session, now: datetime, default_zone: str, default_language: str
) -> list[WaveSummary]:
    """Start every relationship or pulse wave whose time has come; schedule the next one."""
    due = session.scalars(
        select(SurveyProgram).where(
            SurveyProgram.kind.in_(("relationship", "pulse")),
            SurveyProgram.active.is_(True),
            SurveyProgram.next_wave_at <= now,
        )
    ).all()
    done = []
    for program in due:
        assert program.next_wave_at is not None
        wave = f"{program.next_wave_at:%Y-%m-%d}"
        if program.kind == "pulse":
            done.append(
                run_pulse_wave(
                    session=session,
                    program=program,
                    wave=wave,
                    now=now,
                    default_language=default_language,
                )
            )
        else:
            done.append(
                run_relationship_wave(
                    session=session,
                    program=program,
                    send_at=max(program.next_wave_at, now),
                    wave=wave,
                    default_zone=default_zone,
                    default_language=default_language,
                )
            )
        program.next_wave_at = (
            _add_months(program.next_wave_at, program.every_months)
            if program.every_months
            else None
        )
    session.flush()
    return done
