"""``parse``: user text to a SymPy expression, through a real grammar.

The text is tokenized (:mod:`calcml.expr.tokens`), parsed by lark's LALR(1) parser with
the grammar in ``grammar.lark``, and each rule is turned into SymPy as it is reduced.
Nothing is ever passed to ``eval``, ``sympify`` or ``parse_expr``: a name can only ever
become a ``Symbol``, a number a SymPy number, and a call one of the functions in
``FUNCTION_TABLE``. Powers are checked before SymPy evaluates them, so ``9^9^9^9``
raises ``LimitError`` instead of eating the machine.

>>> parse("x^2 sin(x) + e^(-y)")
x**2*sin(x) + exp(-y)
"""

from __future__ import annotations

import math
import threading
from importlib import resources

import sympy
from lark import Lark
from lark.lexer import Lexer

from ..budget import budgeted
from ..errors import LimitError, ParseError
from .render import to_text
from .tokens import MAX_NESTING, Token, tokenize

MAX_EXPONENT = 1000  # largest |n| in base^n for a symbolic base: (x+1)^1000 is fine
MAX_DIGITS = 1000  # largest exact number a power may produce, in decimal digits
MAX_FACTORIAL = 1000
# Largest |log10| of any constant, typed (1e1000) or computed (2.0^3000, e^e^e^e^e):
# beyond it SymPy's printer (which sorts terms by value) and mpmath slow to a crawl.
MAX_DECIMAL_EXPONENT = 1000

# Each function of the language: SymPy constructor and the numbers of arguments it takes.
FUNCTION_TABLE: dict[str, tuple[object, tuple[int, ...]]] = {
    "sin": (sympy.sin, (1,)),
    "cos": (sympy.cos, (1,)),
    "tan": (sympy.tan, (1,)),
    "sec": (sympy.sec, (1,)),
    "csc": (sympy.csc, (1,)),
    "cot": (sympy.cot, (1,)),
    "asin": (sympy.asin, (1,)),
    "acos": (sympy.acos, (1,)),
    "atan": (sympy.atan, (1,)),
    "arcsin": (sympy.asin, (1,)),
    "arccos": (sympy.acos, (1,)),
    "arctan": (sympy.atan, (1,)),
    "sinh": (sympy.sinh, (1,)),
    "cosh": (sympy.cosh, (1,)),
    "tanh": (sympy.tanh, (1,)),
    "exp": (sympy.exp, (1,)),
    "ln": (sympy.log, (1,)),
    "log": (sympy.log, (1, 2)),
    "sqrt": (sympy.sqrt, (1,)),
    "abs": (sympy.Abs, (1,)),
    "factorial": (None, (1,)),
}
# sin^-1(x) is how many people write arcsin(x).
_INVERSES = {"sin": sympy.asin, "cos": sympy.acos, "tan": sympy.atan}
_CONSTANTS = {"e": sympy.E, "pi": sympy.pi}
# What SymPy gives for csc(0), log(0), ...: refused, since no real number is meant.
_UNDEFINED = (sympy.zoo, sympy.oo, -sympy.oo, sympy.nan)

_TERMINAL_NAMES = {
    "NUMBER": "a number",
    "NAME": "a name",
    "FUNC": "a function",
    "LPAR": "'('",
    "RPAR": "')'",
    "LBAR": "'|'",
    "RBAR": "a closing '|'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "CARET": "'^'",
    "COMMA": "','",
    "BANG": "'!'",
    "$END": "the end of the text",
}


class _TokenList(Lexer):
    """Hands the tokens made by :func:`tokenize` to lark."""

    def __init__(self, lexer_conf: object) -> None:
        pass

    def lex(self, data: list[Token], parser_state: object = None):  # type: ignore[override]
        raise NotImplementedError("calcml runs lark's parse table with its own driver")


class _Build:
    """Turns each grammar rule into SymPy as the parser reduces it.

    Each method is named after a rule (or its alias) in ``grammar.lark`` and receives
    the rule's children: tokens and the values already built for sub-rules. The text
    being parsed is kept per thread, for the positions in error messages.
    """

    _local = threading.local()

    @property
    def text(self) -> str:
        return self._local.text

    # -- atoms ------------------------------------------------------------------
    def number(self, c: list) -> sympy.Expr:
        literal = c[0].value
        exponent = literal.lower().partition("e")[2]
        if exponent and abs(int(exponent)) > MAX_DECIMAL_EXPONENT:
            # Float("1e1000000") would work out 10^1000000 exactly, in C, past any budget.
            raise LimitError(
                f"the number {literal} is beyond the limit of 1e\u00b1{MAX_DECIMAL_EXPONENT}",
                c[0].start_pos,
            )
        if "." in literal or exponent:
            # Double precision, whatever the number of digits (SymPy would size the
            # precision from the text: 1e300 would carry 1,003 bits).
            return sympy.Float(literal, 15)
        return sympy.Integer(literal)

    def name(self, c: list) -> sympy.Expr:
        return _CONSTANTS.get(c[0].value) or sympy.Symbol(c[0].value)

    def group(self, c: list) -> sympy.Expr:
        return c[1]

    def abs_bars(self, c: list) -> sympy.Expr:
        return _abs(c[1])

    def args(self, c: list) -> list:
        return [c[0]] if len(c) == 1 else [*c[0], c[2]]

    def fpower(self, c: list) -> sympy.Expr:
        if len(c) == 1:
            return self.number(c)
        if c[0].type == "MINUS":
            return -self.number(c[1:])
        return c[1]

    # -- operators ----------------------------------------------------------------
    def add(self, c: list) -> sympy.Expr:
        return c[0] + c[2]

    def sub(self, c: list) -> sympy.Expr:
        return c[0] - c[2]

    def mul(self, c: list) -> sympy.Expr:
        return c[0] * c[2]

    def div(self, c: list) -> sympy.Expr:
        if _is_number_zero(c[2]):
            raise ParseError("Division by zero", self.text, c[1].start_pos)
        return c[0] / c[2]

    def neg(self, c: list) -> sympy.Expr:
        return -c[1]

    def pos(self, c: list) -> sympy.Expr:
        return c[1]

    def pow(self, c: list) -> sympy.Expr:
        value = safe_power(c[0], c[2], self.text, c[1].start_pos)
        if c[0].is_number and c[2].is_number:
            return _real_constant(value, f"({c[0]})^({c[2]})", self.text, c[1].start_pos)
        return value

    def factorial(self, c: list) -> sympy.Expr:
        return _factorial(c[0], self.text, c[1].start_pos)

    # -- functions ------------------------------------------------------------------
    def call(self, c: list) -> sympy.Expr:
        return self._apply(c[0], c[2])

    def call_power(self, c: list) -> sympy.Expr:
        func, caret, power, args = c[0], c[1], c[2], c[4]
        if power == -1:
            if func.value in _INVERSES and len(args) == 1:
                value = _INVERSES[func.value](args[0])
                return self._checked(func, value, args, f"{func.value}^-1")
            raise ParseError(
                f"{func.value}^-1(...) is ambiguous; write 1/{func.value}(...) or the inverse "
                "function by name",
                self.text,
                caret.start_pos,
            )
        return safe_power(self._apply(func, args), power, self.text, caret.start_pos)

    def _apply(self, func: Token, args: list) -> sympy.Expr:
        constructor, arities = FUNCTION_TABLE[func.value]
        if len(args) not in arities:
            takes = " or ".join(str(a) for a in arities)
            plural = "" if arities == (1,) else "s"
            raise ParseError(
                f"{func.value} takes {takes} argument{plural}, not {len(args)}",
                self.text,
                func.start_pos,
            )
        if func.value == "abs":
            return _abs(args[0])
        if func.value == "factorial":
            return _factorial(args[0], self.text, func.start_pos)
        if func.value == "log" and len(args) == 2:
            return self._log_base(func, *args)
        if func.value in ("exp", "sinh", "cosh") and args[0].is_number:
            # e^a is 10^(a log10 e): refuse it before SymPy or mpmath try to evaluate it
            size = float(args[0].evalf(15)) * math.log10(math.e)
            _check_magnitude(size, f"{func.value}({to_text(args[0])})", func.start_pos)
        return self._checked(func, constructor(*args), args)  # type: ignore[operator]

    def _log_base(self, func: Token, value: sympy.Expr, base: sympy.Expr) -> sympy.Expr:
        """log(x, b) = ln(x)/ln(b), for a base b > 0 other than 1."""
        if base in (0, 1) or (base.is_number and base.is_positive is False):
            raise ParseError(
                "A logarithm's base must be positive and not 1", self.text, func.start_pos
            )
        return self._checked(func, sympy.log(value), [value]) / sympy.log(base)

    def _checked(self, func: Token, value: sympy.Expr, args: list, name: str = "") -> sympy.Expr:
        if all(a.is_number for a in args):
            shown = ", ".join(str(a) for a in args)
            where = f"{name or func.value}({shown})"
            return _real_constant(value, where, self.text, func.start_pos)
        return value


def _real_constant(value: sympy.Expr, shown: str, text: str, position: int) -> sympy.Expr:
    """``value``, unless it is a constant that is undefined or not real: calcml does real
    calculus, so csc(0), sqrt(-1) and asin(2) are mistakes, not complex numbers."""
    if value in _UNDEFINED:
        raise ParseError(f"{shown} is undefined", text, position)
    if value.is_extended_real is False:
        raise ParseError(f"{shown} is not a real number", text, position)
    return value


def _is_number_zero(value: sympy.Expr) -> bool:
    """0 or 0.0, decided without SymPy's assumption system (slow on big expressions);
    SymPy folds x - x to 0, so a symbolic zero denominator is caught too."""
    return bool(value.is_Number and not value)


def _abs(arg: sympy.Expr) -> sympy.Expr:
    """|arg| as typed. SymPy would turn |2^x| into 2^re(x), since its symbols may be
    complex; calcml's variables are real, so the bars are kept (numbers still fold)."""
    return sympy.Abs(arg, evaluate=not arg.free_symbols)


def _digits_of_power(base: sympy.Rational, exponent: sympy.Rational) -> float:
    """Decimal digits of the exact number base^exponent (an estimate, to decide early)."""
    size = max(abs(base.p), abs(base.q), 2)
    return abs(float(exponent)) * math.log10(size)


def safe_power(
    base: sympy.Expr, exponent: sympy.Expr, text: str = "", position: int | None = None
) -> sympy.Expr:
    """``base**exponent``, refusing powers that would explode (``LimitError``)."""
    if exponent.is_Rational and base.is_Rational:
        digits = _digits_of_power(base, exponent)
        if digits > MAX_DIGITS:
            raise LimitError(
                f"{base}^{_short(exponent)} would have about {digits:,.0f} digits; "
                f"the limit is {MAX_DIGITS:,}",
                position,
            )
    elif base.is_number and exponent.is_number:
        _check_magnitude(
            float(exponent.evalf(15)) * _log10_abs(base),
            f"{to_text(base)}^({to_text(exponent)})",
            position,
        )
    elif exponent.is_Number and not base.is_Number and abs(exponent) > MAX_EXPONENT:
        raise LimitError(
            f"the exponent {_short(exponent)} is beyond the limit of {MAX_EXPONENT} for a "
            "power of an expression; expanding it would not finish",
            position,
        )
    if _is_number_zero(base) and exponent.is_Number and exponent.is_negative:
        raise ParseError("0 to a negative power is a division by zero", text, position or 0)
    return sympy.Pow(base, exponent)


def _log10_abs(value: sympy.Expr) -> float:
    """log10 |value| of a constant (already known to be of sane size)."""
    number = complex(value.evalf(15))
    return math.log10(abs(number)) if number else -math.inf


def _check_magnitude(log10_size: float, shown: str, position: int | None) -> None:
    if math.isfinite(log10_size) and abs(log10_size) > MAX_DECIMAL_EXPONENT:
        raise LimitError(
            f"{shown} is about 10^{log10_size:,.0f}, beyond the limit of "
            f"10^\u00b1{MAX_DECIMAL_EXPONENT} for a constant",
            position,
        )


def _short(number: sympy.Expr) -> str:
    digits = str(number)
    return digits if len(digits) <= 20 else f"{digits[:8]}...({len(digits)} digits)"


def _factorial(value: sympy.Expr, text: str, position: int) -> sympy.Expr:
    if not (value.is_Integer and value >= 0):
        raise ParseError(
            "factorial is defined here for whole numbers 0, 1, 2, ... only", text, position
        )
    if value > MAX_FACTORIAL:
        raise LimitError(
            f"factorial({_short(value)}) is beyond the limit of factorial({MAX_FACTORIAL})",
            position,
        )
    return sympy.factorial(value)


_GRAMMAR = resources.files(__package__).joinpath("grammar.lark").read_text(encoding="utf-8")


class _Driver:
    """The LALR(1) automaton that lark builds from the grammar, run by a tight loop.

    lark compiles the grammar into its parse table (the hard, well-tested part). Its own
    driver loop looks each reduction's callback up by hashing a ``Rule`` object, which
    makes it several microseconds a token; this loop runs the same table with the
    callbacks resolved once, so a 100-character formula parses well under a
    millisecond.
    """

    def __init__(self, grammar: str) -> None:
        lark = Lark(grammar, parser="lalr", lexer=_TokenList, start="start")
        table = lark.parser.parser.parser.parse_table
        build = _Build()
        self.start = table.start_states["start"]
        self.end = table.end_states["start"]
        rules: dict[object, int] = {}
        self.reductions: list[tuple[int, str, object]] = []
        self._units: dict[tuple[int, int, str], int] = {}
        self.states: dict[int, dict[str, tuple[bool, object]]] = {}
        for state, actions in table.states.items():
            row = {}
            for key, (action, arg) in actions.items():
                symbol = str(key)  # plain str keys: lark's Token keys compare slowly
                if action.name == "Shift":
                    row[symbol] = (True, arg)
                    continue
                if arg not in rules:
                    rules[arg] = len(self.reductions)
                    self.reductions.append(self._reduction(arg, build))
                row[symbol] = (False, rules[arg])
            self.states[state] = row

    def _after_units(self, below: int, top: int, kind: str, origin: str) -> int:
        key = (below, top, kind)
        state = self._units.get(key)
        if state is None:
            state = self.states[below][origin][1]  # type: ignore[assignment]
            while True:
                action = self.states[state].get(kind)  # type: ignore[index]
                if action is None or action[0]:
                    break
                _, origin, method = self.reductions[action[1]]  # type: ignore[index]
                if method is not _first:
                    break
                state = self.states[below][origin][1]  # type: ignore[assignment]
            self._units[key] = state
        return state  # type: ignore[return-value]

    @staticmethod
    def _reduction(rule: object, build: _Build) -> tuple[int, str, object]:
        size = len(rule.expansion)  # type: ignore[attr-defined]
        name = rule.alias or rule.origin.name  # type: ignore[attr-defined]
        if rule.options.expand1 and size == 1 and not rule.alias:  # type: ignore[attr-defined]
            return size, str(rule.origin.name), _first  # type: ignore[attr-defined]
        method = getattr(build, name)
        return size, str(rule.origin.name), method  # type: ignore[attr-defined]

    def parse(self, tokens: list[Token], length: int) -> sympy.Expr:
        """Run the automaton over ``tokens`` (of a text ``length`` long)."""
        states, reductions, end_state = self.states, self.reductions, self.end
        stack = [self.start]
        values: list = []
        end = Token("$END", "", length)
        for token in [*tokens, end]:
            kind = token.type
            while True:
                action = states[stack[-1]].get(kind)
                if action is None:
                    expected = {s for s in states[stack[-1]] if s.isupper()}
                    raise _Unexpected(token, expected)
                shift, arg = action
                if shift:
                    stack.append(arg)  # type: ignore[arg-type]
                    values.append(token)
                    break
                size, origin, method = reductions[arg]  # type: ignore[index]
                if method is _first:
                    # Unit rules (atom -> postfix -> ... -> sum): the value stays, only the
                    # state changes. Most reductions are these; a run of them depends only
                    # on the two states on top and the lookahead, so it is memoised.
                    stack[-1] = self._after_units(stack[-2], stack[-1], kind, origin)
                else:
                    children = values[-size:]
                    del values[-size:]
                    del stack[-size:]
                    values.append(method(children))  # type: ignore[operator]
                    stack.append(states[stack[-1]][origin][1])  # type: ignore[arg-type]
                if token is end and stack[-1] == end_state:
                    return values[-1]
        raise AssertionError("the LALR table accepted no input")  # pragma: no cover


class _Unexpected(Exception):
    """The parser met ``token`` where only the terminals in ``expected`` could stand."""

    def __init__(self, token: Token, expected: set[str]) -> None:
        super().__init__(token.type)
        self.token = token
        self.expected = expected


def _first(children: list) -> object:
    return children[0]


_PARSER = _Driver(_GRAMMAR)


def _describe(token: Token, text: str) -> str:
    if token.type == "$END":
        return "the end of the text"
    if token.type == "IMPLICIT":
        # The parser met an implied multiplication where it cannot be; show what follows.
        nxt = text[token.start_pos :].split()[0] if text[token.start_pos :].strip() else ""
        return repr(nxt[:12])
    return repr(token.value)


def _expected(names: set[str]) -> str:
    if {"NUMBER", "NAME"} <= names:
        return "a number, a name, a function or '('"
    shown = sorted(_TERMINAL_NAMES.get(n, n) for n in names if n != "IMPLICIT")
    if not shown:
        return "something else"
    return ", ".join(shown[:-1]) + (" or " if len(shown) > 1 else "") + shown[-1]


def _syntax_error(err: _Unexpected, text: str) -> ParseError:
    token = err.token
    if "LPAR" in err.expected and err.expected <= {"LPAR", "CARET"}:
        # Only "(" could follow: a function name without its brackets (sin x).
        message = "A function name must be followed by its argument in brackets, as in sin(x)"
    elif token.type == "$END":
        message = f"The expression ends too early: expected {_expected(err.expected)}"
    else:
        message = f"Unexpected {_describe(token, text)}: expected {_expected(err.expected)}"
    return ParseError(message, text, token.start_pos)


@budgeted
def parse(text: str) -> sympy.Expr:
    """Parse maths as people type it into a SymPy expression.

    Parameters
    ----------
    text : str
        An expression such as ``"x^2 sin(x) + e^(-y)"``. Implicit multiplication
        (``2x``, ``x y``, ``(x+1)(x-1)``), ``^`` or ``**`` (right-associative),
        ``|x|``, ``sin^2(x)``, ``log(x)`` (natural) and ``log(x, b)`` are understood.
        Decimals become SymPy floats, whole numbers exact integers; ``e`` and ``pi``
        are the constants; Greek letters may be typed or spelled (``θ`` or ``theta``).
        A run of letters is one name (``xy`` is the name xy; write ``x y`` for a
        product).

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ParseError
        With ``.position`` and a message that shows where the fault is.
    LimitError
        For text over 2,000 characters, nesting over 100, or powers that would explode.

    Examples
    --------
    >>> parse("2x + sin^2(x)")
    2*x + sin(x)**2
    >>> parse("|x - 1|")
    Abs(x - 1)
    """
    if not isinstance(text, str):
        raise ParseError(f"Expected text to parse, got {type(text).__name__}")
    if not text.strip():
        raise ParseError("The expression is empty", text, 0)
    tokens = tokenize(text)
    try:
        _Build._local.text = text
        expr = _PARSER.parse(tokens, len(text))
    except _Unexpected as err:
        raise _syntax_error(err, text) from None
    except RecursionError:
        raise LimitError(f"the expression is nested more than {MAX_NESTING} deep") from None
    if expr.has(*_UNDEFINED, sympy.I):  # a safety net: each constant was checked as built
        raise ParseError("The expression has an undefined or non-real constant", text, 0)
    return expr
