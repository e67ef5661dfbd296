"""Train the sentiment heads of the accurate and precise modes (src/cxloop/insight/text/data).

Training data: the UCI "Sentiment Labelled Sentences" files (CC BY 4.0) from the shared
data directory. The Japanese hotel set is CC BY-NC-SA and is never used here.

    .venv/bin/python scripts/train_sentiment.py [--data ../shared/data/sentiment]

Both modes read multilingual-e5-small vectors (see cxloop.insight.text.model): accurate after
8 layers with an early exit before the first (its own head on the mean word embedding),
precise after 12. The exit confidence is the lowest of CONFIDENCES at which, in 5-fold
cross-validation on the training files, the cascade stays within TOLERANCE of the 8-layer
head's accuracy; it is chosen inside every leave-one-file-out round too, so the held-out
file never influences it.

First the encoder's 8-bit activation ranges are measured on the same UCI sentences plus the
demo company's hand-written Japanese and English feedback lines (src/cxloop/demo), and
written to data/e5_ranges.npz: the heads are trained on what the 8-bit encoder produces.
Prints leave-one-file-out accuracy (the honest English estimate),
the confidence chosen and the share of sentences that exit early, then fits on all files
and writes both heads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from cxloop.demo.feedback_texts import EN as DEMO_EN
from cxloop.demo.feedback_texts import JA as DEMO_JA
from cxloop.insight.text.e5_encoder import RANGES_RESOURCE, calibrate, forget_segments, shared_model
from cxloop.insight.text.model import (
    RESOURCES,
    E5Sentiment,
    LinearHead,
    features,
    vectors_at,
)
from cxloop.insight.text.sentiment_en import score_sentence

FILES = ("en_amazon_cells_labelled.txt", "en_yelp_labelled.txt", "en_imdb_labelled.txt")
C = 1.0
SHAPES = {"accurate": (8, 0), "precise": (12, None)}  # depth, early-exit depth
CONFIDENCES = (0.95, 0.9, 0.85, 0.8, 0.75)
TOLERANCE = 0.005


def load_uci(path: Path) -> tuple[list[str], np.ndarray]:
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        text, _, label = line.rpartition("\t")
        if label.strip() in {"0", "1"} and text.strip():
            texts.append(text.strip())
            labels.append(int(label))
    return texts, np.array(labels)


def fit(x: np.ndarray, y: np.ndarray) -> LinearHead:
    model = LogisticRegression(C=C, max_iter=5000).fit(x, y)
    return LinearHead(model.coef_[0].astype(np.float32), float(model.intercept_[0]))


def choose_confidence(exit_x: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """The lowest exit confidence that keeps cross-validated accuracy within TOLERANCE."""
    early, full = np.zeros(len(y)), np.zeros(len(y))
    for train_rows, test_rows in StratifiedKFold(5, shuffle=True, random_state=0).split(x, y):
        early[test_rows] = fit(exit_x[train_rows], y[train_rows]).probability(exit_x[test_rows])
        full[test_rows] = fit(x[train_rows], y[train_rows]).probability(x[test_rows])
    target = ((full >= 0.5) == y).mean() - TOLERANCE
    chosen = 1.0
    for confidence in sorted(CONFIDENCES, reverse=True):
        sure = np.maximum(early, 1.0 - early) >= confidence
        if ((np.where(sure, early, full) >= 0.5) == y).mean() < target:
            break
        chosen = confidence
    return chosen


def train(mode: str, x: dict[str, dict[int, np.ndarray]], y: dict, names: list[str]) -> E5Sentiment:
    """The mode's heads (and exit confidence) fitted on the files ``names``."""
    depth, exit_depth = SHAPES[mode]
    labels = np.concatenate([y[n] for n in names])
    final = np.vstack([x[n][depth] for n in names])
    if exit_depth is None:
        return E5Sentiment(depth=depth, head=fit(final, labels))
    early = np.vstack([x[n][exit_depth] for n in names])
    return E5Sentiment(
        depth=depth,
        head=fit(final, labels),
        exit_head=fit(early, labels),
        exit_depth=exit_depth,
        exit_confidence=choose_confidence(early, final, labels),
    )


def predict(model: E5Sentiment, x: dict[int, np.ndarray]) -> tuple[np.ndarray, float]:
    """P(positive) from precomputed vectors, as ``E5Sentiment.scores`` decides; exit share."""
    p = model.head.probability(x[model.depth])
    if not model.exit_head:
        return p, 0.0
    early = model.exit_head.probability(x[model.exit_depth])
    sure = np.maximum(early, 1.0 - early) >= model.exit_confidence
    return np.where(sure, early, p), float(sure.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--data", type=Path, default=root.parent / "shared/data/sentiment")
    args = parser.parse_args()
    data = {name: load_uci(args.data / name) for name in FILES}
    demo = [line for lines in (*DEMO_JA.values(), *DEMO_EN.values()) for line in lines]
    ranges = calibrate(shared_model(), [t for texts, _ in data.values() for t in texts] + demo)
    out = root / "src/cxloop/insight/text" / RANGES_RESOURCE
    np.savez_compressed(out, ranges=ranges, calibrated_on=np.array([*FILES, "demo feedback"]))
    forget_segments()
    sys.stdout.write(f"wrote {out}\n")
    x: dict[str, dict[int, np.ndarray]] = {}
    y: dict[str, np.ndarray] = {}
    for name in FILES:
        texts, labels = data[name]
        lex = np.array([score_sentence(t) for t in texts])
        x[name] = {d: features(v, lex) for d, v in vectors_at(texts).items()}
        y[name] = labels
    for mode in SHAPES:
        for held in FILES:
            model = train(mode, x, y, [f for f in FILES if f != held])
            p, exited = predict(model, x[held])
            accuracy = ((p >= 0.5) == y[held]).mean()
            sys.stdout.write(
                f"{mode} leave-one-out {held}: accuracy {accuracy:.3f}, exit confidence "
                f"{model.exit_confidence:.2f}, early exit {exited:.0%}\n"
            )
        out = root / "src/cxloop/insight/text" / RESOURCES[mode]
        train(mode, x, y, list(FILES)).save(out, trained_on=np.array(FILES), c=np.float32(C))
        sys.stdout.write(f"wrote {out}\n")


if __name__ == "__main__":
    main()
