"""Tracker wire format (what the collector validates) and the plain events detectors read.

The wire models are strict: unknown event types, extra fields, wrong types and oversized
strings or batches are rejected, because the collector is a public, site-key based endpoint.
`docs/digital-signals.md` documents the same format for people writing their own tracker.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Annotated, Any, Literal, overload

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

MAX_EVENTS_PER_BATCH = 500
MAX_BATCH_BYTES = 256 * 1024

_MAX_TS = 2**53 - 1  # JavaScript's largest safe integer
_COORD = 1_000_000.0  # generous bound for page coordinates and sizes in CSS px

_Id = Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
_SiteKey = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
]
_Url = Annotated[str, StringConstraints(max_length=2048)]
_Selector = Annotated[str, StringConstraints(max_length=512)]
_Short = Annotated[str, StringConstraints(max_length=64)]
_Ts = Annotated[int, Field(ge=0, le=_MAX_TS)]
_Coord = Annotated[float, Field(ge=-_COORD, le=_COORD)]
_Size = Annotated[int, Field(ge=0, le=int(_COORD))]

ClickKind = Literal["input", "clickable", "other"]


class _Wire(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    ts: _Ts
    seq: Annotated[int, Field(ge=0, le=_MAX_TS)]
    url: _Url


class WirePageView(_Wire):
    type: Literal["pageview"]
    nav: Literal["load", "reload", "back_forward", "push", "replace", "pop", "resume"]
    ref: _Url = ""
    vw: _Size
    vh: _Size
    dh: _Size


class WireClick(_Wire):
    type: Literal["click"]
    x: _Coord
    y: _Coord
    sel: _Selector
    tag: Annotated[str, StringConstraints(max_length=32)]
    kind: ClickKind
    pt: Literal["mouse", "touch", "pen", ""] = ""


class WireMove(_Wire):
    type: Literal["move"]
    x: _Coord
    y: _Coord


class WireScroll(_Wire):
    type: Literal["scroll"]
    y: _Coord
    vh: _Size
    dh: _Size


class WireResize(_Wire):
    type: Literal["resize"]
    w: _Size
    h: _Size


class WireOrientation(_Wire):
    type: Literal["orientation"]
    o: Literal["portrait", "landscape"]
    w: _Size
    h: _Size


class WireVisibility(_Wire):
    type: Literal["visibility"]
    state: Literal["visible", "hidden"]


class WireFocus(_Wire):
    type: Literal["focus"]
    state: Literal["focus", "blur"]


class WireMutation(_Wire):
    type: Literal["mutation"]


class WireError(_Wire):
    # No message on purpose: browsers echo data into messages (JSON.parse quotes its input).
    type: Literal["error"]
    name: _Short
    src: _Url = ""
    line: Annotated[int, Field(ge=0, le=_MAX_TS)] = 0
    col: Annotated[int, Field(ge=0, le=_MAX_TS)] = 0


class WireField(_Wire):
    type: Literal["field_focus", "field_blur", "field_input"]
    sel: _Selector
    form: _Selector = ""
    kind: Annotated[str, StringConstraints(max_length=32)] = ""


class WireSubmit(_Wire):
    type: Literal["submit"]
    form: _Selector


class WirePageHide(_Wire):
    type: Literal["pagehide"]


WireEvent = Annotated[
    WirePageView
    | WireClick
    | WireMove
    | WireScroll
    | WireResize
    | WireOrientation
    | WireVisibility
    | WireFocus
    | WireMutation
    | WireError
    | WireField
    | WireSubmit
    | WirePageHide,
    Field(discriminator="type"),
]

EVENT_TYPES: frozenset[str] = frozenset(
    {
        "pageview",
        "click",
        "move",
        "scroll",
        "resize",
        "orientation",
        "visibility",
        "focus",
        "mutation",
        "error",
        "field_focus",
        "field_blur",
        "field_input",
        "submit",
        "pagehide",
    }
)


class TrackerBatch(BaseModel):
    """One POST body from tracker.js (sent as text/plain JSON)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    v: Literal[1]
    site_key: _SiteKey
    session_id: _Id
    batch_id: _Id
    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    sent_at: _Ts
    events: Annotated[list[WireEvent], Field(min_length=1, max_length=MAX_EVENTS_PER_BATCH)]


@dataclass(frozen=True, slots=True)
class Event:
    """One tracker event as detectors see it; fields a type does not carry keep defaults.

    A single flat class keeps scoring fast (no isinstance chains) and easy to build from
    stored rows. `selector` holds the click target, field or form; `form` the field's form;
    `kind` the click kind or input type; `state` visibility, focus or orientation; `name`
    the error name or the clicked tag; `vw`/`vh`/`dh` viewport and document sizes.
    """

    type: str
    ts: int
    seq: int
    url: str
    x: float = 0.0
    y: float = 0.0
    selector: str = ""
    form: str = ""
    kind: str = ""
    state: str = ""
    vw: int = 0
    vh: int = 0
    dh: int = 0
    nav: str = ""
    name: str = ""


_EVENT_LIST: TypeAdapter[list[WireEvent]] = TypeAdapter(list[WireEvent])


def parse_batch(body: str | bytes) -> TrackerBatch:
    """Validate a raw collector body; raises ValueError (pydantic.ValidationError) if bad."""
    if len(body) > MAX_BATCH_BYTES:
        raise ValueError(f"batch larger than {MAX_BATCH_BYTES} bytes")
    return TrackerBatch.model_validate_json(body)


def to_event(wire: WireEvent) -> Event:
    """Flatten one validated wire event into the detector dataclass."""
    c = (wire.type, wire.ts, wire.seq, wire.url)
    match wire:
        case WirePageView():
            return Event(*c, nav=wire.nav, vw=wire.vw, vh=wire.vh, dh=wire.dh)
        case WireClick():
            return Event(*c, x=wire.x, y=wire.y, selector=wire.sel, kind=wire.kind, name=wire.tag)
        case WireMove():
            return Event(*c, x=wire.x, y=wire.y)
        case WireScroll():
            return Event(*c, y=wire.y, vh=wire.vh, dh=wire.dh)
        case WireResize():
            return Event(*c, vw=wire.w, vh=wire.h)
        case WireOrientation():
            return Event(*c, state=wire.o, vw=wire.w, vh=wire.h)
        case WireVisibility() | WireFocus():
            return Event(*c, state=wire.state)
        case WireError():
            return Event(*c, name=wire.name)
        case WireField():
            return Event(*c, selector=wire.sel, form=wire.form, kind=wire.kind)
        case WireSubmit():
            return Event(*c, selector=wire.form, form=wire.form)
        case _:
            return Event(*c)


def batch_events(batch: TrackerBatch) -> list[Event]:
    """The batch's events as detector dataclasses, in wire order."""
    return [to_event(e) for e in batch.events]


def events_from_wire(items: Iterable[Mapping[str, Any]]) -> list[Event]:
    """Validate stored wire-format event dicts (e.g. raw rows) and flatten them."""
    return [to_event(e) for e in _EVENT_LIST.validate_python(list(items))]


# Wire field -> Event field, per type; fields not named here keep their Event names.
_STORED_RENAMES: dict[str, dict[str, str]] = {
    "click": {"sel": "selector", "tag": "name"},
    "resize": {"w": "vw", "h": "vh"},
    "orientation": {"o": "state", "w": "vw", "h": "vh"},
    "field_focus": {"sel": "selector"},
    "field_blur": {"sel": "selector"},
    "field_input": {"sel": "selector"},
    "submit": {"form": "selector"},
}
_STORED_KEEP: dict[str, tuple[str, ...]] = {
    "pageview": ("nav", "vw", "vh", "dh"),
    "click": ("x", "y", "kind"),
    "move": ("x", "y"),
    "scroll": ("y", "vh", "dh"),
    "visibility": ("state",),
    "focus": ("state",),
    "error": ("name",),
    "field_focus": ("form", "kind"),
    "field_blur": ("form", "kind"),
    "field_input": ("form", "kind"),
    "submit": ("form",),
}


def event_from_stored(d: Mapping[str, Any]) -> Event:
    """Flatten a wire event dict that was validated when it arrived (no re-validation).

    The same mapping as `to_event`, for reading stored batches back quickly.
    """
    t = d["type"]
    kw = {dst: d[src] for src, dst in _STORED_RENAMES.get(t, {}).items() if src in d}
    for name in _STORED_KEEP.get(t, ()):
        if name in d:
            kw[name] = d[name]
    return Event(t, d["ts"], d["seq"], d["url"], **kw)


class StoredEvent(Event):
    """An Event whose fields live in the stored wire dict itself (see `events_from_stored`).

    Building a frozen slotted dataclass sets every field one by one, which costs more than
    scoring the event. This subclass keeps a ``__dict__`` instead: class attributes shadow
    Event's slots with the defaults, so reads find the dict's value or the default.
    """


for _field in dataclasses.fields(Event):
    # required fields (type, ts, seq, url) get MISSING: every stored event carries them
    setattr(StoredEvent, _field.name, _field.default)
del _field

_new = object.__new__
_set = object.__setattr__


def stored_event(d: dict[str, Any]) -> Event:
    """Wrap one stored wire dict as an Event without copying it (renamed fields are added to
    the dict). Equal field by field to `event_from_stored`'s event for a valid stored event."""
    names = _STORED_RENAMES.get(d["type"])
    if names is not None:
        for src, dst in names.items():
            if src in d:
                d[dst] = d[src]
    e = _new(StoredEvent)
    _set(e, "__dict__", d)
    return e


def events_from_stored(items: Iterable[dict[str, Any]]) -> list[Event]:
    """`stored_event` for many events at once (takes the dicts over: do not reuse them)."""
    return [stored_event(d) for d in items]


class StoredEvents(Sequence[Event]):
    """A session's stored wire dicts read as Events, each wrapped (once) only when a
    detector looks at it: most events (mouse moves) are only ever read as columns."""

    __slots__ = ("items", "_wrapped")

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self._wrapped: dict[int, Event] = {}

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, i: int) -> Event: ...

    @overload
    def __getitem__(self, i: slice) -> list[Event]: ...

    def __getitem__(self, i: int | slice) -> Event | list[Event]:
        if isinstance(i, slice):
            return [stored_event(d) for d in self.items[i]]
        e = self._wrapped.get(i)
        if e is None:
            e = self._wrapped[i] = stored_event(self.items[i])
        return e


def ordered(events: Sequence[Event]) -> list[Event]:
    """Session order (client time, then sequence number), dropping resent duplicates."""
    seen: set[tuple[int, int]] = set()
    out: list[Event] = []
    for e in sorted(events, key=_ORDER):
        key = (e.ts, e.seq)  # a resend repeats both; two real events never share them
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


_ORDER = attrgetter("ts", "seq")
