"""The scorecard as a report: HTML (e-mail body) and PDF (WeasyPrint, CJK font) in the
reader's language. Templates live with the web templates in ``templates/reports``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cxloop.engage.scorecard import KpiCard, Scorecard

_WEB = Path(__file__).resolve().parent.parent / "web"


@cache
def _strings() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(
        (_WEB / "locales" / "scorecard.json").read_text(encoding="utf-8")
    )
    return data


def translator(lang: str) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
        texts = _strings().get(key, {})
        text = texts.get(lang) or texts.get("en") or key
        return text.format(**values) if values else text

    return t


@cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(_WEB / "templates")),
        autoescape=select_autoescape(["html"], default=True),
    )


def label(card: KpiCard, lang: str) -> str:
    m = card.metric
    if lang == "ja" and m.label_ja:
        return m.label_ja
    return translator(lang)(m.label) if m.label.startswith("scorecard.") else m.label


@dataclass(frozen=True)
class DigestContent:
    wins: list[KpiCard]
    misses: list[KpiCard]
    movers: list[KpiCard]


def digest_content(card: Scorecard, top: int = 3) -> DigestContent:
    """Wins (on track, or improved significantly) and misses (off track / at risk), and the
    biggest movers: significant changes first, then the largest relative change."""
    wins = [
        c
        for c in card.cards
        if c.status == "on_track" or (c.change and c.change.improved and c.change.significant)
    ]
    misses = [c for c in card.cards if c.status in ("off_track", "at_risk") and c not in wins]

    def size(c: KpiCard) -> tuple[int, float]:
        ch = c.change
        if ch is None:
            return (0, 0.0)
        return (1 if ch.significant else 0, abs(ch.relative or 0.0))

    movers = [c for c in sorted(card.cards, key=size, reverse=True) if c.change][:top]
    return DigestContent(wins, misses, movers)


def render_digest_html(
    card: Scorecard, *, lang: str, title: str, link: str, extra: dict[str, Any] | None = None
) -> str:
    t = translator(lang)
    labels = {c.kpi_id: label(c, lang) for c in card.cards}
    return (
        _env()
        .get_template("reports/digest.html")
        .render(
            t=t,
            lang=lang,
            card=card,
            labels=labels,
            content=digest_content(card),
            title=title,
            link=link,
            unit_name=card.unit.display(lang),
            **(extra or {}),
        )
    )


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return bytes(HTML(string=html).write_pdf())
