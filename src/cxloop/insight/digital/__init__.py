"""Digital body language: tracker batches in, frustration signals, engagement and DXS out.

The collector validates a body with `parse_batch`, stores it, and once a session has ended
calls `score_session(events, thresholds)` on its events (see docs/digital-signals.md).
"""

from cxloop.insight.digital.detectors import detect, scroll_norms
from cxloop.insight.digital.dxs import DEFAULT_WEIGHTS, DxsWeights, HotSpot
from cxloop.insight.digital.engagement import PageEngagement, SessionEngagement, engagement
from cxloop.insight.digital.events import (
    MAX_EVENTS_PER_BATCH,
    Event,
    TrackerBatch,
    batch_events,
    event_from_stored,
    events_from_wire,
    parse_batch,
)
from cxloop.insight.digital.score import PageScore, SessionScore, score_session, score_stored
from cxloop.insight.digital.session import Page
from cxloop.insight.digital.signal import SIGNAL_TYPES, Signal
from cxloop.insight.digital.thresholds import DEFAULT_THRESHOLDS, Thresholds

__all__ = [
    "DEFAULT_THRESHOLDS",
    "DEFAULT_WEIGHTS",
    "MAX_EVENTS_PER_BATCH",
    "SIGNAL_TYPES",
    "DxsWeights",
    "Event",
    "HotSpot",
    "Page",
    "PageEngagement",
    "PageScore",
    "SessionEngagement",
    "SessionScore",
    "Signal",
    "Thresholds",
    "TrackerBatch",
    "batch_events",
    "detect",
    "event_from_stored",
    "engagement",
    "events_from_wire",
    "parse_batch",
    "score_session",
    "score_stored",
    "scroll_norms",
]
