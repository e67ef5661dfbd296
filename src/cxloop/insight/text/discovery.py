"""Theme discovery: cluster texts that no taxonomy theme explains and label the clusters."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.metrics import silhouette_score

from cxloop.insight.text._tokens import tokenize_ja
from cxloop.insight.text.analyzer import Analysis
from cxloop.insight.text.language import _HAN, _KANA

_CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞"})
_JA_STOP = frozenset(
    {
        "為る",
        "居る",
        "有る",
        "成る",
        "事",
        "物",
        "所",
        "様",
        "無い",
        "良い",
        "思う",
        "此の",
        "其の",
        "言う",
        "時",
        "方",
        "今回",
        "又",
        "出来る",
    }
)
_EN_WORD = re.compile(r"[a-z][a-z'\-]+")
# KMeans on all points is exact and fast enough below this; above it, mini-batches.
_MINIBATCH_FROM = 5_000
_SILHOUETTE_SAMPLE = 2_000


@dataclass(frozen=True)
class DiscoveredTheme:
    terms: list[str]  # most distinctive terms, best first: the cluster's label
    size: int
    members: list[int]  # indices into the input texts
    examples: list[int]  # members closest to the cluster centre, best first

    @property
    def label(self) -> str:
        return " / ".join(self.terms[:3])


def tokenize_mixed(text: str) -> list[str]:
    """Content-word lemmas for Japanese (via fugashi) plus lower-cased English words."""
    out: list[str] = []
    if _KANA.search(text) or _HAN.search(text):
        for tok in tokenize_ja(text):
            if tok.pos1 in _CONTENT_POS and tok.pos2 != "数詞" and tok.pos2 != "非自立可能":
                lemma = tok.lemma.split("-")[0]  # drop UniDic's gloss: サービス-service
                if tok.lemma not in _JA_STOP and not _EN_WORD.fullmatch(lemma.lower()):
                    out.append(lemma)
    for word in _EN_WORD.findall(text.lower()):
        word = word.strip("'-")
        if len(word) > 2 and word not in ENGLISH_STOP_WORDS:
            out.append(word)
    return out


def _choose_k(x: sparse.csr_matrix, candidates: range, seed: int) -> tuple[int, np.ndarray]:
    """The k with the best cosine silhouette; ties go to the smaller k."""
    best: tuple[float, int, np.ndarray] | None = None
    n = x.shape[0]
    for k in candidates:
        labels = _cluster(x, k, seed)
        if len(set(labels.tolist())) < 2:
            continue
        score = silhouette_score(
            x, labels, metric="cosine", sample_size=min(n, _SILHOUETTE_SAMPLE), random_state=seed
        )
        if best is None or score > best[0] + 1e-9:
            best = (float(score), k, labels)
    if best is None:
        return 1, np.zeros(n, dtype=int)
    return best[1], best[2]


def _cluster(x: sparse.csr_matrix, k: int, seed: int) -> np.ndarray:
    if x.shape[0] >= _MINIBATCH_FROM:
        model: KMeans | MiniBatchKMeans = MiniBatchKMeans(
            n_clusters=k, random_state=seed, n_init=3, batch_size=1024
        )
    else:
        model = KMeans(n_clusters=k, random_state=seed, n_init=5)
    return np.asarray(model.fit_predict(x))


def discover_themes(
    texts: Sequence[str],
    *,
    k: int | None = None,
    max_k: int = 12,
    n_terms: int = 5,
    n_examples: int = 3,
    seed: int = 0,
) -> list[DiscoveredTheme]:
    """Cluster ``texts`` (TF-IDF over mixed Japanese/English tokens), largest cluster first.

    With ``k=None`` the number of clusters is chosen by silhouette between 2 and ``max_k``
    (at most one cluster per three texts, so every cluster can have a few examples).
    """
    if not texts:
        return []
    vectorizer = TfidfVectorizer(
        tokenizer=tokenize_mixed,
        lowercase=False,
        token_pattern=None,
        min_df=2 if len(texts) >= 20 else 1,
        sublinear_tf=True,
    )
    try:
        x = vectorizer.fit_transform(texts).tocsr()
    except ValueError:  # no token at all survived (e.g. only numbers or stop words)
        return []
    vocab = np.array(vectorizer.get_feature_names_out())
    upper = min(max_k, len(texts) // 3)
    if k is not None:
        labels = _cluster(x, min(k, len(texts)), seed) if k > 1 else np.zeros(len(texts), int)
    elif upper >= 2:
        _, labels = _choose_k(x, range(2, upper + 1), seed)
    else:
        labels = np.zeros(len(texts), dtype=int)
    return _describe(x, labels, vocab, n_terms, n_examples)


def discover_unexplained(
    texts: Sequence[str], analyses: Sequence[Analysis], **options: Any
) -> list[DiscoveredTheme]:
    """Cluster only the texts for which the analyzer found no theme.

    Member and example indices refer to ``texts``, so callers can quote them directly.
    ``options`` are those of :func:`discover_themes`.
    """
    if len(texts) != len(analyses):
        raise ValueError("texts and analyses must have the same length")
    keep = [i for i, a in enumerate(analyses) if not a.themes and texts[i].strip()]
    found = discover_themes([texts[i] for i in keep], **options)
    return [
        replace(t, members=[keep[i] for i in t.members], examples=[keep[i] for i in t.examples])
        for t in found
    ]


def _describe(
    x: sparse.csr_matrix, labels: np.ndarray, vocab: np.ndarray, n_terms: int, n_examples: int
) -> list[DiscoveredTheme]:
    overall = np.asarray(x.mean(axis=0)).ravel()
    themes = []
    for cluster in np.unique(labels):
        members = np.flatnonzero(labels == cluster)
        centre = np.asarray(x[members].mean(axis=0)).ravel()
        # Distinctive = frequent here and rarer elsewhere, not merely frequent.
        distinct = centre - overall
        order = [int(i) for i in np.argsort(-distinct, kind="stable") if centre[i] > 0]
        closeness = np.asarray(x[members] @ centre).ravel()
        ranked = members[np.argsort(-closeness, kind="stable")]
        themes.append(
            DiscoveredTheme(
                terms=[str(vocab[i]) for i in order[:n_terms]],
                size=int(len(members)),
                members=[int(i) for i in members],
                examples=[int(i) for i in ranked[:n_examples]],
            )
        )
    themes.sort(key=lambda t: (-t.size, t.members[0]))
    return themes
