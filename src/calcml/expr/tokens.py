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
from typing import NamedTuple

from ..errors import LimitError, ParseError


class Token(NamedTuple):
    """One token: its grammar terminal name, its text, and where it starts."""

    type: str
    value: str
    start_pos: int


MAX_LENGTH = 2000
MAX_NESTING = 100
# Powers of powers: SymPy's assumption queries on x^-x^-...^x grow much faster than the
# tower (33 levels take 5 s), and nobody means a tower of more than a dozen.
MAX_TOWER = 12

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
    r"|(?P<name>[A-Za-zΑ-Ωα-ω][A-Za-z0-9_Α-Ωα-ω]*)"
    r"|(?P<symbol>\*\*|[-+−*·×/÷^!()\[\],|√])"
    r"|(?P<superscript>[⁰¹²³⁴⁵⁶⁷⁸⁹]+)"
)
_OPERAND_END = frozenset({"NUMBER", "NAME", "RPAR", "RBAR", "BANG"})
_OPERAND_START = frozenset({"NUMBER", "NAME", "FUNC", "LPAR", "LBAR"})
_OPENERS = frozenset({"LPAR", "LBAR"})
_CLOSERS = frozenset({"RPAR", "RBAR"})
_SIGNS = frozenset({"PLUS", "MINUS"})
_LOOSER = frozenset({"PLUS", "MINUS", "STAR", "SLASH", "IMPLICIT", "COMMA"})


def _spelled(char: str) -> str:
    """θ -> theta, Θ -> Theta, λ -> lambda (Unicode spells it 'lamda')."""
    uname = unicodedata.name(char)
    word = uname.rsplit(" ", 1)[-1].lower().replace("lamda", "lambda")
    return word.capitalize() if "CAPITAL" in uname else word


# The plain Greek letters (no accents), which are all that names may contain.
_GREEK = {
    char: _spelled(char)
    for code in [*range(0x391, 0x3AA), *range(0x3B1, 0x3CA)]
    if (char := chr(code)).isalpha()
}


def _greek_name(name: str) -> str:
    """Spell Greek letters out: θ1 -> theta1, so that names are plain ASCII."""
    if name.isascii():
        return name
    return "".join(_GREEK.get(char, char) for char in name)


def _raw_tokens(text: str) -> Iterator[Token]:
    """Split text into tokens, without implicit multiplication or bar roles."""
    pos, n = 0, len(text)
    while pos < n:
        match = _SCANNER.match(text, pos)
        if match is None:
            raise ParseError(f"Unexpected character {text[pos]!r}", text, pos)
        kind, value = match.lastgroup, match.group()
        if kind == "number":
            yield Token("NUMBER", value, pos)
        elif kind == "name":
            if value in FUNCTIONS:
                yield Token("FUNC", value, pos)
            else:
                yield Token("NAME", "pi" if value == "π" else _greek_name(value), pos)
        elif kind == "symbol":
            yield Token(_SYMBOLS[value], "sqrt" if value == "√" else value, pos)
        elif kind == "superscript":
            yield Token("CARET", "^", pos)
            yield Token("NUMBER", "".join(_SUPERSCRIPTS[c] for c in value), pos)
        pos = match.end()


class _Nesting:
    """How deep the expression tree is at the current token, counted as we go.

    Brackets nest, and so do right-associative chains: in ``x^-x^-x`` every ``^`` and
    every prefix sign opens a level that only a looser operator (``+ - * /``) closes.
    Refusing deep input here, before SymPy sees it, matters: SymPy's assumption
    queries on a tower of 300 powers take longer than any time budget.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.opened: list[Token] = []  # "(" and "|" not closed yet, innermost last
        self.chains = [0]  # open right-associative levels, one count per bracket level
        self.depth = 0  # brackets + (chain + 1) for each open chain: x^x^x is 3 deep
        self.carets = [0]  # open "^" per bracket level; their sum is the tower's height

    def see(self, token: Token, previous: Token | None) -> None:
        kind = token.type
        chains = self.chains
        if kind in _OPENERS:
            self.opened.append(token)
            chains.append(0)
            self.carets.append(0)
            self.depth += 1
        elif kind in _CLOSERS:
            self._close(token)
        elif kind == "CARET" or (
            kind in _SIGNS and (previous is None or previous.type not in _OPERAND_END)
        ):
            self.depth += 1 if chains[-1] else 2
            chains[-1] += 1
            if kind == "CARET":
                self.carets[-1] += 1
                if sum(self.carets) > MAX_TOWER:
                    raise LimitError(
                        f"a tower of more than {MAX_TOWER} powers (x^x^...^x) is beyond the limit",
                        token.start_pos,
                    )
        elif kind in _LOOSER and chains[-1]:
            self.depth -= chains[-1] + 1
            chains[-1] = 0
            self.carets[-1] = 0
        if self.depth > MAX_NESTING:
            raise LimitError(
                f"the expression is nested more than {MAX_NESTING} deep", token.start_pos
            )

    def _close(self, token: Token) -> None:
        want = "LPAR" if token.type == "RPAR" else "LBAR"
        if not self.opened or self.opened[-1].type != want:
            what = "an open '|'" if self.opened else "a matching '('"
            raise ParseError(f"')' without {what}", self.text, token.start_pos)
        self.opened.pop()
        self.carets.pop()
        chain = self.chains.pop()
        self.depth -= 1 + (chain + 1 if chain else 0)

    def finish(self) -> None:
        if self.opened:
            last = self.opened[-1]
            what = (
                "'(' is never closed: a ')' is missing"
                if last.type == "LPAR"
                else "'|' is never closed: a second '|' is missing"
            )
            raise ParseError(f"This {what}", self.text, last.start_pos)


class _FunctionPower:
    """Tracks ``sin^2(x)``: the "(" after a function's exponent opens its argument,
    so no implicit multiplication goes before it (in ``sin^2 (x+1)`` too)."""

    def __init__(self) -> None:
        self.state = ""  # "", "start" (after FUNC ^), "group" (in ^(...)), "done"
        self.depth = 0

    def argument_follows(self, token: Token, previous: Token | None, depth: int) -> bool:
        """Whether ``token`` is the "(" of the argument; updates the state."""
        state, kind = self.state, token.type
        if state == "start":
            if kind == "NUMBER":
                self.state = "done"
            elif kind == "LPAR":
                self.state, self.depth = "group", depth
            elif kind != "MINUS":
                self.state = ""
        elif state == "group" and kind == "RPAR" and depth == self.depth + 1:
            self.state = "done"
        elif state == "done":
            self.state = ""
            return kind == "LPAR"
        if kind == "CARET" and previous is not None and previous.type == "FUNC":
            self.state = "start"
        return False


def tokenize(text: str) -> list[Token]:
    """Tokens of ``text`` ready for the grammar, or a ``ParseError``/``LimitError``."""
    if len(text) > MAX_LENGTH:
        raise LimitError(
            f"the expression is {len(text):,} characters long; the limit is {MAX_LENGTH:,}"
        )
    tokens: list[Token] = []
    nesting = _Nesting(text)
    function_power = _FunctionPower()
    previous: Token | None = None
    for token in _raw_tokens(text):
        if token.type == "BAR":
            token = _bar_role(token, nesting.opened, previous)
        argument = function_power.argument_follows(token, previous, len(nesting.opened))
        if (
            not argument
            and previous is not None
            and previous.type in _OPERAND_END
            and token.type in _OPERAND_START
        ):
            if previous.type == "NUMBER" and token.type == "NUMBER":
                raise ParseError(
                    "Two numbers in a row; write * between them to multiply",
                    text,
                    token.start_pos,
                )
            implicit = Token("IMPLICIT", "", token.start_pos)
            nesting.see(implicit, previous)
            tokens.append(implicit)
        nesting.see(token, previous)
        tokens.append(token)
        previous = token
    nesting.finish()
    return tokens


def _bar_role(token: Token, opened: list[Token], previous: Token | None) -> Token:
    """A "|" closes the innermost open bar right after an operand; else it opens one."""
    closes = (
        bool(opened)
        and opened[-1].type == "LBAR"
        and previous is not None
        and previous.type in _OPERAND_END
    )
    return Token("RBAR" if closes else "LBAR", "|", token.start_pos)
