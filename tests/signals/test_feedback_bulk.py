"""What a bulk import changes around the stored rows: listener hand-off, collector."""

from __future__ import annotations

import gc
from typing import Any

from sqlalchemy.orm import Session

from cxloop.signals.feedback import IngestContext, ingest
from cxloop.signals.feedback_import import bulk_gc
from cxloop.signals.listeners import subscribe, unsubscribe
from tests.conftest import Org


def test_listeners_get_whole_rows_with_themes_and_text(session: Session, org: Org):
    heard: list[Any] = []

    def listener(_: Session, rows: Any) -> None:
        heard.extend(
            (r.id, r.text, r.attributes, sorted(t.theme_id for t in r.themes)) for r in rows
        )

    subscribe("feedback", listener)
    try:
        results = ingest(
            session=session,
            items=[
                {
                    "source": "review",
                    "text": "The delivery was late. Call me at 090-1234-5678.",
                    "org_unit": "store_a",
                    "attributes": {"order": "A-17"},
                }
            ],
            context=IngestContext(scope=None),
        )
    finally:
        unsubscribe("feedback", listener)
    ((fid, text, attributes, themes),) = heard
    assert fid == results[0].id
    assert text.endswith("090-1234-5678.")  # the raw text, deferred but there on access
    assert attributes == {"order": "A-17"}
    assert "delivery" in themes


def test_bulk_gc_is_undone_after_the_import():
    before = gc.get_threshold()
    with bulk_gc():
        assert gc.get_threshold()[0] > before[0]
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
