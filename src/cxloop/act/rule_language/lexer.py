"""Split rule text into tokens, keeping each token's offset for error messages."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from cxloop.act.rule_language.errors import RuleSyntaxError


class Tok(Enum):
    IDENT = "identifier"
    NUMBER = "number"
    STRING = "string"
    OP = "operator"
    LPAREN = "'('"
    RPAREN = "')'"
    COMMA = "','"
    DOT = "'.'"
    EOF = "end of rule"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Tok
    text: str
    value: object
    offset: int

    def describe(self) -> str:
        if self.kind is Tok.EOF:
            return "end of rule"
        return repr(self.text)


_OPERATORS = ("<=", ">=", "!=", "<>", "==", "=", "<", ">")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}
_SINGLE = {"(": Tok.LPAREN, ")": Tok.RPAREN, ",": Tok.COMMA, ".": Tok.DOT}


def tokenize(source: str) -> list[Token]:
    """Return the tokens of ``source`` ending with an EOF token."""
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
        elif ch == "#":  # comment to end of line
            while i < n and source[i] != "\n":
                i += 1
        elif ch in _SINGLE:
            tokens.append(Token(_SINGLE[ch], ch, None, i))
            i += 1
        elif ch in "\"'":
            i = _string(source, i, tokens)
        elif ch.isdigit() or (ch == "-" and i + 1 < n and source[i + 1].isdigit()):
            i = _number(source, i, tokens)
        elif ch.isalpha() or ch == "_":
            start = i
            while i < n and (source[i].isalnum() or source[i] == "_"):
                i += 1
            tokens.append(Token(Tok.IDENT, source[start:i], None, start))
        else:
            op = next((o for o in _OPERATORS if source.startswith(o, i)), None)
            if op is None:
                raise RuleSyntaxError(f"unexpected character {ch!r}", source=source, offset=i)
            canonical = {"==": "=", "<>": "!="}.get(op, op)
            tokens.append(Token(Tok.OP, op, canonical, i))
            i += len(op)
    tokens.append(Token(Tok.EOF, "", None, n))
    return tokens


def _string(source: str, start: int, tokens: list[Token]) -> int:
    quote, i, n = source[start], start + 1, len(source)
    out: list[str] = []
    while i < n:
        ch = source[i]
        if ch == quote:
            tokens.append(Token(Tok.STRING, source[start : i + 1], "".join(out), start))
            return i + 1
        if ch == "\\":
            if i + 1 >= n:
                break
            esc = source[i + 1]
            if esc == "u":
                digits = source[i + 2 : i + 6]
                if len(digits) != 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
                    raise RuleSyntaxError(
                        "expected four hex digits after '\\u'", source=source, offset=i
                    )
                out.append(chr(int(digits, 16)))
                i += 6
                continue
            if esc not in _ESCAPES:
                raise RuleSyntaxError(f"unknown escape '\\{esc}'", source=source, offset=i)
            out.append(_ESCAPES[esc])
            i += 2
            continue
        out.append(ch)
        i += 1
    raise RuleSyntaxError("unterminated string", source=source, offset=start)


def _number(source: str, start: int, tokens: list[Token]) -> int:
    i, n = start + 1, len(source)
    seen_dot = False
    while i < n and (source[i].isdigit() or (source[i] == "." and not seen_dot)):
        if source[i] == ".":
            if i + 1 >= n or not source[i + 1].isdigit():
                break
            seen_dot = True
        i += 1
    text = source[start:i]
    if i < n and (source[i].isalpha() or source[i] == "_"):
        raise RuleSyntaxError(f"malformed number {text + source[i]!r}", source=source, offset=start)
    value: float | int = float(text) if seen_dot else int(text)
    tokens.append(Token(Tok.NUMBER, text, value, start))
    return i
