"""The tokenizer of the calcml language.

It turns text into lark tokens and settles what a context-free grammar cannot:

* implicit multiplication: an ``IMPLICIT`` token is inserted wherever an operand ends
  and another begins (``2x``, ``x y``, ``(x+1)(x-1)``, ``2|x|``, ``x sin(x)``);
* absolute value bars: a ``|`` closes a bar only if one is open and an operand has just
  ended, otherwise it opens one, so ``|x|y|z|`` is ``|x|*y*|z|`` and ``|x - |y||``
  nests;
* spellings people paste: ``**`` for ``^``, ``·`` and ``×`` for ``*``, ``−`` for ``-``,
  superscript digits (``x²``), Greek letters (``θ`` is the name ``theta``).

It also enforces the size limits before any parsing work is done.

>>> [t.type for t in tokenize("2x")]
['NUMBER', 'IMPLICIT', 'NAME']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from lark import Token

from ..errors import LimitError, ParseError

MAX_LENGTH = 2000
MAX_NESTING = 100

# Names of the functions the language knows; anything else followed by "(" is a
# product, as in x(y + 1).
FUNCTIONS = frozenset(
    [
        "sin",
        "cos",
        "tan",
        "sec",
        "csc",
        "cot",
        "asin",
        "acos",
        "atan",
        "arcsin",
        "arccos",
        "arctan",
        "sinh",
        "cosh",
        "tanh",
        "exp",
        "log",
        "ln",
        "sqrt",
        "abs",
        "factorial",
    ]
)

_SUPERSCRIPTS = {
    "⁰": "0",
    "¹": "1",
    "²": "2",
    "³": "3",
    "⁴": "4",
    "⁵": "5",
    "⁶": "6",
    "⁷": "7",
    "⁸": "8",
    "⁹": "9",
}
_SYMBOLS = {
    "+": "PLUS",
    "-": "MINUS",
    "−": "MINUS",
    "*": "STAR",
    "·": "STAR",
    "×": "STAR",
    "/": "SLASH",
    "÷": "SLASH",
    "^": "CARET",
    "**": "CARET",
    "!": "BANG",
    "(": "LPAR",
    ")": "RPAR",
    "[": "LPAR",
    "]": "RPAR",
    ",": "COMMA",
    "|": "BAR",
    "√": "FUNC",
}
# One scanner for every token; the first alternative that matches wins. Names are a
# Latin or Greek letter, then letters, digits and underscores (x, x1, x_1, θ2).
_SCANNER = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z\u0370-\u03ff][A-Za-z0-9_\u0370-\u03ff]*)"
    r"|(?P<symbol>\*\*|[-+−*·×/÷^!()\[\],|√])"
    r"|(?P<superscript>[⁰¹²³⁴⁵⁶⁷⁸⁹]+)"
)
_OPERAND_END = frozenset({"NUMBER", "NAME", "RPAR", "RBAR", "BANG"})
_OPERAND_START = frozenset({"NUMBER", "NAME", "FUNC", "LPAR", "LBAR"})


def _greek_name(name: str) -> str:
    """Spell Greek letters out: θ1 -> theta1, so that names are plain ASCII."""
    if name.isascii():
        return name
    parts = []
    for char in name:
        if char.isascii():
            parts.append(char)
            continue
        uname = unicodedata.name(char, "")
        if uname.startswith(("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")):
            word = uname.rsplit(" ", 1)[-1].lower()
            parts.append(word.capitalize() if "CAPITAL" in uname else word)
        else:
            parts.append(char)
    return "".join(parts)


def _raw_tokens(text: str) -> Iterator[Token]:
    """Split text into tokens, without implicit multiplication or bar roles."""
    new = Token.__new__  # the plain constructor; lark's keyword shim costs a third more
    pos, n = 0, len(text)
    while pos < n:
        match = _SCANNER.match(text, pos)
        if match is None:
            raise ParseError(f"Unexpected character {text[pos]!r}", text, pos)
        kind, value = match.lastgroup, match.group()
        if kind == "number":
            yield new(Token, "NUMBER", value, pos)
        elif kind == "name":
            if value in FUNCTIONS:
                yield new(Token, "FUNC", value, pos)
            else:
                yield new(Token, "NAME", "pi" if value == "π" else _greek_name(value), pos)
        elif kind == "symbol":
            yield new(Token, _SYMBOLS[value], "sqrt" if value == "√" else value, pos)
        elif kind == "superscript":
            yield new(Token, "CARET", "^", pos)
            yield new(Token, "NUMBER", "".join(_SUPERSCRIPTS[c] for c in value), pos)
        pos = match.end()


def tokenize(text: str) -> list[Token]:
    """Tokens of ``text`` ready for the grammar, or a ``ParseError``/``LimitError``."""
    if len(text) > MAX_LENGTH:
        raise LimitError(
            f"the expression is {len(text):,} characters long; the limit is {MAX_LENGTH:,}"
        )
    tokens: list[Token] = []
    opened: list[Token] = []  # "(" and "|" not closed yet, innermost last
    previous: Token | None = None
    # In sin^2(x) the "(" after the exponent opens the argument: no implicit product.
    # States: "" (none), "start" (after FUNC ^), "group" (inside ^(...)), "done".
    fpower, fpower_depth = "", 0
    for token in _raw_tokens(text):
        if token.type == "BAR":
            closes = (
                bool(opened)
                and opened[-1].type == "LBAR"
                and (previous is not None and previous.type in _OPERAND_END)
            )
            token = Token("RBAR" if closes else "LBAR", "|", start_pos=token.start_pos)
        if fpower == "start" and token.type == "NUMBER":
            fpower = "done"
        elif fpower == "start" and token.type == "LPAR":
            fpower, fpower_depth = "group", len(opened)
        elif fpower == "done":
            fpower = "argument" if token.type == "LPAR" else ""
        elif fpower == "start" and token.type != "MINUS":
            fpower = ""
        if token.type == "CARET" and previous is not None and previous.type == "FUNC":
            fpower = "start"
        if fpower == "argument":
            fpower = ""
        elif (
            previous is not None and previous.type in _OPERAND_END and token.type in _OPERAND_START
        ):
            if previous.type == "NUMBER" and token.type == "NUMBER":
                raise ParseError(
                    "Two numbers in a row; write * between them to multiply",
                    text,
                    token.start_pos,
                )
            tokens.append(Token("IMPLICIT", "", start_pos=token.start_pos))
        if token.type in ("LPAR", "LBAR"):
            opened.append(token)
            if len(opened) > MAX_NESTING:
                raise LimitError(
                    f"brackets are nested more than {MAX_NESTING} deep", token.start_pos
                )
        elif token.type == "RPAR":
            if not opened or opened[-1].type != "LPAR":
                what = "an open '|'" if opened else "a matching '('"
                raise ParseError(f"')' without {what}", text, token.start_pos)
            opened.pop()
            if fpower == "group" and len(opened) == fpower_depth:
                fpower = "done"
        elif token.type == "RBAR":
            opened.pop()
        tokens.append(token)
        previous = token
    if opened:
        last = opened[-1]
        what = (
            "'(' is never closed: a ')' is missing"
            if last.type == "LPAR"
            else ("'|' is never closed: a second '|' is missing")
        )
        raise ParseError(f"This {what}", text, last.start_pos)
    return tokens
