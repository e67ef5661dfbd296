"""Per-site thresholds for the digital body language detectors (see docs/digital-signals.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Every number a detector compares against; a site overrides any of them.

    Times are milliseconds, distances CSS pixels. "Within" means inclusive (<=) and
    "between consecutive" gaps are strict (<), matching the wording in the docs.
    """

    # rage_click: >= min_clicks clicks, each gap < max_gap_ms, all within radius of the first
    rage_min_clicks: int = 3
    rage_max_gap_ms: int = 1000
    rage_radius_px: float = 30.0
    # dead_click: no mutation, navigation, scroll or focus change within window_ms
    dead_click_window_ms: int = 1000
    dead_click_only_clickable: bool = True
    # error_click: a JS error within window_ms after a click
    error_click_window_ms: int = 1000
    # thrashed_cursor: >= min_reversals sharp reversals within window_ms
    thrash_min_reversals: int = 5
    thrash_window_ms: int = 2000
    thrash_min_speed_px_s: float = 400.0
    thrash_min_accel_px_s2: float = 8000.0
    thrash_max_gap_ms: int = 250
    # excessive_scroll: >= min_reversals up/down reversals (legs >= min_leg_px) in window_ms,
    # and more than norm_factor times the page's norm when a norm is known
    scroll_min_leg_px: float = 200.0
    scroll_min_reversals: int = 4
    scroll_window_ms: int = 10_000
    scroll_norm_factor: float = 2.0
    # quick_back: back on the previous page within quick_back_ms, no click or form input
    quick_back_ms: int = 5000
    # device_rotation: >= min_changes orientation changes within window_ms
    rotation_min_changes: int = 2
    rotation_window_ms: int = 10_000
    # field_hesitation: focus to first input takes >= hesitation_ms (page stayed visible)
    field_hesitation_ms: int = 5000
    # engagement: a moment is active if the page is visible and an interaction happened
    # within active_window_ms; engaged_active_ms is the per-page active time worth full marks
    active_window_ms: int = 5000
    engaged_active_ms: int = 30_000


DEFAULT_THRESHOLDS = Thresholds()
