"""Who hears about newly stored signals.

Signal modules call :func:`publish` after storing records; later stages (the alert rules,
the scorecard) :func:`subscribe` to a kind in a module named ``listeners`` or
``*_listeners`` (e.g. ``act/act_listeners.py``), discovered on the first publish. So signals
never import the stages that react to them.

Kinds and what their ``records`` are:

* ``survey_response`` - completed ``SurveyResponse`` rows (not pulse);
* ``feedback`` - newly created ``Feedback`` rows;
* ``metric_point`` - new or changed ``PointIn`` values;
* ``digital_session`` - ``(Closing, ScoredSession)`` pairs of frustrated sessions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

Listener = Callable[[Session, Sequence[Any]], None]

_LISTENERS: dict[str, list[Listener]] = {}
_discovered = False
_lock = threading.Lock()


def subscribe(kind: str, fn: Listener) -> None:
    """Call ``fn(session, records)`` whenever records of ``kind`` are stored (once per fn)."""
    with _lock:
        found = _LISTENERS.setdefault(kind, [])
        if fn not in found:
            found.append(fn)


def unsubscribe(kind: str, fn: Listener) -> None:
    with _lock:
        if fn in _LISTENERS.get(kind, []):
            _LISTENERS[kind].remove(fn)


def listeners(kind: str) -> list[Listener]:
    _discover()
    with _lock:
        return list(_LISTENERS.get(kind, []))


def publish(session: Session, kind: str, records: Sequence[Any]) -> None:
    """Hand stored ``records`` to every listener of ``kind``, each in its own savepoint of
    the caller's transaction: a failing listener is logged and never loses the records."""
    if not records:
        return
    for fn in listeners(kind):
        try:
            with session.begin_nested():
                fn(session, records)
        except Exception:  # noqa: BLE001 - logged; the records themselves stand
            log.exception("%s listener %s failed for %d records", kind, _name(fn), len(records))


def _name(fn: Listener) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)!s}"


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    from cxloop.plugins import modules_named

    modules_named("listeners")
    _discovered = True
