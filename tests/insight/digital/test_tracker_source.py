"""Static checks on tracker.js and on the digital-signals documentation."""

from __future__ import annotations

import dataclasses
import gzip
import re
import typing
from pathlib import Path

import pytest

from cxloop.insight.digital import SIGNAL_TYPES, Thresholds, TrackerBatch
from cxloop.insight.digital.events import EVENT_TYPES, WireEvent

ROOT = Path(__file__).resolve().parents[3]
TRACKER = (ROOT / "src" / "cxloop" / "web" / "static" / "tracker.js").read_text()
DOC = (ROOT / "docs" / "digital-signals.md").read_text()


def test_tracker_fits_the_size_budget() -> None:
    assert len(gzip.compress(TRACKER.encode(), compresslevel=9)) <= 8 * 1024


@pytest.mark.parametrize(
    "reads_content",
    [
        r"\.value\b",
        r"\.textContent\b",
        r"\.innerText\b",
        r"\.innerHTML\b",
        r"\.outerHTML\b",
        r"\.message\b",
        r"document\.title",
        r"\.key\b",
        r"\.data\b",
    ],
)
def test_tracker_never_reads_values_text_or_messages(reads_content: str) -> None:
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", TRACKER, flags=re.S)
    assert re.search(reads_content, code) is None


def test_tracker_emits_only_known_event_types() -> None:
    emitted = set(re.findall(r'\b(?:rec|push|fieldRec)\("([a-z_]+)"', TRACKER))
    assert emitted == EVENT_TYPES


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Thresholds)])
def test_every_threshold_is_documented(name: str) -> None:
    assert f"`{name}" in DOC


@pytest.mark.parametrize("name", SIGNAL_TYPES)
def test_every_signal_type_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_every_wire_event_type_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC


def test_every_wire_field_is_documented() -> None:
    fields = set(TrackerBatch.model_fields)
    for model in typing.get_args(typing.get_args(WireEvent)[0]):
        fields |= set(model.model_fields)
    missing = sorted(f for f in fields if f"`{f}`" not in DOC)
    assert missing == []
