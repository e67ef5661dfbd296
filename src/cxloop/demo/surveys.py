"""Surveys of Sakura Living: four months of answers with a story.

* Post-call CSAT/CES (contact centre): team B dips while new hires ramp up (60-30 days
  ago), then recovers.
* Post-delivery CSAT/CES (online store): Kansai deliveries were hard work until the
  carrier changed 45 days ago.
* Store-visit NPS: Namba's queues at the till pull its score down.
* Yearly relationship NPS: one wave 75 days ago, planned by the real contact-policy engine
  (a typhoon sensitivity rule held back travel-industry customers).
* Quarterly employee pulse, anonymous; small teams show counts only.
* An anonymous web-feedback widget on the online store.

Every transactional invitation goes through the real ``decide`` so its reason is real.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import select

from cxloop.demo import DemoContext
from cxloop.demo import _survey_setup as setup
from cxloop.demo.survey_texts import COMMENTS, DEFINITIONS
from cxloop.signals.contact_policy import Invitation, SentInvitation, decide
from cxloop.signals.survey_definitions import SurveyDefinition
from cxloop.signals.survey_invitations import customer_facts
from cxloop.signals.survey_logic import extract
from cxloop.signals.survey_programs import (
    active_sensitivity_rules,
    contact_policy,
)
from cxloop.signals.survey_responses import comments_to_feedback
from cxloop.signals.survey_waves import run_relationship_wave
from cxloop.store.models.customers import Customer
from cxloop.store.models.surveys import (
    Survey,
    SurveyEvent,
    SurveyInvitation,
    SurveyResponse,
)

ORDER = 30
DAYS = 120


def add(ctx: DemoContext) -> None:
    surveys = {key: setup.survey(ctx, key, spec) for key, spec in DEFINITIONS.items()}
    programs = setup.programs(ctx, surveys)
    setup.sensitivity_rule(ctx)
    responses: dict[str, list[SurveyResponse]] = defaultdict(list)
    _transactional(ctx, surveys, programs, responses)
    _relationship_wave(ctx, surveys["rel-nps"], programs["yearly-nps"], responses)
    _pulse(ctx, surveys["team-pulse"], programs["quarterly-pulse"])
    _web_widget(ctx, surveys["web-feedback"], responses)
    ctx.session.flush()
    _comments_to_feedback(ctx, surveys, responses)
    ctx.extra["survey_ids"] = {k: s.id for k, s in surveys.items()}
    ctx.extra["survey_program_ids"] = {k: p.id for k, p in programs.items()}
    ctx.extra["survey_response_ids"] = {k: [r.id for r in v] for k, v in responses.items()}


@cache
def _definition(key: str) -> SurveyDefinition:
    return SurveyDefinition.model_validate(DEFINITIONS[key]["definition"])


def _score(ctx: DemoContext, mean: float, lo: int, hi: int) -> int:
    return max(lo, min(hi, round(ctx.rng.gauss(mean, (hi - lo) / 5))))


def _answers(ctx: DemoContext, key: str, mood: float, lang: str) -> dict[str, Any]:
    """Answers for survey ``key``; ``mood`` from 0 (awful) to 1 (delighted)."""
    a: dict[str, Any] = {}
    if key in ("visit-nps", "rel-nps", "web-feedback"):
        a["nps"] = _score(ctx, 1 + 9.5 * mood, 0, 10)
    if key in ("call-csat", "delivery-csat", "visit-nps", "web-feedback"):
        a["csat"] = _score(ctx, 1 + 4.2 * mood, 1, 5)
    if key in ("call-csat", "delivery-csat"):
        a["ces"] = _score(ctx, 1.5 + 5.5 * mood, 1, 7)
    bad = a.get("nps", 10) <= 6 or a.get("csat", 5) <= 2
    if a.get("csat", 5) <= 2 and key == "call-csat":
        a["csat_fix"] = ctx.rng.choice(["wait", "knowledge", "transfer"])
    if ctx.rng.random() < (0.55 if bad else 0.3):
        pool = COMMENTS[key]["bad" if bad else "good"][lang]
        a["comment"] = ctx.rng.choice(pool)
    return a


def _complete(
    ctx: DemoContext,
    survey: Survey,
    inv: SurveyInvitation | None,
    answers: dict[str, Any],
    at: datetime,
    *,
    unit_id: int,
    lang: str,
    channel: str = "email",
) -> SurveyResponse:
    assert survey.current_version_id is not None
    found = extract(_definition(survey.key), answers)
    r = SurveyResponse(
        org_unit_id=unit_id,
        survey_id=survey.id,
        version_id=survey.current_version_id,
        program_id=inv.program_id if inv else None,
        invitation_id=inv.id if inv else None,
        event_id=inv.event_id if inv else None,
        customer_id=inv.customer_id if inv else None,
        channel=channel,
        touchpoint=inv.touchpoint if inv else "product page",
        wave=inv.wave if inv else "",
        language=lang,
        status="complete",
        answers=answers,
        nps=found.nps,
        csat=found.csat,
        ces=found.ces,
        comment=found.comment,
        started_at=at - timedelta(minutes=2),
        completed_at=at,
    )
    ctx.session.add(r)
    if inv is not None:
        inv.responded_on = at.date()
    return r


def _mood(
    ctx: DemoContext, program: str, unit_code: str, days_ago: float, customer: Customer
) -> float:
    base = 0.72
    if program == "post-call" and unit_code == "cc-team-b" and 30 <= days_ago <= 60:
        base = 0.45  # new hires on team B
    if program == "post-delivery" and customer.region == "kansai" and days_ago > 45:
        base = 0.38  # the old Kansai carrier
    if program == "store-visit" and unit_code == "namba":
        base = 0.5  # queues at the till
    if program == "store-visit" and unit_code == "shibuya":
        base = 0.82
    return min(1.0, max(0.0, ctx.rng.gauss(base, 0.18)))


def _transactional(ctx, surveys, programs, responses) -> None:
    rules = active_sensitivity_rules(ctx.session)
    history: dict[int, list[SentInvitation]] = defaultdict(list)
    by_region: dict[str, list[Customer]] = defaultdict(list)
    for c in ctx.customers:
        by_region[c.region or "online"].append(c)
    plan = []
    for _ in range(650):
        plan.append(
            (
                "post-call",
                ctx.rng.choice(["cc-team-a", "cc-team-b"]),
                "call_ended",
                ctx.rng.choice(ctx.customers),
                "phone",
            )
        )
    for _ in range(700):
        pick = by_region["kansai"] if ctx.rng.random() < 0.35 else ctx.customers
        plan.append(
            ("post-delivery", "ecommerce", "order_delivered", ctx.rng.choice(pick), "home delivery")
        )
    stores = [u.code for u in ctx.stores()]
    for _ in range(900):
        code = ctx.rng.choice(stores)
        plan.append(("store-visit", code, "store_visit", ctx.rng.choice(ctx.customers), "till"))
    events = []
    for program_key, unit_code, etype, customer, touchpoint in plan:
        days_ago = ctx.rng.uniform(1, DAYS)
        # ctx.now is midnight UTC: +0..11 h is opening hours (09:00-20:00) in Japan.
        at = ctx.now - timedelta(days=int(days_ago)) + timedelta(hours=ctx.rng.uniform(0, 11))
        events.append((at, program_key, unit_code, etype, customer, touchpoint))
    events.sort(key=lambda e: e[0])
    rows = [
        SurveyEvent(
            org_unit_id=ctx.units[unit_code].id,
            type=etype,
            external_id=f"demo-{etype}-{n}",
            customer_id=customer.id,
            touchpoint=touchpoint,
            occurred_at=at,
        )
        for n, (at, _, unit_code, etype, customer, touchpoint) in enumerate(events)
    ]
    ctx.session.add_all(rows)
    ctx.session.flush()  # one flush for all ids: the demo must stay quick
    answering = []
    for n, (at, program_key, unit_code, _, customer, touchpoint) in enumerate(events):
        program = programs[program_key]
        survey = surveys[
            {"post-call": "call-csat", "post-delivery": "delivery-csat"}.get(
                program_key, "visit-nps"
            )
        ]
        unit = ctx.units[unit_code]
        due = at + timedelta(minutes=program.delay_minutes)
        policy = contact_policy(program, survey.key, rules)
        facts = customer_facts(customer, unsubscribed=False, default_zone="Asia/Tokyo")
        decision = decide(
            Invitation(customer.id, survey.key, program.key, due),
            facts,
            history[customer.id],
            policy,
        )
        inv = SurveyInvitation(
            org_unit_id=unit.id,
            survey_id=survey.id,
            program_id=program.id,
            event_id=rows[n].id,
            customer_id=customer.id,
            touchpoint=touchpoint,
            language=customer.language or "ja",
            address=next(i.value for i in customer.identities if i.kind == "email"),
            nonce=f"demo{n}",
            due_at=decision.send_at or due,
            reason_code=decision.reason_code,
            reason=decision.reason or None,
        )
        ctx.session.add(inv)
        if decision.status == "suppressed" or decision.send_at is None:
            inv.status = "suppressed"
            continue
        if decision.send_at > ctx.now:
            inv.status = "scheduled"
            continue
        inv.status, inv.sent_at, inv.attempts = "sent", decision.send_at, 1
        inv.expires_at = decision.send_at + timedelta(days=program.expires_after_days)
        history[customer.id].append(SentInvitation(decision.send_at, survey.key))
        days_ago = (ctx.now - at).total_seconds() / 86400
        if days_ago > 1.5 and ctx.rng.random() < 0.38:
            answering.append((inv, survey, program_key, unit, customer, days_ago))
        elif program.reminder_after_days and days_ago > program.reminder_after_days:
            inv.reminder_sent_at = decision.send_at + timedelta(days=program.reminder_after_days)
    ctx.session.flush()
    for inv, survey, program_key, unit, customer, days_ago in answering:
        assert inv.sent_at is not None
        answered = inv.sent_at + timedelta(hours=ctx.rng.uniform(0.2, 30))
        mood = _mood(ctx, program_key, unit.code, days_ago, customer)
        lang = customer.language or "ja"
        answers = _answers(ctx, survey.key, mood, lang)
        responses[survey.key].append(
            _complete(ctx, survey, inv, answers, min(answered, ctx.now), unit_id=unit.id, lang=lang)
        )


def _relationship_wave(ctx, survey, program, responses) -> None:
    send_at = ctx.now - timedelta(days=75) + timedelta(hours=1)  # 10:00 in Tokyo
    run_relationship_wave(
        session=ctx.session,
        program=program,
        send_at=send_at,
        wave=f"{send_at:%Y}",
        default_zone="Asia/Tokyo",
        default_language="ja",
    )
    # The wave went out back then: mark what the dispatcher would have sent as sent.
    sent = ctx.session.scalars(
        select(SurveyInvitation).where(
            SurveyInvitation.program_id == program.id, SurveyInvitation.status == "scheduled"
        )
    ).all()
    customers = {c.id: c for c in ctx.customers}
    for inv in sent:
        inv.status, inv.sent_at, inv.attempts = "sent", inv.due_at, 1
        inv.expires_at = inv.due_at + timedelta(days=program.expires_after_days)
        if ctx.rng.random() > 0.33:
            continue
        customer = customers[inv.customer_id]
        mood = ctx.rng.gauss(0.74 if customer.tier in ("gold", "platinum") else 0.66, 0.2)
        lang = customer.language or "ja"
        at = send_at + timedelta(hours=ctx.rng.uniform(1, 24 * 9))
        responses[survey.key].append(
            _complete(
                ctx,
                survey,
                inv,
                _answers(ctx, survey.key, min(1, max(0, mood)), lang),
                at,
                unit_id=inv.org_unit_id,
                lang=lang,
            )
        )


def _pulse(ctx, survey, program) -> None:
    # Headcount per unit answering each wave; Kumamoto and Kyoto are too small to show.
    teams = {
        "shibuya": 11,
        "shinjuku": 9,
        "yokohama": 8,
        "umeda": 10,
        "namba": 7,
        "kyoto": 4,
        "tenjin": 6,
        "kumamoto": 3,
        "ecommerce": 6,
        "cc-team-a": 9,
        "cc-team-b": 8,
    }
    for days_ago in (100, 10):
        day = datetime.combine(
            (ctx.now - timedelta(days=days_ago)).date(), datetime.min.time(), tzinfo=ctx.now.tzinfo
        )
        wave = f"{day:%Y-%m-%d}"
        for code, heads in teams.items():
            for _ in range(heads):
                strain = 0.3 if code == "cc-team-b" and days_ago == 10 else 0.0
                mood = ctx.rng.gauss(0.68 - strain, 0.18)
                lang = "ja" if ctx.rng.random() < 0.85 else "en"
                answers: dict[str, Any] = {
                    "enps": _score(ctx, 1 + 9 * mood, 0, 10),
                    "workload": _score(ctx, 1 + 4 * (mood - strain), 1, 5),
                    "recognition": _score(ctx, 1 + 4 * mood, 1, 5),
                }
                if ctx.rng.random() < 0.35:
                    pool = COMMENTS["team-pulse"]["bad" if mood < 0.5 else "good"][lang]
                    answers["comment"] = ctx.rng.choice(pool)
                found = extract(_definition("team-pulse"), answers)
                ctx.session.add(
                    SurveyResponse(
                        org_unit_id=ctx.units[code].id,
                        survey_id=survey.id,
                        version_id=survey.current_version_id,
                        program_id=program.id,
                        channel="pulse",
                        wave=wave,
                        language="",
                        status="complete",
                        answers=answers,
                        nps=found.nps,
                        comment=found.comment,
                        started_at=day,
                        completed_at=day,
                    )
                )


def _web_widget(ctx, survey, responses) -> None:
    for i in range(45):
        at = ctx.now - timedelta(days=ctx.rng.uniform(0.5, DAYS))
        lang = "ja" if ctx.rng.random() < 0.75 else "en"
        answers = _answers(ctx, "web-feedback", ctx.rng.gauss(0.62, 0.2), lang)
        r = _complete(
            ctx,
            survey,
            None,
            answers,
            at,
            unit_id=ctx.units["ecommerce"].id,
            lang=lang,
            channel="widget",
        )
        r.form_nonce = f"demo-widget-{i}"
        responses[survey.key].append(r)


def _comments_to_feedback(ctx, surveys, responses) -> None:
    for rs in responses.values():
        for r in rs:
            r.comment_pending = bool(r.comment)
    ctx.session.flush()
    while comments_to_feedback(session=ctx.session):
        pass
