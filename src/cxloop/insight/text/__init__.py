"""Japanese/English text analytics: language, PII masking, transcripts, sentiment, themes.

Everything here is pure: functions over strings and dataclasses, no database or request.
"""

from typing import Any

from cxloop.insight.text.analyzer import (
    MODES,
    Analysis,
    Analyzer,
    EmbeddingAnalyzer,
    LexiconAnalyzer,
    Mode,
    PreciseAnalyzer,
    get_analyzer,
)
from cxloop.insight.text.language import detect_language
from cxloop.insight.text.pii import find_pii, mask_pii
from cxloop.insight.text.sentences import Sentence, split_sentences
from cxloop.insight.text.sentiment import (
    Label,
    SentenceSentiment,
    Sentiment,
    analyze_sentiment,
    label_for,
    rollup,
)
from cxloop.insight.text.taxonomy import (
    Taxonomy,
    TaxonomyError,
    Theme,
    default_taxonomy,
    load_taxonomy,
    validate_taxonomy,
)
from cxloop.insight.text.themes import ThemeHit, ThemeMatcher
from cxloop.insight.text.transcripts import Transcript, Turn, parse_transcript

__all__ = [
    "Analysis",
    "Analyzer",
    "DiscoveredTheme",
    "EmbeddingAnalyzer",
    "PreciseAnalyzer",
    "Label",
    "LexiconAnalyzer",
    "MODES",
    "Mode",
    "Sentence",
    "SentenceSentiment",
    "Sentiment",
    "Taxonomy",
    "TaxonomyError",
    "Theme",
    "ThemeHit",
    "ThemeMatcher",
    "Transcript",
    "Turn",
    "analyze_sentiment",
    "default_taxonomy",
    "detect_language",
    "discover_themes",
    "discover_unexplained",
    "find_pii",
    "get_analyzer",
    "label_for",
    "load_taxonomy",
    "mask_pii",
    "parse_transcript",
    "rollup",
    "split_sentences",
    "validate_taxonomy",
]


# Discovery needs scikit-learn and SciPy (~90 MiB per process); only theme discovery loads it.
_DISCOVERY = {"DiscoveredTheme", "discover_themes", "discover_unexplained"}


def __getattr__(name: str) -> Any:
    if name in _DISCOVERY:
        from cxloop.insight.text import discovery

        return getattr(discovery, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
