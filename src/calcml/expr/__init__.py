"""The language layer: text to SymPy (:func:`parse`) and SymPy to text, LaTeX and MathML."""

from .parser import parse
from .render import to_latex, to_mathml, to_text

__all__ = ["parse", "to_latex", "to_mathml", "to_text"]
