"""Split call or chat transcripts into speaker turns so each side is analysed on its own."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Speaker = Literal["agent", "customer", "unknown"]

# Prefixes people actually type in exported transcripts, matched case-insensitively.
_SPEAKER_NAMES: dict[str, Speaker] = {
    "agent": "agent",
    "operator": "agent",
    "rep": "agent",
    "staff": "agent",
    "オペレーター": "agent",
    "オペレータ": "agent",
    "担当者": "agent",
    "担当": "agent",
    "スタッフ": "agent",
    "customer": "customer",
    "caller": "customer",
    "client": "customer",
    "user": "customer",
    "お客様": "customer",
    "お客さま": "customer",
    "顧客": "customer",
}
_PREFIX = re.compile(
    r"^\s*(?:\[[^\]]*\]\s*)?(?P<name>"
    + "|".join(sorted((re.escape(n) for n in _SPEAKER_NAMES), key=len, reverse=True))
    + r")\s*[:：]\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: Speaker
    text: str


@dataclass(frozen=True, slots=True)
class Transcript:
    turns: list[Turn]

    def text_of(self, speaker: Speaker) -> str:
        """All turns of one speaker joined by newlines, in order."""
        return "\n".join(t.text for t in self.turns if t.speaker == speaker)

    @property
    def customer_text(self) -> str:
        return self.text_of("customer")

    @property
    def agent_text(self) -> str:
        return self.text_of("agent")


def _speaker(name: Any) -> Speaker:
    key = str(name or "").strip().lower()
    return _SPEAKER_NAMES.get(key, "unknown")


def _from_json_turns(items: Iterable[Any]) -> list[Turn]:
    turns: list[Turn] = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ValueError(f"transcript turn {i} must be an object with 'speaker' and 'text'")
        text = item.get("text")
        if not isinstance(text, str):
            raise ValueError(f"transcript turn {i}: 'text' must be a string")
        if text.strip():
            turns.append(Turn(_speaker(item.get("speaker")), text.strip()))
    return turns


def _from_plain_text(raw: str) -> list[Turn]:
    speakers: list[Speaker] = []
    lines: list[list[str]] = []
    for line in raw.splitlines():
        match = _PREFIX.match(line)
        if match:
            speakers.append(_SPEAKER_NAMES[match.group("name").lower()])
            lines.append([line[match.end() :].strip()])
        elif line.strip():
            if not lines:  # text before the first prefix: speaker not known
                speakers.append("unknown")
                lines.append([])
            lines[-1].append(line.strip())
    return [
        Turn(speaker, "\n".join(part for part in parts if part))
        for speaker, parts in zip(speakers, lines, strict=True)
        if any(parts)
    ]


def parse_transcript(raw: str | Iterable[Mapping[str, Any]]) -> Transcript:
    """Parse JSON turns (a list or its JSON text) or ``Agent:``/``お客様:`` prefixed lines.

    Lines without a prefix continue the previous turn.
    """
    if isinstance(raw, str):
        stripped = raw.lstrip()
        if stripped.startswith("["):
            try:
                data = json.loads(stripped)
            except json.JSONDecodeError:
                data = None
            if isinstance(data, list):
                return Transcript(_from_json_turns(data))
        return Transcript(_from_plain_text(raw))
    return Transcript(_from_json_turns(raw))
