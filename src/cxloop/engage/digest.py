"""Digest subscriptions: a group (e.g. the CX advisory council) that receives a unit's
scorecard on a cadence, as an HTML e-mail with the PDF attached, each in their language."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.engage.hierarchy import get_unit
from cxloop.engage.reports import digest_content, label, render_digest_html, render_pdf, translator
from cxloop.engage.scorecard import build_scorecard, default_period_start
from cxloop.mail import Attachment, Mail, MailError, send
from cxloop.store.base import utcnow
from cxloop.store.models.org import User
from cxloop.store.models.scorecard import DigestSubscription

CADENCES = ("weekly", "monthly")


class DigestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    org_unit_id: int
    cadence: str = Field("weekly", pattern="^(weekly|monthly)$")
    member_ids: list[int] = Field(min_length=1)


def create_subscription(*, session: Session, data: DigestCreate) -> DigestSubscription:
    found = set(session.scalars(select(User.id).where(User.id.in_(data.member_ids))))
    missing = [i for i in data.member_ids if i not in found]
    if missing:
        raise ValueError(f"member_ids: no user with id {missing[0]}")
    sub = DigestSubscription(
        name=data.name,
        org_unit_id=data.org_unit_id,
        cadence=data.cadence,
        member_ids=sorted(set(data.member_ids)),
    )
    session.add(sub)
    session.flush()
    return sub


@dataclass
class DigestResult:
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _period(cadence: str) -> str:
    return "month" if cadence == "monthly" else "week"


def send_digest(
    *,
    session: Session,
    settings: Settings,
    sub: DigestSubscription,
    today: date | None = None,
    period: str | None = None,
    start: date | None = None,
) -> DigestResult:
    """Build the scorecard once and mail it to every active member in their language.
    A failing address is recorded and the others still get theirs."""
    unit = get_unit(session, sub.org_unit_id)
    if unit is None:
        raise ValueError(f"digest {sub.id}: its org unit is gone")
    kind = period or _period(sub.cadence)
    begin = start or default_period_start(kind, today or date.today())
    card = build_scorecard(session=session, unit=unit, period=kind, start=begin)
    members = session.scalars(
        select(User).where(User.id.in_(sub.member_ids), User.is_active.is_(True))
    ).all()
    result = DigestResult()
    rendered: dict[str, tuple[str, bytes, str]] = {}
    for user in members:
        lang = user.language if user.language in ("en", "ja") else settings.default_language
        if lang not in rendered:
            t = translator(lang)
            period_label = f"{t('scorecard.period.' + kind)} {begin.isoformat()}"
            subject = t(
                "scorecard.digest.subject",
                name=sub.name,
                unit=unit.display(lang),
                period=period_label,
            )
            link = f"{settings.base_url}/scorecard?unit_id={unit.id}&period={kind}&start={begin}"
            html = render_digest_html(card, lang=lang, title=subject, link=link)
            rendered[lang] = (subject, render_pdf(html), html)
        subject, pdf, html = rendered[lang]
        text = _text(card, lang) + "\n\n" + translator(lang)("scorecard.digest.attached")
        mail = Mail(
            to=user.email,
            to_name=user.name,
            subject=subject,
            text=text,
            html=html,
            attachments=[Attachment(f"scorecard-{unit.code}-{begin}.pdf", pdf, "application/pdf")],
        )
        try:
            send(settings, mail)
            result.sent.append(user.email)
        except (MailError, ValueError) as exc:
            result.failed.append(f"{user.email}: {exc}")
    sub.last_sent_at = utcnow()
    return result


def _text(card: object, lang: str) -> str:
    """The plain-text part: one line per KPI, wins and misses first."""
    from cxloop.engage.scorecard import Scorecard

    assert isinstance(card, Scorecard)
    t = translator(lang)
    content = digest_content(card)
    lines = [t("scorecard.digest.intro", unit=card.unit.display(lang), period=card.start)]
    for title, cards in (
        (t("scorecard.digest.wins"), content.wins),
        (t("scorecard.digest.misses"), content.misses),
    ):
        lines.append("")
        lines.append(title)
        for c in cards or []:
            value = "—" if c.current is None else f"{c.current.value:.2f}"
            lines.append(f"- {label(c, lang)}: {value} ({t('scorecard.status.' + c.status)})")
        if not cards:
            lines.append("- " + t("scorecard.digest.none"))
    return "\n".join(lines)


def due_subscriptions(session: Session, now: datetime) -> list[DigestSubscription]:
    """Active subscriptions whose cadence says it is their turn (weekly: every run of the
    Monday job; monthly: the first Monday run of a month)."""
    subs = session.scalars(
        select(DigestSubscription).where(DigestSubscription.active.is_(True))
    ).all()
    due = []
    for s in subs:
        last = s.last_sent_at
        if s.cadence == "weekly" and (last is None or (now - last).days >= 6):
            due.append(s)
        elif s.cadence == "monthly" and (
            last is None or (last.year, last.month) != (now.year, now.month)
        ):
            due.append(s)
    return due
