"""A year of bilingual feedback from every source, with a story to find in it.

- Delivery complaints in the Kansai stores have risen sharply over the last month.
- Shibuya customers keep praising staff by name (松本さん, Lucas).
- The contact centre's calls and chats are transcripts analysed per speaker; agents write notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from cxloop.demo import DemoContext
from cxloop.demo.feedback_texts import (
    ADVISORY_EN,
    AGENT_NOTES_EN,
    AGENT_NOTES_JA,
    CALLS,
    EN,
    ITEMS_EN,
    ITEMS_JA,
    JA,
    ROUNDTABLE_JA,
)
from cxloop.signals.feedback import IngestContext, ingest

ORDER = 20
DAYS = 365
RECENT_DAYS = 30
STORE_RECORDS = 220
ONLINE_RECORDS = 450
CALL_RECORDS = 500
BATCH = 500

_BASE_TOPICS = {
    "delivery": 10,
    "staff": 22,
    "wait": 8,
    "price": 10,
    "quality": 16,
    "stock": 7,
    "returns": 5,
    "store": 10,
}
_ONLINE_TOPICS = {"delivery": 30, "website": 20, "returns": 15, "quality": 15, "price": 10}
_NEGATIVE_SHARE = {"delivery": 0.75, "staff": 0.2, "price": 0.5, "quality": 0.4, "website": 0.6}
_STAFF = {"shibuya": ["松本", "Lucas"], "umeda": ["井上"]}
_KANSAI = {"umeda", "namba", "kyoto"}


def add(ctx: DemoContext) -> None:
    items: list[dict[str, Any]] = []
    for store in ctx.stores():
        for _ in range(STORE_RECORDS):
            items.append(_store_record(ctx, store.code))
    for _ in range(ONLINE_RECORDS):
        items.append(_online_record(ctx))
    for _ in range(CALL_RECORDS):
        items.append(_contact_centre_record(ctx))
    for _ in range(12):
        items.append(_meeting_record(ctx))
    context = IngestContext(scope=None)
    for i, item in enumerate(items):
        item["external_id"] = f"demo-{i:05d}"
    created = 0
    for start in range(0, len(items), BATCH):
        results = ingest(session=ctx.session, items=items[start : start + BATCH], context=context)
        created += sum(r.status == "created" for r in results)
    ctx.extra["feedback_records"] = created


def _when(ctx: DemoContext, recent: bool = False) -> str:
    days = ctx.rng.uniform(0, RECENT_DAYS if recent else DAYS)
    return (ctx.now - timedelta(days=days, minutes=ctx.rng.randrange(1, 600))).isoformat()


def _customer(ctx: DemoContext) -> tuple[str, dict[str, str]]:
    customer = ctx.rng.choice(ctx.customers)
    email = next((i.value for i in customer.identities if i.kind == "email"), None)
    return customer.language or "ja", ({"email": email} if email else {})


def _sentence(ctx: DemoContext, lang: str, topic: str, negative: bool, staff: str) -> str:
    bank = JA if lang == "ja" else EN
    tone = "neg" if negative else "pos"
    lines = bank.get((topic, tone)) or bank.get((topic, "neg" if tone == "pos" else "pos")) or []
    return ctx.rng.choice(lines).format(staff=staff)


def _pick(ctx: DemoContext, weights: Mapping[str, float]) -> str:
    return ctx.rng.choices(list(weights), list(weights.values()))[0]


def _store_record(ctx: DemoContext, code: str) -> dict[str, Any]:
    rng = ctx.rng
    # A fifth of Kansai's records fall in the last 30 days, where delivery dominates.
    recent = code in _KANSAI and rng.random() < 0.2
    weights = dict(_BASE_TOPICS)
    if recent:
        weights["delivery"] = 60
    if code in _STAFF:
        weights["staff"] = 45
    lang, customer = _customer(ctx)
    names = _STAFF.get(code, ["スタッフ" if lang == "ja" else "the assistant"])
    staff = rng.choice([n for n in names if (lang == "ja") != n.isascii()] or names)
    topics = {_pick(ctx, weights) for _ in range(rng.choice((1, 1, 2)))}
    parts = []
    negatives = []
    for topic in sorted(topics):
        share = 0.9 if (recent and topic == "delivery") else _NEGATIVE_SHARE.get(topic, 0.45)
        if topic == "staff" and code in _STAFF:
            share = 0.05
        negative = rng.random() < share
        negatives.append(negative)
        parts.append(_sentence(ctx, lang, topic, negative, staff))
    source = rng.choices(
        ["review", "survey_comment", "social_post", "complaint_letter", "email"],
        [40, 35, 12, 3, 10],
    )[0]
    if source == "complaint_letter" and not any(negatives):
        source = "review"
    bad = sum(negatives) / len(negatives)
    return {
        "source": source,
        "text": ("" if lang == "ja" else " ").join(parts),
        "org_unit": code,
        "occurred_at": _when(ctx, recent),
        "customer": customer,
        "rating": max(1, min(5, round(5 - 3.5 * bad + rng.uniform(-0.6, 0.6)))),
        "rating_scale": 5,
        "touchpoint": "store_visit" if source != "email" else "after_delivery",
        "channel": "store",
    }


def _online_record(ctx: DemoContext) -> dict[str, Any]:
    rng = ctx.rng
    lang, customer = _customer(ctx)
    topic = _pick(ctx, _ONLINE_TOPICS)
    negative = rng.random() < _NEGATIVE_SHARE.get(topic, 0.45)
    text = _sentence(ctx, lang, topic, negative, "")
    source = rng.choices(["review", "email", "social_post", "crm_note"], [50, 25, 20, 5])[0]
    if source == "email" and rng.random() < 0.2:
        text += " 連絡先は090-1234-5678です。" if lang == "ja" else " Call me on 090-1234-5678."
    return {
        "source": source,
        "text": text,
        "org_unit": "ecommerce",
        "occurred_at": _when(ctx),
        "customer": customer,
        "rating": (rng.choice((1, 2)) if negative else rng.choice((4, 5)))
        if source == "review"
        else None,
        "rating_scale": 5 if source == "review" else None,
        "touchpoint": "online_order",
        "channel": "web",
    }


def _contact_centre_record(ctx: DemoContext) -> dict[str, Any]:
    rng = ctx.rng
    lang, customer = _customer(ctx)
    agent = rng.choice(["cc.agent1", "cc.agent2", "cc.agent3", "cc.agent4"])
    user = ctx.users[agent]
    team = "cc-team-a" if agent in ("cc.agent1", "cc.agent2") else "cc-team-b"
    source = rng.choices(["call_transcript", "chat_transcript", "agent_note"], [45, 30, 25])[0]
    record: dict[str, Any] = {
        "source": source,
        "org_unit": team,
        "occurred_at": _when(ctx),
        "customer": customer,
        "channel": "phone" if source == "call_transcript" else "chat",
        "touchpoint": "contact_centre",
    }
    if source == "agent_note":
        notes = AGENT_NOTES_JA if lang == "ja" else AGENT_NOTES_EN
        record.update(text=rng.choice(notes), author_email=user.email, author_name=user.name)
        return record
    c_ja, a_ja, c_en, a_en = rng.choice(CALLS)
    k = rng.randrange(len(ITEMS_JA))
    if lang == "ja":
        text = (
            f"オペレーター: お電話ありがとうございます。\nお客様: {c_ja.format(item=ITEMS_JA[k])}"
        )
        text += f"\nオペレーター: {a_ja}"
    else:
        text = "Agent: Thank you for calling Sakura Living."
        text += f"\nCustomer: {c_en.format(item=ITEMS_EN[k])}"
        text += f"\nAgent: {a_en}"
    record["text"] = text
    return record


def _meeting_record(ctx: DemoContext) -> dict[str, Any]:
    rng = ctx.rng
    if rng.random() < 0.5:
        return {
            "source": "roundtable_note",
            "text": rng.choice(ROUNDTABLE_JA),
            "org_unit": rng.choice(["kanto", "kansai", "kyushu"]),
            "occurred_at": _when(ctx),
        }
    return {
        "source": "advisory_feedback",
        "text": rng.choice(ADVISORY_EN),
        "org_unit": "sakura",
        "occurred_at": _when(ctx),
    }
