"""Ingestion and enrichment on hand-written examples with known answers."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cxloop.insight.text import get_analyzer
from cxloop.signals.feedback import IngestContext, ingest
from cxloop.signals.feedback_enrich import enrich_many
from cxloop.signals.feedback_search import FeedbackFilter, search, weekly_volume
from cxloop.store.models.feedback import Feedback
from cxloop.store.scope import Scope
from tests.conftest import Org

# text, language, sentiment labels accepted, themes that must be found
EXAMPLES = [
    (
        "配送が一週間も遅れて、連絡もなく本当に最悪でした。",
        "ja",
        {"negative", "very_negative"},
        {"delivery", "communication"},
    ),
    (
        "スタッフの方がとても親切で、丁寧に説明してくれました。",
        "ja",
        {"positive", "very_positive"},
        {"staff_attitude"},
    ),
    (
        "返品の手続きが分かりにくくて困りました。",
        "ja",
        {"negative", "very_negative"},
        {"returns_refunds"},
    ),
    (
        "The delivery was late and the box was damaged. Terrible.",
        "en",
        {"negative", "very_negative"},
        {"delivery"},
    ),
    (
        "The staff were friendly and incredibly helpful!",
        "en",
        {"positive", "very_positive"},
        {"staff_attitude"},
    ),
    (
        "Prices are too expensive for what you get.",
        "en",
        {"negative", "very_negative"},
        {"price_value"},
    ),
]


def _scope(session: Session, org: Org) -> Scope:
    return Scope.for_units(session, [org.unit("acme").id])


@pytest.mark.parametrize(("text", "language", "labels", "themes"), EXAMPLES)
def test_sentiment_and_themes_are_stored(
    session: Session, org: Org, text: str, language: str, labels: set[str], themes: set[str]
):
    (result,) = ingest(
        session=session,
        items=[{"source": "review", "text": text, "org_unit": "store_a"}],
        context=IngestContext(scope=None),
    )
    assert result.status == "created"
    session.commit()
    row = session.get(Feedback, result.id)
    assert row is not None
    assert row.language == language
    assert row.sentiment_label in labels
    stored = {t.theme_id for t in row.themes}
    assert themes <= stored
    for hit in row.themes:
        for start, end in hit.spans:
            assert 0 <= start < end <= len(row.display_text)


def test_japanese_transcript_prefixes_split_the_speakers():
    raw = (
        "オペレーター: お電話ありがとうございます。喜んでご案内いたします。\n"
        "お客様: 注文した商品がまだ届かず、連絡もありません。本当に困っています。\n"
        "オペレーター: 申し訳ございません。すぐに確認いたします。"
    )
    (e,) = enrich_many([("call_transcript", raw)], get_analyzer("fast"))
    assert e.language == "ja" and "transcript" in e.flags
    assert e.sentiment_label in ("negative", "very_negative")
    assert e.agent_sentiment_score is not None and e.agent_sentiment_score > e.sentiment_score
    customer = {t.theme_id for t in e.themes if t.speaker == "customer"}
    assert "communication" in customer
    line = e.display_text.splitlines()[1]
    assert line.startswith("お客様: 注文した商品")
    for t in e.themes:
        for s, _end in t.spans:
            row = e.display_text[:s].count("\n")
            expected = "customer" if row == 1 else "agent"
            assert t.speaker == expected


def test_text_without_speakers_is_the_customers():
    (e,) = enrich_many([("chat_transcript", "Where is my parcel? Late again!")], get_analyzer())
    assert "transcript" not in e.flags and e.agent_sentiment_label is None
    assert e.display_text == "Where is my parcel? Late again!"


def test_pii_is_masked_and_spans_still_point_at_the_theme_words():
    text = (
        "電話090-1234-5678かtaro@example.jpに連絡ください。"
        "カード4111 1111 1111 1111で配送料を払った。"
    )
    (e,) = enrich_many([("email", text)], get_analyzer())
    assert "090-1234-5678" not in e.display_text and "[phone]" in e.display_text
    assert "taro@example.jp" not in e.display_text and "[email]" in e.display_text
    assert "4111" not in e.display_text and "[card]" in e.display_text
    words = {e.display_text[s:x] for t in e.themes for s, x in t.spans}
    assert "連絡" in words
    assert "pii_masked" in e.flags


def test_search_index_follows_updates_and_deletes(session: Session, org: Org):
    ctx = IngestContext(scope=None)
    item = {"source": "review", "text": "配送が遅い。", "org_unit": "store_a", "external_id": "k"}
    ingest(session=session, items=[item], context=ctx)
    session.commit()
    scope = _scope(session, org)

    def found(q: str) -> int:
        return search(session=session, scope=scope, filters=FeedbackFilter(q=q))[1]

    assert found("配送が") == 1
    ingest(session=session, items=[{**item, "text": "梱包が丁寧でした。"}], context=ctx)
    session.commit()
    assert found("配送が") == 0 and found("梱包が") == 1
    session.execute(delete(Feedback))
    session.commit()
    assert found("梱包が") == 0


def test_customer_is_resolved_through_any_identity(session: Session, org: Org):
    ctx = IngestContext(scope=None)
    first = {
        "source": "email",
        "text": "hello",
        "org_unit": "store_a",
        "customer": {"email": "Ann@X.example", "crm_id": "CRM-9"},
    }
    second = {
        "source": "crm_note",
        "text": "called back",
        "org_unit": "store_b",
        "customer": {"crm_id": "CRM-9"},
    }
    a, b = ingest(session=session, items=[first, second], context=ctx)
    session.commit()
    ids = session.scalars(select(Feedback.customer_id).order_by(Feedback.id)).all()
    assert a.status == b.status == "created"
    assert ids[0] is not None and ids[0] == ids[1]


def test_weekly_volume_counts_records_per_monday_week_and_label(session: Session, org: Org):
    def item(n: int, when: str, text: str, unit: str = "store_a") -> dict[str, str]:
        return {"source": "review", "text": text, "org_unit": unit, "occurred_at": when,
                "external_id": str(n)}  # fmt: skip

    bad, good = "配送が遅れて本当に最悪でした。", "スタッフの方がとても親切でした。"
    items = [
        item(1, "2024-05-06T00:30:00+00:00", bad),  # Monday: the week of 05-06
        item(2, "2024-05-12T23:59:00+00:00", bad),  # Sunday: still the week of 05-06
        item(3, "2024-05-13T00:00:00+00:00", good),  # Monday: the week of 05-13
        item(4, "2024-05-15T09:00:00+00:00", bad, unit="store_c"),  # outside the scope below
        item(5, "2024-04-01T09:00:00+00:00", bad),  # before the 3-week window
    ]
    results = ingest(session=session, items=items, context=IngestContext(scope=None))
    assert {r.status for r in results} == {"created"}
    session.commit()
    east = Scope.for_units(session, [org.unit("east").id])
    volume = weekly_volume(
        session=session, scope=east, filters=FeedbackFilter(), weeks=3, today=date(2024, 5, 16)
    )
    assert volume.weeks == [date(2024, 4, 29), date(2024, 5, 6), date(2024, 5, 13)]

    def total(*labels: str) -> list[int]:
        return [sum(volume.counts[k][i] for k in labels) for i in range(len(volume.weeks))]

    negative, positive = total("negative", "very_negative"), total("positive", "very_positive")
    assert negative == [0, 2, 0] and positive == [0, 0, 1]
    assert sum(sum(c) for c in volume.counts.values()) == 3
    until = FeedbackFilter(date_to=date(2024, 5, 8))  # the window ends with that date's week
    volume = weekly_volume(session=session, scope=east, filters=until, weeks=2)
    assert volume.weeks == [date(2024, 4, 29), date(2024, 5, 6)]
    assert sum(sum(c) for c in volume.counts.values()) == 1  # item 2 is after date_to
