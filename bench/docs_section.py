"""Replace one ``## Heading`` section of docs/benchmarks.md with a bench's new results."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_section(heading: str, section: str, doc_path: Path = DOC) -> None:
    """Swap the section starting at ``heading`` for ``section`` (append it if missing)."""
    doc = doc_path.read_text(encoding="utf-8") if doc_path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(doc):
        # A blank line before the next section's heading.
        doc = pattern.sub(lambda _: section.rstrip("\n") + "\n\n", doc)
    else:
        doc = doc.rstrip("\n") + "\n\n" + section
    doc_path.write_text(doc, encoding="utf-8")
