"""Loaders for the shared labelled text sets used by bench/bench_text.py (read in place)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
UCI_FILES = ("en_amazon_cells_labelled.txt", "en_yelp_labelled.txt", "en_imdb_labelled.txt")
JA_FILE = "ja_hotel_reviews_pn.tsv"
SEMEVAL_FILE = "en_restaurant_aspects_train.xml"


def load_uci(name: str, root: Path = DATA) -> tuple[list[str], list[int]]:
    texts, labels = [], []
    for line in (root / "sentiment" / name).read_text(encoding="utf-8").splitlines():
        text, _, label = line.rpartition("\t")
        if label.strip() in {"0", "1"} and text.strip():
            texts.append(text.strip())
            labels.append(int(label))
    return texts, labels


@dataclass(frozen=True)
class JaRow:
    label: int  # -1, 0, 1
    text: str
    split: str


def load_ja(root: Path = DATA) -> list[JaRow]:
    rows = []
    for line in (root / "sentiment" / JA_FILE).read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 5 and parts[1] in {"-1", "0", "1"}:
            rows.append(JaRow(int(parts[1]), parts[2], parts[4]))
    return rows


def load_semeval(root: Path = DATA) -> list[tuple[str, set[str]]]:
    """(sentence, categories) for every sentence, including those with no opinion."""
    tree = ET.parse(root / "themes" / SEMEVAL_FILE)
    out = []
    for sentence in tree.iter("sentence"):
        text = sentence.findtext("text") or ""
        cats = {o.get("category", "") for o in sentence.iter("Opinion")}
        out.append((text, cats))
    return out
