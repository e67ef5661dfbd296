"""Stored signals are published to listeners; signals never import the stages that listen."""

from __future__ import annotations

import ast
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.signals import listeners
from cxloop.store.models.org import OrgUnit
from tests.conftest import Org


def test_each_listener_runs_in_its_own_savepoint(
    session: Session, org: Org, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[Any] = []

    def breaks(s: Session, records: Sequence[Any]) -> None:
        s.add(
            OrgUnit(name="half-written", code="half", kind="store", parent_id=org.unit("acme").id)
        )
        s.flush()
        raise RuntimeError("listener bug")

    def hears(s: Session, records: Sequence[Any]) -> None:
        heard.extend(records)

    listeners.subscribe("test_kind", breaks)
    listeners.subscribe("test_kind", hears)
    listeners.subscribe("test_kind", hears)  # once per function
    try:
        with caplog.at_level(logging.ERROR, logger="cxloop.signals.listeners"):
            listeners.publish(session, "test_kind", [1, 2])
            listeners.publish(session, "test_kind", [])  # nothing stored: nobody is called
    finally:
        listeners.unsubscribe("test_kind", breaks)
        listeners.unsubscribe("test_kind", hears)
    assert heard == [1, 2]
    assert "test_kind listener" in caplog.text and "breaks" in caplog.text
    # the failing listener's writes are rolled back, the caller's transaction goes on
    assert session.scalar(select(OrgUnit).where(OrgUnit.name == "half-written")) is None
    listeners.publish(session, "test_kind", [3])
    assert heard == [1, 2]


def test_the_alert_rules_subscribe_to_every_signal_kind() -> None:
    for kind in ("survey_response", "feedback", "metric_point", "digital_session"):
        assert any(fn.__module__ == "cxloop.act.act_listeners" for fn in listeners.listeners(kind))


def test_signals_never_import_later_stages() -> None:
    root = Path(listeners.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                assert not name.startswith(("cxloop.act", "cxloop.engage", "cxloop.web")), (
                    f"{path.name} imports {name}"
                )
