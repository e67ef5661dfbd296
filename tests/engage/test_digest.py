"""The weekly digest through a real SMTP server, with a readable PDF (English and Japanese)."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.engage.digest import DigestCreate, create_subscription, due_subscriptions, send_digest
from cxloop.engage.kpis import KpiCreate, create_kpi
from cxloop.engage.scorecard_tasks import send_scorecard_digests
from cxloop.engage.targets import CommentCreate, TargetIn, add_comment, set_targets
from cxloop.jobs import JobContext
from cxloop.store.base import utcnow
from tests.conftest import Org
from tests.engage.factories import add_rollup, build_periods

MAR = date(2025, 3, 1)


def _pdf_text(pdf: bytes, tmp: Path) -> str:
    path = tmp / "d.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def _world(session: Session, org: Org) -> int:
    acme, a = org.unit("acme").id, org.unit("store_a").id
    nps = create_kpi(
        session=session,
        data=KpiCreate(org_unit_id=acme, metric="cx:nps", owner_user_id=org.users["exec"].id),
    )
    csat = create_kpi(session=session, data=KpiCreate(org_unit_id=acme, metric="cx:csat"))
    add_rollup(session, "nps", a, date(2025, 2, 3), n=300, a=150, b=30)
    add_rollup(session, "nps", a, date(2025, 3, 3), n=300, a=90, b=90)
    add_rollup(session, "csat", a, date(2025, 2, 3), n=300, a=240)
    add_rollup(session, "csat", a, date(2025, 3, 3), n=300, a=280)
    build_periods(session)
    set_targets(
        session=session,
        kpi=nps,
        direction="higher",
        targets=[TargetIn(org_unit_id=acme, period_start=MAR, target=30, threshold=10)],
    )
    set_targets(
        session=session,
        kpi=csat,
        direction="higher",
        targets=[TargetIn(org_unit_id=acme, period_start=MAR, target=0.85)],
    )
    add_comment(
        session=session,
        kpi=csat,
        data=CommentCreate(
            org_unit_id=acme,
            period_start=MAR,
            why="New <b>returns</b> desk =cmd()",
            action="Keep it",
        ),
        author_user_id=None,
        author="cxo",
    )
    org.users["analyst"].language = "ja"
    sub = create_subscription(
        session=session,
        data=DigestCreate(
            name="CX advisory council",
            org_unit_id=acme,
            member_ids=[org.users["exec"].id, org.users["analyst"].id],
        ),
    )
    session.commit()
    return sub.id


def test_digest_delivered_with_pdf_in_each_language(
    session: Session, org: Org, mail_settings: Settings, smtp_server, tmp_path: Path
) -> None:
    from cxloop.store.models.scorecard import DigestSubscription

    sub = session.get(DigestSubscription, _world(session, org))
    assert sub is not None
    result = send_digest(
        session=session, settings=mail_settings, sub=sub, period="month", start=MAR
    )
    assert sorted(result.sent) == ["analyst@acme.example", "exec@acme.example"]
    msgs = {str(m["To"]): m for m in smtp_server.parsed()}
    en = next(m for to, m in msgs.items() if "exec@" in to)
    ja = next(m for to, m in msgs.items() if "analyst@" in to)
    assert "CX advisory council" in str(en["Subject"]) and "Month 2025-03-01" in str(en["Subject"])
    html = en.get_body(("html",)).get_content()
    # wins are called out as well as misses; customer-ish text is escaped
    wins, misses = html.split("<h2>Wins</h2>", 1)[1].split("<h2>Misses</h2>", 1)
    assert "CSAT (top-2-box)" in wins and "NPS" in misses.split("<h2>")[0]
    assert "Off track with no commentary" in misses
    assert "New &lt;b&gt;returns&lt;/b&gt; desk" in html
    pdf = next(p for p in en.iter_attachments() if p.get_content_type() == "application/pdf")
    text = _pdf_text(pdf.get_content(), tmp_path)
    assert "CX advisory council" in text and "NPS" in text and "Off track" in text
    assert "93.3%" in text  # CSAT 280 / 300
    assert "exec" in text  # the owner of the NPS KPI
    ja_pdf = next(p for p in ja.iter_attachments() if p.get_content_type() == "application/pdf")
    ja_text = _pdf_text(ja_pdf.get_content(), tmp_path)
    assert "スコアカード" in ja_text and "未達" in ja_text and "好調" in ja_text
    assert "顧客満足度" in str(ja.get_body(("html",)).get_content())


def test_periodic_task_sends_due_digests_once_a_week(
    session: Session, org: Org, mail_settings: Settings, smtp_server
) -> None:
    _world(session, org)
    first = send_scorecard_digests(JobContext(mail_settings))
    assert len(first["sent"]) == 2 and not first["failed"]
    session.expire_all()
    assert due_subscriptions(session, utcnow()) == []  # just sent: not due again this week
    assert len(smtp_server.messages) == 2
