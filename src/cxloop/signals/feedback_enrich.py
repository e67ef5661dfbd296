"""Enrichment of feedback text: speaker turns, analysis, PII masking, spans on the display text.

Pure over strings: the caller passes an Analyzer and gets dataclasses back, so the same code
runs in the request, in an import worker process and in the re-analysis job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cxloop.insight.text import Analysis, Analyzer, find_pii, parse_transcript
from cxloop.insight.text.language import detect_language
from cxloop.store.models.feedback import TRANSCRIPT_SOURCES

# Longer texts are cut here and flagged ``truncated``: beyond it a record is a document,
# and analysis time grows with length.
MAX_TEXT_CHARS = 20_000

_LABELS = {
    "en": {"customer": "Customer", "agent": "Agent", "unknown": "Other"},
    "ja": {"customer": "お客様", "agent": "オペレーター", "unknown": "その他"},
}


# Not ``slots``: these travel back from import workers by pickle, and slotted dataclasses
# unpickle through a slow per-field ``__setstate__`` in the importer's busy main process.
@dataclass(frozen=True)
class ThemeFound:
    theme_id: str
    name: str
    speaker: str  # customer / agent
    score: float
    spans: tuple[tuple[int, int], ...]  # into the display text


@dataclass(frozen=True)
class Enrichment:
    display_text: str
    language: str
    sentiment_label: str
    sentiment_score: float
    agent_sentiment_label: str | None = None
    agent_sentiment_score: float | None = None
    themes: tuple[ThemeFound, ...] = ()
    flags: tuple[str, ...] = ()


@dataclass
class _Layout:
    """The text shown to people, and where each speaker's analysed text sits in it."""

    text: str
    # speaker -> [(offset in the speaker's joined text, offset in ``text``, length)]
    pieces: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)
    joined: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


def cut(text: str) -> tuple[str, bool]:
    """``text`` cut at :data:`MAX_TEXT_CHARS`, and whether it was cut."""
    if len(text) > MAX_TEXT_CHARS:
        return text[:MAX_TEXT_CHARS], True
    return text, False


def _layout(source: str, text: str) -> _Layout:
    if source in TRANSCRIPT_SOURCES:
        try:
            turns = parse_transcript(text).turns
        except ValueError:
            turns = []
        if any(t.speaker != "unknown" for t in turns):
            return _transcript_layout(turns, text)
    return _Layout(text, {"customer": [(0, 0, len(text))]}, {"customer": text})


def _transcript_layout(turns: Sequence, raw: str) -> _Layout:
    labels = _LABELS["ja" if detect_language(raw) == "ja" else "en"]
    lines: list[str] = []
    pos = 0
    layout = _Layout("")
    for turn in turns:
        prefix = f"{labels[turn.speaker]}: "
        start = pos + len(prefix)
        if turn.speaker != "unknown":
            joined = layout.joined.get(turn.speaker)
            offset = 0 if joined is None else len(joined) + 1
            layout.joined[turn.speaker] = turn.text if joined is None else f"{joined}\n{turn.text}"
            layout.pieces.setdefault(turn.speaker, []).append((offset, start, len(turn.text)))
        lines.append(prefix + turn.text)
        pos += len(prefix) + len(turn.text) + 1
    layout.text = "\n".join(lines)
    layout.flags.append("transcript")
    return layout


def _to_layout(
    pieces: list[tuple[int, int, int]], spans: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    out = []
    for start, end in spans:
        for joined_at, text_at, length in pieces:
            if joined_at <= start and end <= joined_at + length:
                out.append((text_at + start - joined_at, text_at + end - joined_at))
                break  # a span across two turns (over the joining newline) is dropped
    return out


def _masked(text: str) -> tuple[str, list[tuple[int, int, int]]]:
    """The PII-masked text and, per masked span, (start, end, length change)."""
    out: list[str] = []
    pos = 0
    shifts = []
    for start, end, mask in find_pii(text):
        out.append(text[pos:start])
        out.append(mask)
        shifts.append((start, end, len(mask) - (end - start)))
        pos = end
    out.append(text[pos:])
    return "".join(out), shifts


def _through_mask(
    spans: list[tuple[int, int]], shifts: list[tuple[int, int, int]]
) -> tuple[tuple[int, int], ...]:
    out = []
    for start, end in spans:
        if any(start < p_end and p_start < end for p_start, p_end, _ in shifts):
            continue  # a theme inside personal data is not shown
        delta = sum(d for p_start, _, d in shifts if p_start < start)
        out.append((start + delta, end + delta))
    return tuple(out)


def enrich_many(items: Sequence[tuple[str, str]], analyzer: Analyzer) -> list[Enrichment]:
    """Enrich ``(source, text)`` pairs in one analyzer call (batches help accurate mode)."""
    layouts = [_layout(source, text) for source, text in items]
    requests: list[tuple[int, str]] = []
    for i, layout in enumerate(layouts):
        for speaker in ("customer", "agent"):
            if speaker in layout.joined:
                requests.append((i, speaker))
    analyses = analyzer.analyze([layouts[i].joined[sp] for i, sp in requests]) if requests else []
    found: list[dict[str, Analysis]] = [{} for _ in items]
    for (i, speaker), analysis in zip(requests, analyses, strict=True):
        found[i][speaker] = analysis
    return [_combine(layout, per) for layout, per in zip(layouts, found, strict=True)]


def _combine(layout: _Layout, per: dict[str, Analysis]) -> Enrichment:
    display, shifts = _masked(layout.text)
    themes: list[ThemeFound] = []
    for speaker, analysis in per.items():
        for hit in analysis.themes:
            spans = _through_mask(_to_layout(layout.pieces[speaker], hit.spans), shifts)
            themes.append(ThemeFound(hit.id, hit.name, speaker, hit.score, spans))
    customer = per.get("customer")
    agent = per.get("agent")
    language = customer.language if customer else "und"
    if language == "und" and agent is not None:
        language = agent.language
    flags = list(layout.flags)
    if shifts:
        flags.append("pii_masked")
    return Enrichment(
        display_text=display,
        language=language,
        sentiment_label=customer.sentiment.label if customer else "neutral",
        sentiment_score=customer.sentiment.score if customer else 0.0,
        agent_sentiment_label=agent.sentiment.label if agent else None,
        agent_sentiment_score=agent.sentiment.score if agent else None,
        themes=tuple(themes),
        flags=tuple(flags),
    )
