"""The record of a derivation: a tree of :class:`Step` and the :class:`Derivation` holding it.

A step says which rule was applied to which expression, what it gave, the steps for the
pieces it needed (``substeps``) and a sentence that explains it. Sentences are written
only when somebody reads them, because printing SymPy expressions costs more than
differentiating them.

>>> import calcml as cm
>>> d = cm.derivative("x^2*sin(x)", "x")
>>> d.steps.rule
'product'
>>> print(d.explain().splitlines()[1])
1. d/dx [x^2*sin(x)]: product rule. (u·v)' = u'·v + u·v': ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import sympy

from ..expr import to_latex, to_mathml, to_text

#: The closed vocabulary of rule names (DESIGN.md).
RULES = frozenset(
    [
        "constant",
        "variable",
        "constant_multiple",
        "sum",
        "power",
        "product",
        "quotient",
        "chain",
        "exp",
        "log",
        "sin",
        "cos",
        "tan",
        "sec",
        "csc",
        "cot",
        "asin",
        "acos",
        "atan",
        "sinh",
        "cosh",
        "tanh",
        "abs",
        "exponential",
        "general_power",
        "rewrite",
    ]
)


class Step:
    """One application of a rule: ``d/d(variable) expr = result``.

    Attributes
    ----------
    rule : str
        A name from :data:`RULES`.
    expr, result : sympy.Expr
        The expression differentiated and its derivative.
    substeps : list of Step
        The derivations this rule needed (one per term, factor, or inner function).
    explanation : str
        A sentence for a learner.
    variable : sympy.Symbol
        What ``expr`` is differentiated by (``u`` for the outer function of a chain).
    """

    __slots__ = ("_explanation", "expr", "result", "rule", "substeps", "variable")

    def __init__(
        self,
        rule: str,
        expr: sympy.Expr,
        result: sympy.Expr,
        substeps: list[Step] | None = None,
        explanation: str | Callable[[], str] = "",
        variable: sympy.Symbol | None = None,
    ) -> None:
        assert rule in RULES, rule
        self.rule = rule
        self.expr = expr
        self.result = result
        self.substeps = substeps or []
        self._explanation = explanation
        self.variable = variable if variable is not None else sympy.Symbol("x")

    @property
    def explanation(self) -> str:
        if callable(self._explanation):
            self._explanation = self._explanation()
        return self._explanation

    def walk(self) -> Iterator[Step]:
        """This step and all steps below it, parents before children."""
        stack = [self]
        while stack:
            step = stack.pop()
            yield step
            stack.extend(reversed(step.substeps))

    def __repr__(self) -> str:
        return (
            f"Step(rule={self.rule!r}, expr={to_text(self.expr)!r}, "
            f"result={to_text(self.result)!r}, substeps=[{len(self.substeps)}])"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this step and its substeps."""
        return {
            "rule": self.rule,
            "variable": str(self.variable),
            "expr": to_text(self.expr),
            "result": to_text(self.result),
            "latex": {"expr": to_latex(self.expr), "result": to_latex(self.result)},
            "explanation": self.explanation,
            "substeps": [s.to_dict() for s in self.substeps],
        }


def _title(rule: str) -> str:
    special = {
        "constant_multiple": "constant multiple rule",
        "general_power": "general power (logarithmic differentiation)",
        "exponential": "exponential rule",
        "rewrite": "rewrite",
        "constant": "constant",
        "variable": "variable",
    }
    if rule in special:
        return special[rule]
    if rule in ("sum", "power", "product", "quotient", "chain"):
        return f"{rule} rule"
    return f"derivative of {rule}"


class Derivation:
    """A derivative with the steps that produced it.

    Attributes
    ----------
    expr : sympy.Expr
        The function differentiated.
    variable : sympy.Symbol
        The variable differentiated by.
    order : int
        How many times.
    steps : Step
        The root of the rule tree of the last differentiation (for ``order=1`` the
        only one); ``stages`` holds one root per order.
    raw : sympy.Expr
        The derivative exactly as the rules give it.
    result : sympy.Expr
        The derivative, tidied (``simplification`` is the step that shows how, or None).
    value : float or None
        The derivative at the point given with ``at=``.
    """

    def __init__(
        self,
        expr: sympy.Expr,
        variable: sympy.Symbol,
        stages: list[Step],
        simplify: Callable[[sympy.Expr], sympy.Expr],
        order: int = 1,
        title: str | None = None,
    ) -> None:
        self.expr = expr
        self.variable = variable
        self.order = order
        self.stages = stages
        self.steps = stages[-1]
        self.raw = stages[-1].result
        self.value: float | None = None
        self.point: dict[str, float] | None = None
        self.title = title
        self._simplify = simplify
        self._result: sympy.Expr | None = None
        self._simplification: Step | None = None
        #: "∂" for a partial derivative (other variables held constant), else "d".
        self.operator = "d"

    # The tidy-up of the answer runs on first use: a learner reading steps pays for it,
    # a solver that only needs the tree does not.
    @property
    def result(self) -> sympy.Expr:
        if self._result is None:
            self._result = self._simplify(self.raw)
            if self._result != self.raw:
                self._simplification = Step(
                    "rewrite", self.raw, self._result, [], "Simplify the result.", self.variable
                )
        return self._result

    @property
    def simplification(self) -> Step | None:
        self.result  # noqa: B018 - computes it
        return self._simplification

    def rules_used(self) -> set[str]:
        """The names of every rule in the derivation tree(s)."""
        return {step.rule for stage in self.stages for step in stage.walk()}

    def __float__(self) -> float:
        if self.value is None:
            raise TypeError("this derivative was not evaluated at a point; pass at=")
        return self.value

    # -- presentation ---------------------------------------------------------------
    def _notation(self) -> str:
        v = str(self.variable)
        return f"d/d{v}" if self.order == 1 else f"d^{self.order}/d{v}^{self.order}"

    def _lines(self) -> Iterator[tuple[int, Step]]:
        for stage in self.stages:
            stack = [(0, stage)]
            while stack:
                depth, step = stack.pop()
                yield depth, step
                stack.extend((depth + 1, s) for s in reversed(step.substeps))
        if self.simplification is not None:
            yield 0, self.simplification

    def explain(self) -> str:
        """The derivation as numbered plain-text lines, indented by depth."""
        lines = [f"{self.title or self._notation()} of {to_text(self.expr)}"]
        for number, (depth, step) in enumerate(self._lines(), start=1):
            var = str(step.variable)
            op = self.operator if step.variable == self.variable else "d"
            head = f"{'   ' * depth}{number}. {op}/{op}{var} [{to_text(step.expr)}]"
            if step.rule == "rewrite":
                head = f"{'   ' * depth}{number}. {to_text(step.expr)}"
            lines.append(f"{head}: {_title(step.rule)}. {step.explanation}")
            lines.append(f"{'   ' * depth}   = {to_text(step.result)}")
        lines.append(f"Answer: {to_text(self.result)}")
        if self.value is not None and self.point is not None:
            where = ", ".join(f"{k}={v:g}" for k, v in self.point.items())
            lines.append(f"At {where}: {self.value:.12g}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.explain()

    def __repr__(self) -> str:
        return (
            f"Derivation({self._notation()} {to_text(self.expr)} = "
            f"{to_text(self.result)}, rules={sorted(self.rules_used())})"
        )

    def to_latex(self) -> str:
        """The whole derivation as a LaTeX ``align*`` environment."""
        rows = []
        for depth, step in self._lines():
            indent = r"\quad " * depth
            var = sympy.latex(step.variable)
            lhs = (
                rf"\frac{{d}}{{d{var}}}\left[{to_latex(step.expr)}\right]"
                if step.rule != "rewrite"
                else to_latex(step.expr)
            )
            note = step.explanation.replace("\\", "").replace("{", "").replace("}", "")
            rows.append(
                rf"{indent}{lhs} &= {to_latex(step.result)}"
                rf" && \text{{{_title(step.rule)}: {_latex_text(note)}}}"
            )
        return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"

    def to_mathml(self) -> str:
        """The derivation as an HTML ordered list of MathML equations with explanations."""
        items = []
        for depth, step in self._lines():
            var = str(step.variable)
            lhs = (
                f"<span>d/d{var}</span> {to_mathml(step.expr)}"
                if step.rule != "rewrite"
                else to_mathml(step.expr)
            )
            items.append(
                f'<li style="margin-left:{2 * depth}em">{lhs} = {to_mathml(step.result)}'
                f" <em>{_title(step.rule)}</em>: {_html(step.explanation)}</li>"
            )
        return '<ol class="calcml-steps">' + "".join(items) + "</ol>"

    def _repr_latex_(self) -> str:
        return "$$" + self.to_latex().replace("align*", "aligned") + "$$"

    def _repr_html_(self) -> str:
        return self.to_mathml()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the answer, its LaTeX, the value and the steps."""
        return {
            "expr": to_text(self.expr),
            "variable": str(self.variable),
            "order": self.order,
            "result": to_text(self.result),
            "latex": to_latex(self.result),
            "value": self.value,
            "at": self.point,
            "rules": sorted(self.rules_used()),
            "stages": [stage.to_dict() for stage in self.stages],
            "simplification": (
                self.simplification.to_dict() if self.simplification is not None else None
            ),
        }


def _latex_text(text: str) -> str:
    for char in "#$%&_^":
        text = text.replace(char, "\\" + char if char not in "^" else r"\^{}")
    return text


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
