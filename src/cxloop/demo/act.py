"""Demo data for closing the loop: rules, cases in every state, praise, a backlog."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from cxloop.act import backlog, cases, escalation, messages, notify, rules
from cxloop.act.hooks import RuleRecord
from cxloop.demo import DemoContext
from cxloop.store.models.act import Delivery, RootCause

ORDER = 60

ROOT_CAUSES = [
    ("staff_attitude", "Staff attitude", "スタッフの対応"),
    ("wait_time", "Long wait", "待ち時間"),
    ("billing_error", "Billing error", "請求の誤り"),
    ("product_defect", "Product defect", "商品の不具合"),
    ("delivery_delay", "Late delivery", "配送遅延"),
    ("stock_out", "Out of stock", "欠品"),
]
_HOURS = {"mon-fri": "09:00-18:00", "sat": "10:00-17:00"}
RULES: list[tuple[str, str, list[dict[str, Any]]]] = [
    (
        "Detractor follow-up / 批判者フォロー",
        "nps <= 6",
        [{"type": "open_case", "priority": "high", "sla_hours": 16, "business_hours": _HOURS}],
    ),
    (
        "Very low CSAT / CSAT 低評価",
        "csat <= 2",
        [{"type": "open_case", "priority": "high", "sla_hours": 24}],
    ),
    (
        "Churn words / 解約ワード",
        'text contains_any ("解約", "cancel my account", "退会")',
        [
            {"type": "open_case", "priority": "urgent", "sla_hours": 8},
            {"type": "notify", "owner": True},
        ],
    ),
    (
        "Angry about billing / 請求への強い不満",
        'sentiment = "very_negative" and theme = "billing"',
        [{"type": "open_case", "priority": "high", "sla_hours": 24}],
    ),
    (
        "Bad review / 低評価レビュー",
        'rating <= 2 and source = "review"',
        [{"type": "open_case", "priority": "normal", "sla_hours": 48}],
    ),
    ("Struggling online / デジタル体験の低下", "dxs < 3", [{"type": "notify", "endpoint_id": 0}]),
    (
        "Queue too long / 待ち時間の超過",
        'metric("wait_minutes") > 30',
        [{"type": "open_case", "priority": "normal", "sla_hours": 4}],
    ),
    ("Praise / 称賛", 'sentiment = "very_positive"', [{"type": "praise"}]),
]
COMPLAINTS = [
    "レジの待ち時間が長すぎる",
    "The sofa arrived scratched",
    "店員の態度が悪かった",
    "Charged twice for one order",
    "在庫がないと言われた",
    "配送が3日遅れた",
    "I want to cancel my account",
    "返品の手続きがわかりにくい",
]
PRAISE = [
    "とても丁寧に対応していただきました",
    "Staff helped me find the perfect lamp",
    "Very kind and patient with my questions",
    "説明がわかりやすかった",
]


def add(ctx: DemoContext) -> None:
    s = ctx.session
    company = ctx.units["sakura"]
    causes = []
    for code, name, name_ja in ROOT_CAUSES:
        cause = RootCause(org_unit_id=company.id, code=code, name=name, name_ja=name_ja)
        s.add(cause)
        causes.append(cause)
    email = notify.create_endpoint(
        session=s,
        org_unit_id=company.id,
        name="CX team mailbox",
        kind="email",
        target="cx-team@sakura-living.example",
    )
    for name, condition, actions in RULES:
        acts = [a if a.get("endpoint_id") != 0 else {**a, "endpoint_id": email.id} for a in actions]
        rules.create_rule(
            session=s,
            org_unit_id=company.id,
            name=name,
            condition=condition,
            actions=acts,
            created_by_id=ctx.users["admin"].id,
        )
    s.flush()
    _cases(ctx, causes)
    _praise(ctx)
    _backlog(ctx)
    # Demo addresses do not exist: keep the log honest without mailing anyone.
    for d in s.scalars(select(Delivery).where(Delivery.status == "pending")):
        d.status, d.attempts, d.sent_at = "sent", 1, ctx.now
    dead = s.scalars(select(Delivery).order_by(Delivery.id).limit(2)).all()
    for d in dead:
        d.status, d.attempts, d.last_error = "dead", d.max_attempts, "HTTP 503"


def _cases(ctx: DemoContext, causes: list[RootCause]) -> None:
    s, rng = ctx.session, ctx.rng
    stores = sorted(ctx.stores(), key=lambda u: u.code)
    for i in range(36):
        unit = rng.choice(stores)
        opened = ctx.now - timedelta(hours=rng.randint(2, 24 * 20))
        customer = rng.choice(ctx.customers) if ctx.customers else None
        score = float(rng.randint(0, 6))
        case = cases.open_case(
            session=s,
            unit=unit,
            title=f"Detractor follow-up: {COMPLAINTS[i % len(COMPLAINTS)]}",
            summary=COMPLAINTS[i % len(COMPLAINTS)],
            priority=rng.choice(["normal", "high"]),
            sla_hours=24,
            customer_id=customer.id if customer else None,
            original_score=score,
            resurvey_on_close=True,
            record_kind="response",
            record_id=f"demo-{i}",
            now=opened,
        )
        manager = cases.Author(case.owner_user_id, "demo")
        age = ctx.now - opened
        if age > timedelta(days=5) and rng.random() < 0.7:
            contact = opened + timedelta(hours=rng.randint(1, 30))
            cases.add_contact(
                session=s,
                case=case,
                channel=rng.choice(["phone", "email"]),
                body="お詫びと状況確認",
                author=manager,
                at=contact,
            )
            done = contact + timedelta(hours=rng.randint(1, 12))
            cases.change_status(
                session=s,
                case=case,
                status="resolved",
                author=manager,
                root_cause_id=rng.choice(causes).id,
                resolution="対応済み",
                now=done,
            )
            cases.change_status(
                session=s, case=case, status="closed", author=manager, now=done + timedelta(hours=1)
            )
            if rng.random() < 0.6:
                case.resurvey_score = float(min(10, score + rng.randint(-1, 6)))
        elif rng.random() < 0.3:
            cases.change_status(
                session=s,
                case=case,
                status="in_progress",
                author=manager,
                now=opened + timedelta(hours=1),
            )
    s.flush()
    escalation.escalate_overdue(session=s, now=ctx.now)


def _praise(ctx: DemoContext) -> None:
    s = ctx.session
    for i, local in enumerate(["shibuya.staff1", "shibuya.staff2", "umeda.staff1", "cc.agent1"]):
        user = ctx.users.get(local)
        if user is None or not user.unit_ids:
            continue
        unit = s.get(type(ctx.units["sakura"]), user.unit_ids[0])
        assert unit is not None
        record = RuleRecord(
            "feedback",
            f"demo-praise-{i}",
            unit.id,
            {"sentiment": "very_positive", "text": PRAISE[i % len(PRAISE)]},
            mentioned_user_ids=(user.id,),
        )
        messages.praise_from_record(session=s, record=record, unit=unit, rule_name="Praise")
    sender = ctx.users.get("kanto.manager")
    staff = ctx.users.get("shibuya.staff1")
    if sender and staff:
        messages.send_message(
            session=s,
            kind="fix_it",
            recipient=staff,
            unit=ctx.units["shibuya"],
            body="試着室の案内表示を直してください",
            sender=sender,
        )


def _backlog(ctx: DemoContext) -> None:
    s, rng = ctx.session, ctx.rng
    company = ctx.units["sakura"]
    unit_ids = [u.id for u in ctx.units.values()]
    themes = [
        ("billing", "Double charges at checkout / 決済の二重請求"),
        ("delivery", "Late furniture delivery / 家具の配送遅延"),
        ("app_bug", "App crashes on the payment step / アプリ決済画面の不具合"),
    ]
    for theme, title in themes:
        item = backlog.create_item(
            session=s,
            org_unit_id=company.id,
            title=title,
            unit_ids=unit_ids,
            theme=theme,
            now=ctx.now,
        )
        if item.evidence.get("records"):
            continue
        # No feedback in the demo yet: evidence from a synthetic sample of records.
        records = [
            RuleRecord(
                "feedback",
                f"demo-{theme}-{i}",
                rng.choice(unit_ids),
                {"text": rng.choice(COMPLAINTS), "sentiment": "negative", "theme": [theme]},
                rng.choice(ctx.customers).id if ctx.customers else None,
                ctx.now - timedelta(days=rng.randint(0, 27)),
            )
            for i in range(rng.randint(8, 40))
        ]
        evidence = backlog.gather_evidence(s, records, ctx.now)
        item.evidence = evidence.as_dict()
        item.impact = backlog.impact(evidence)
        item.records = [f"{r.kind}:{r.id}" for r in records]
