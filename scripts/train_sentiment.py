"""Train the accurate-mode sentiment classifier shipped in src/cxloop/insight/text/data.

Training data: the UCI "Sentiment Labelled Sentences" files (CC BY 4.0) from the shared
data directory. The Japanese hotel set is CC BY-NC-SA and is never used here.

    .venv/bin/python scripts/train_sentiment.py [--encoder use|e5] [--data ../shared/data/sentiment]

``use`` (multilingual USE) is the accurate mode's encoder, ``e5`` (multilingual-e5-small)
the precise mode's.

Prints leave-one-file-out accuracy (the honest English estimate), then fits on all files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from cxloop.insight.text.model import ENCODERS, features
from cxloop.insight.text.sentiment_en import score_sentence

FILES = ("en_amazon_cells_labelled.txt", "en_yelp_labelled.txt", "en_imdb_labelled.txt")
C = 1.0


def load_uci(path: Path) -> tuple[list[str], np.ndarray]:
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        text, _, label = line.rpartition("\t")
        if label.strip() in {"0", "1"} and text.strip():
            texts.append(text.strip())
            labels.append(int(label))
    return texts, np.array(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--data", type=Path, default=root.parent / "shared/data/sentiment")
    parser.add_argument("--encoder", choices=sorted(ENCODERS), default="use")
    args = parser.parse_args()
    make_embedder, resource = ENCODERS[args.encoder]
    embed = make_embedder()
    x, y = {}, {}
    for name in FILES:
        texts, labels = load_uci(args.data / name)
        lex = np.array([score_sentence(t) for t in texts])
        x[name], y[name] = features(embed(texts), lex), labels
    for held in FILES:
        train = [f for f in FILES if f != held]
        model = LogisticRegression(C=C, max_iter=5000)
        model.fit(np.vstack([x[f] for f in train]), np.concatenate([y[f] for f in train]))
        accuracy = (model.predict(x[held]) == y[held]).mean()
        sys.stdout.write(f"leave-one-out {held}: accuracy {accuracy:.3f}\n")
    model = LogisticRegression(C=C, max_iter=5000)
    model.fit(np.vstack(list(x.values())), np.concatenate(list(y.values())))
    out = root / "src/cxloop/insight/text" / resource
    np.savez_compressed(
        out,
        coef=model.coef_[0].astype(np.float32),
        intercept=np.float32(model.intercept_[0]),
        trained_on=np.array(FILES),
        encoder=np.array(args.encoder),
        c=np.float32(C),
    )
    sys.stdout.write(f"wrote {out}\n")


if __name__ == "__main__":
    main()
