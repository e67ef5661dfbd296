"""Recursive-descent parser for rule conditions, with type checking against the field schema.

Grammar (keywords are case-insensitive)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" expr ")" | comparison
    comparison := operand ( CMP value | ["not"] "in" list | "contains" STRING
                          | "contains_any" list | "is" ["not"] "null" )
    operand    := "metric" "(" STRING ")" | IDENT ("." IDENT)*
    list       := "(" value ("," value)* [","] ")"
"""

from __future__ import annotations

import difflib

from cxloop.act.rule_language.errors import RuleSyntaxError
from cxloop.act.rule_language.fields import ENUMS, FIELDS, NESTED, FieldType, all_field_names
from cxloop.act.rule_language.lexer import Tok, Token, tokenize
from cxloop.act.rule_language.nodes import (
    And,
    Compare,
    Field,
    IsNull,
    Metric,
    Node,
    Not,
    Operand,
    Or,
    Scalar,
)

_KEYWORDS = frozenset({"and", "or", "not", "in", "contains", "contains_any", "is", "null"})
_ORDERING = frozenset({"<", "<=", ">", ">="})
# Keeps the recursive parser and the compiled closures far from Python's recursion limit.
_MAX_DEPTH = 64


def parse(source: str) -> Node:
    """Parse and type-check a condition; raise :class:`RuleSyntaxError` on any problem."""
    return _Parser(source).parse()


def operand_type(operand: Operand) -> FieldType:
    if isinstance(operand, Metric):
        return FieldType.NUMBER
    if operand.path[0] in NESTED:
        return FieldType.ANY
    return FIELDS[operand.path[0]][0]


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.tokens = tokenize(source)
        self.pos = 0
        self.depth = 0

    # -- token helpers -------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def _advance(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def _is_kw(self, word: str, tok: Token | None = None) -> bool:
        tok = tok or self.tok
        return tok.kind is Tok.IDENT and tok.text.lower() == word

    def _error(
        self, message: str, offset: int | None = None, hint: str | None = None
    ) -> RuleSyntaxError:
        return RuleSyntaxError(
            message,
            source=self.source,
            offset=self.tok.offset if offset is None else offset,
            hint=hint,
        )

    def _expect(self, kind: Tok, what: str) -> Token:
        if self.tok.kind is not kind:
            raise self._error(f"expected {what}, found {self.tok.describe()}")
        return self._advance()

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> Node:
        if self.tok.kind is Tok.EOF:
            raise self._error("the condition is empty")
        node = self._or()
        if self.tok.kind is not Tok.EOF:
            raise self._error(f"expected 'and', 'or' or end of rule, found {self.tok.describe()}")
        return node

    def _or(self) -> Node:
        items = [self._and()]
        while self._is_kw("or"):
            self._advance()
            items.append(self._and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def _and(self) -> Node:
        items = [self._not()]
        while self._is_kw("and"):
            self._advance()
            items.append(self._not())
        return items[0] if len(items) == 1 else And(tuple(items))

    def _not(self) -> Node:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self._error(f"the condition is nested more than {_MAX_DEPTH} levels deep")
        try:
            return self._not_inner()
        finally:
            self.depth -= 1

    def _not_inner(self) -> Node:
        if self._is_kw("not"):
            self._advance()
            return Not(self._not())
        if self.tok.kind is Tok.LPAREN:
            self._advance()
            node = self._or()
            self._expect(Tok.RPAREN, "')'")
            return node
        return self._comparison()

    def _comparison(self) -> Node:
        operand = self._operand()
        tok = self.tok
        if tok.kind is Tok.OP:
            self._advance()
            value = self._value(after=tok.text)
            return self._check(Compare(operand, str(tok.value), value, tok.offset))
        word = tok.text.lower() if tok.kind is Tok.IDENT else ""
        if word == "is":
            self._advance()
            negated = self._is_kw("not")
            if negated:
                self._advance()
            if not self._is_kw("null"):
                raise self._error(f"expected 'null' after 'is', found {self.tok.describe()}")
            self._advance()
            return IsNull(operand, negated)
        if word == "not" and self._is_kw("in", self.tokens[self.pos + 1]):
            self.pos += 2
            return self._check(Compare(operand, "not_in", self._list("not in"), tok.offset))
        if word in ("in", "contains_any"):
            self._advance()
            return self._check(Compare(operand, word, self._list(word), tok.offset))
        if word == "contains":
            self._advance()
            if self.tok.kind is Tok.LPAREN:
                raise self._error(
                    "'contains' takes one string; use 'contains_any (...)' for a list"
                )
            return self._check(Compare(operand, word, self._value(after=word), tok.offset))
        raise self._error(
            f"expected a comparison (= != < <= > >= in contains contains_any is) after "
            f"{_describe_operand(operand)!r}, found {tok.describe()}"
        )

    def _operand(self) -> Operand:
        tok = self.tok
        if tok.kind is not Tok.IDENT or tok.text.lower() in _KEYWORDS:
            raise self._error(f"expected a field name, found {tok.describe()}")
        self._advance()
        if tok.text == "metric" and self.tok.kind is Tok.LPAREN:
            self._advance()
            name = self._expect(Tok.STRING, "a quoted metric name")
            self._expect(Tok.RPAREN, "')'")
            return Metric(str(name.value), tok.offset)
        path = [tok.text]
        while self.tok.kind is Tok.DOT:
            self._advance()
            path.append(self._expect(Tok.IDENT, "a field name after '.'").text)
        return self._resolve(tuple(path), tok.offset)

    def _resolve(self, path: tuple[str, ...], offset: int) -> Field:
        head = path[0]
        if head in NESTED:
            if len(path) != 2:
                raise self._error(f"'{head}' needs exactly one key, e.g. '{head}.tier'", offset)
            return Field(path, offset)
        if head in FIELDS:
            if len(path) > 1:
                raise self._error(f"field '{head}' has no sub-fields", offset)
            return Field(path, offset)
        candidates = [*FIELDS, *NESTED, "metric"]
        close = difflib.get_close_matches(head, candidates, n=1)
        hint = (
            f"did you mean '{close[0]}'?"
            if close
            else f"known fields: {', '.join(all_field_names())}"
        )
        raise self._error(f"unknown field '{'.'.join(path)}'", offset, hint)

    def _value(self, *, after: str) -> Scalar:
        tok = self.tok
        if tok.kind not in (Tok.NUMBER, Tok.STRING):
            found = "" if tok.kind is Tok.EOF else f", found {tok.describe()}"
            hint = f'put text in quotes: "{tok.text}"' if tok.kind is Tok.IDENT else None
            raise self._error(f"expected a value after '{after}'{found}", hint=hint)
        self._advance()
        assert isinstance(tok.value, int | float | str)
        return tok.value

    def _list(self, after: str) -> tuple[Scalar, ...]:
        if self.tok.kind is not Tok.LPAREN:
            raise self._error(f'expected a parenthesised list after \'{after}\', e.g. ("a", "b")')
        self._advance()
        values = [self._value(after="(")]
        while self.tok.kind is Tok.COMMA:
            self._advance()
            if self.tok.kind is Tok.RPAREN:
                break
            values.append(self._value(after=","))
        self._expect(Tok.RPAREN, "',' or ')'")
        return tuple(values)

    # -- types ---------------------------------------------------------------------------
    def _check(self, node: Compare) -> Compare:
        ftype = operand_type(node.operand)
        name = _describe_operand(node.operand)
        values = node.value if isinstance(node.value, tuple) else (node.value,)
        kinds = {isinstance(v, str) for v in values}
        if len(kinds) > 1:
            raise self._error("a list must hold only numbers or only strings", node.offset)
        is_text = kinds.pop()
        op = node.op.replace("_", " ")
        if node.op in ("contains", "contains_any"):
            if ftype not in (FieldType.TEXT, FieldType.ANY):
                tip = (
                    " (use '=' or 'in' to test list membership)"
                    if ftype is FieldType.TEXT_LIST
                    else ""
                )
                raise self._error(
                    f"'{op}' needs a text field, but '{name}' is {_a(ftype)}{tip}", node.offset
                )
            if not is_text:
                raise self._error(f"'{op}' needs strings, not numbers", node.offset)
        elif node.op in _ORDERING:
            if ftype in (FieldType.TEXT, FieldType.TEXT_LIST) or is_text:
                raise self._error(
                    f"cannot use '{op}' with {'text' if is_text else _a(ftype)}"
                    f" ('{name}' {op} {_literal(values[0])}); '{op}' compares numbers only",
                    node.offset,
                )
        elif ftype is FieldType.NUMBER and is_text:
            raise self._error(
                f"'{name}' is a number; cannot compare it with text {_literal(values[0])}",
                node.offset,
            )
        elif ftype in (FieldType.TEXT, FieldType.TEXT_LIST) and not is_text:
            raise self._error(
                f"'{name}' is {_a(ftype)}; cannot compare it with the number {values[0]} "
                f'(quote it: "{values[0]}")',
                node.offset,
            )
        self._check_enum(node, values)
        return node

    def _check_enum(self, node: Compare, values: tuple[Scalar, ...]) -> None:
        if not isinstance(node.operand, Field) or node.op in ("contains", "contains_any"):
            return
        allowed = ENUMS.get(node.operand.key)
        if allowed is None:
            return
        for v in values:
            if v not in allowed:
                close = difflib.get_close_matches(str(v), allowed, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                raise self._error(
                    f"'{v}' is not a valid {node.operand.key}",
                    node.offset,
                    f"{hint}valid values: {', '.join(sorted(allowed))}",
                )


def _describe_operand(operand: Operand) -> str:
    return f'metric("{operand.name}")' if isinstance(operand, Metric) else operand.key


def _a(ftype: FieldType) -> str:
    return {"number": "a number", "text": "a text field", "list of text": "a list of text"}.get(
        ftype.value, "a free-form field"
    )


def _literal(value: Scalar) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)
