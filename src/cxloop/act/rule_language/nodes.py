"""Syntax tree of a rule condition. Every node keeps its source offset for error messages."""

from __future__ import annotations

from dataclasses import dataclass

Scalar = int | float | str


@dataclass(frozen=True, slots=True)
class Field:
    path: tuple[str, ...]  # ("nps",) or ("segment", "tier")
    offset: int

    @property
    def key(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    offset: int

    @property
    def key(self) -> str:
        return f"metric:{self.name}"


Operand = Field | Metric


@dataclass(frozen=True, slots=True)
class Compare:
    """``operand op value``; op is one of = != < <= > >= in not_in contains contains_any."""

    operand: Operand
    op: str
    value: Scalar | tuple[Scalar, ...]
    offset: int


@dataclass(frozen=True, slots=True)
class IsNull:
    operand: Operand
    negated: bool  # True for ``is not null``


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


Node = Compare | IsNull | And | Or | Not
