"""The Signal a detector emits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

SIGNAL_TYPES: tuple[str, ...] = (
    "rage_click",
    "dead_click",
    "error_click",
    "thrashed_cursor",
    "excessive_scroll",
    "quick_back",
    "device_rotation",
    "form_abandonment",
    "field_hesitation",
)


@dataclass(frozen=True, slots=True)
class Signal:
    """One detected moment: `at` is client time in ms, `selector` is "" when none applies."""

    type: str
    at: int
    url: str
    selector: str
    details: Mapping[str, float | int | str] = field(default_factory=dict)
