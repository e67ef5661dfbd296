"""Text analysis on demand: language, sentiment and themes, nothing stored."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from cxloop.insight.text import Mode
from cxloop.signals.feedback_enrich import MAX_TEXT_CHARS
from cxloop.signals.feedback_taxonomy import analyzer_for
from cxloop.web.deps import CurrentPrincipal, SessionDep

router = APIRouter(tags=["analyze"])


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: list[str] = Field(min_length=1, max_length=1000)
    mode: Mode = "fast"


class SentimentPublic(BaseModel):
    label: str
    score: float


class ThemePublic(BaseModel):
    id: str
    name: str
    score: float
    spans: list[list[int]]


class AnalysisPublic(BaseModel):
    language: str
    sentiment: SentimentPublic
    themes: list[ThemePublic]
    truncated: bool = False


class AnalyzeResponse(BaseModel):
    data: list[AnalysisPublic]


@router.post("/analyze")
def analyze(
    body: AnalyzeRequest, principal: CurrentPrincipal, session: SessionDep
) -> AnalyzeResponse:
    """Analyse up to 1,000 texts with the organisation's taxonomy; results in input order."""
    principal.require("feedback:read")
    analyzer, _ = analyzer_for(session=session, mode=body.mode)
    texts = [t[:MAX_TEXT_CHARS] for t in body.texts]
    results = analyzer.analyze(texts)
    return AnalyzeResponse(
        data=[
            AnalysisPublic(
                language=a.language,
                sentiment=SentimentPublic(label=a.sentiment.label, score=a.sentiment.score),
                themes=[
                    ThemePublic(
                        id=h.id, name=h.name, score=h.score, spans=[list(s) for s in h.spans]
                    )
                    for h in a.themes
                ],
                truncated=len(original) > MAX_TEXT_CHARS,
            )
            for a, original in zip(results, body.texts, strict=True)
        ]
    )
