"""Leave-one-file-out accuracy of extra classifier inputs for the accurate English mode.

    .venv/bin/python bench/text_en_features.py

Compares the shipped input (USE embedding + VADER/CX score + silent flag) with the same
plus lexicon components, negation and contrast flags and the score after "but", over a
grid of C, training on two UCI files and scoring the third. Kept because the answer was
negative: none of these beat the shipped input on imdb (see docs/benchmarks.md).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import re  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from text_data import UCI_FILES, load_uci  # noqa: E402

from cxloop.insight.text.model import default_embedder  # noqa: E402
from cxloop.insight.text.sentiment_en import _analyzer  # noqa: E402

_NEGATION = re.compile(r"\b(?:not|no|never|nothing|neither|nor|none|cannot|hardly|without)\b|n't")
_CONTRAST = re.compile(r"\b(?:but|however|although|though|yet|except)\b", re.I)


def _lexical(text: str) -> list[float]:
    vader = _analyzer()
    s = vader.polarity_scores(text)
    m = _CONTRAST.search(text)
    after = vader.polarity_scores(text[m.end() :])["compound"] if m else s["compound"]
    return [
        s["compound"],
        float(s["compound"] == 0),
        s["pos"],
        s["neg"],
        float(bool(_NEGATION.search(text.lower()))),
        float(bool(m)),
        after,
        float("!" in text),
    ]


def main() -> None:
    embed = default_embedder()
    data = {name: load_uci(name) for name in UCI_FILES}
    emb = {n: embed(texts) for n, (texts, _) in data.items()}
    lex = {n: np.array([_lexical(t) for t in texts]) for n, (texts, _) in data.items()}
    y = {n: np.array(labels) for n, (_, labels) in data.items()}
    inputs = {
        "shipped (emb + score + silent)": lambda n: np.hstack([emb[n], lex[n][:, :2]]),
        "+ pos/neg, negation, contrast, after-but, !": lambda n: np.hstack([emb[n], lex[n]]),
    }
    print("| input | C | " + " | ".join(f"`{n}`" for n in UCI_FILES) + " |")
    print("|---|---|" + "---|" * len(UCI_FILES))
    for label, x in inputs.items():
        for c in (0.3, 1.0, 3.0, 10.0):
            cells = []
            for held in UCI_FILES:
                train = [n for n in UCI_FILES if n != held]
                clf = LogisticRegression(C=c, max_iter=5000).fit(
                    np.vstack([x(n) for n in train]), np.concatenate([y[n] for n in train])
                )
                cells.append(f"{(clf.predict(x(held)) == y[held]).mean():.3f}")
            print(f"| {label} | {c} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
