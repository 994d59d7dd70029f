"""Hypothesis strategies that write random expressions as text, over the whole language."""

from __future__ import annotations

from hypothesis import strategies as st

from calcml.expr.tokens import FUNCTIONS as LANGUAGE_FUNCTIONS

# Every function of the language (factorial takes whole numbers only: not generated).
FUNCTIONS = sorted(LANGUAGE_FUNCTIONS - {"factorial"})


def leaves(variables: tuple[str, ...] = ("x",)) -> st.SearchStrategy[str]:
    numbers = st.sampled_from(["1", "2", "3", "5", "0.5", "2.5", "1e-1", "10"])
    return st.one_of(
        st.sampled_from(variables),  # variables more often than anything else
        st.sampled_from(variables),
        numbers,
        st.sampled_from(["e", "pi"]),
    )


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    small_power = st.sampled_from(["2", "3", "-1", "-2", "0.5", "(1/3)", "4"])
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(children, children).map(lambda t: f"({t[0]})({t[1]})"),  # implicit
        st.tuples(children, small_power).map(lambda t: f"({t[0]})^{t[1]}"),
        st.tuples(st.sampled_from(["2", "3", "e", "x"]), children).map(
            lambda t: f"{t[0]}^({t[1]})"
        ),
        st.tuples(children, children).map(lambda t: f"({t[0]})**({t[1]})"),
        st.tuples(st.sampled_from(FUNCTIONS), children).map(lambda t: f"{t[0]}({t[1]})"),
        children.map(lambda c: f"|{c}|"),
        children.map(lambda c: f"sin^2({c})"),
        children.map(lambda c: f"log({c}, 2)"),
        children.map(lambda c: f"2{c}" if c[0].isalpha() or c[0] == "(" else f"2*{c}"),
    )


def expressions(variables: tuple[str, ...] = ("x",), max_leaves: int = 7) -> st.SearchStrategy[str]:
    """Random expression text such as '(sin(x)^2 + |2x|)/(x - 1)'."""
    return st.recursive(leaves(variables), _extend, max_leaves=max_leaves)
