"""The theme taxonomy: admin-editable data, loaded from a dict or JSON and validated."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_LANG = re.compile(r"^[a-z]{2}$")
REQUIRED_NAME_LANGUAGES = ("en", "ja")


class TaxonomyError(ValueError):
    """Raised with every problem found, each naming the field at fault."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("invalid taxonomy:\n" + "\n".join(f"- {e}" for e in errors))


@dataclass(frozen=True)
class Theme:
    id: str
    name: dict[str, str]
    parent: str | None = None
    description: str = ""
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    phrases: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def display_name(self, language: str) -> str:
        return self.name.get(language) or self.name["en"]


@dataclass(frozen=True)
class Taxonomy:
    themes: tuple[Theme, ...]
    version: int = 1
    name: str = ""

    def get(self, theme_id: str) -> Theme:
        for theme in self.themes:
            if theme.id == theme_id:
                return theme
        raise KeyError(theme_id)

    def children(self, theme_id: str) -> list[Theme]:
        return [t for t in self.themes if t.parent == theme_id]

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form that :func:`load_taxonomy` reads back."""
        return {
            "version": self.version,
            "name": self.name,
            "themes": [
                {
                    "id": t.id,
                    "name": dict(t.name),
                    "parent": t.parent,
                    "description": t.description,
                    "terms": {k: list(v) for k, v in t.terms.items()},
                    "phrases": {k: list(v) for k, v in t.phrases.items()},
                }
                for t in self.themes
            ],
        }


def _check_word_lists(value: Any, where: str, errors: list[str]) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        errors.append(f"{where}: must be an object mapping a language code to a list of strings")
        return
    for lang, words in value.items():
        if not isinstance(lang, str) or not _LANG.match(lang):
            errors.append(f"{where}: language key {lang!r} must be a two-letter code like 'en'")
            continue
        if not isinstance(words, list):
            errors.append(f"{where}.{lang}: must be a list of strings")
            continue
        for i, word in enumerate(words):
            if not isinstance(word, str) or not word.strip():
                errors.append(f"{where}.{lang}[{i}]: must be a non-empty string")


def validate_taxonomy(data: Any) -> list[str]:
    """Return every problem in ``data`` as a message naming the field; empty when valid."""
    if not isinstance(data, Mapping):
        return ["taxonomy: must be a JSON object with a 'themes' list"]
    themes = data.get("themes")
    if not isinstance(themes, list) or not themes:
        return ["themes: must be a non-empty list"]
    errors: list[str] = []
    ids: dict[str, int] = {}
    for i, theme in enumerate(themes):
        where = f"themes[{i}]"
        if not isinstance(theme, Mapping):
            errors.append(f"{where}: must be an object")
            continue
        theme_id = theme.get("id")
        if not isinstance(theme_id, str) or not _ID.match(theme_id):
            errors.append(
                f"{where}.id: {theme_id!r} must be lower-case letters, digits and '_', "
                "starting with a letter"
            )
        elif theme_id in ids:
            errors.append(f"{where}.id: duplicate id {theme_id!r} (also themes[{ids[theme_id]}])")
        else:
            ids[theme_id] = i
        where = f"themes[{i}] ({theme_id})" if isinstance(theme_id, str) else where
        name = theme.get("name")
        if not isinstance(name, Mapping):
            errors.append(f"{where}.name: must be an object like {{'en': ..., 'ja': ...}}")
        else:
            for lang in REQUIRED_NAME_LANGUAGES:
                if not isinstance(name.get(lang), str) or not name[lang].strip():
                    errors.append(f"{where}.name.{lang}: missing or empty")
        _check_word_lists(theme.get("terms"), f"{where}.terms", errors)
        _check_word_lists(theme.get("phrases"), f"{where}.phrases", errors)
    errors.extend(_check_parents(themes, ids))
    return errors


def _check_parents(themes: list[Any], ids: dict[str, int]) -> list[str]:
    errors: list[str] = []
    parents: dict[str, str] = {}
    for i, theme in enumerate(themes):
        if not isinstance(theme, Mapping):
            continue
        parent = theme.get("parent")
        if parent is None:
            continue
        if not isinstance(parent, str) or parent not in ids:
            errors.append(f"themes[{i}] ({theme.get('id')}).parent: unknown theme id {parent!r}")
        elif isinstance(theme.get("id"), str):
            parents[theme["id"]] = parent
    for start in parents:
        seen = {start}
        node = parents.get(start)
        while node is not None:
            if node in seen:
                errors.append(f"themes[{ids[start]}] ({start}).parent: cycle through {node!r}")
                break
            seen.add(node)
            node = parents.get(node)
    return errors


def _words(value: Any) -> dict[str, tuple[str, ...]]:
    return {lang: tuple(w.strip() for w in words) for lang, words in (value or {}).items()}


def load_taxonomy(source: Mapping[str, Any] | str | Path) -> Taxonomy:
    """Build a taxonomy from a dict, a JSON string or a JSON file; raises TaxonomyError."""
    if isinstance(source, Path):
        source = source.read_text(encoding="utf-8")
    if isinstance(source, str):
        try:
            source = json.loads(source)
        except json.JSONDecodeError as exc:
            raise TaxonomyError([f"taxonomy: not valid JSON ({exc})"]) from exc
    errors = validate_taxonomy(source)
    if errors:
        raise TaxonomyError(errors)
    assert isinstance(source, Mapping)
    themes = tuple(
        Theme(
            id=t["id"],
            name=dict(t["name"]),
            parent=t.get("parent"),
            description=t.get("description") or "",
            terms=_words(t.get("terms")),
            phrases=_words(t.get("phrases")),
        )
        for t in source["themes"]
    )
    return Taxonomy(themes, int(source.get("version", 1)), str(source.get("name", "")))


@lru_cache(maxsize=1)
def default_taxonomy() -> Taxonomy:
    """The bundled bilingual CX taxonomy (``data/taxonomy_default.json``)."""
    raw = resources.files("cxloop.insight.text").joinpath("data/taxonomy_default.json")
    return load_taxonomy(raw.read_text(encoding="utf-8"))
