"""Regression: chi-squared, straight lines, polynomials, linear and non-linear least
squares, with uncertainties and the statistics that judge a fit.

>>> import calcml as cm
>>> r = cm.linear_fit([0, 1, 2], [1, 3, 5])
>>> round(r.params["m"], 12), round(r.params["c"], 12)
(2.0, 1.0)
"""

from .linear import chi2, linear_fit, lstsq, polyfit
from .nonlinear import fit
from .result import FitResult

__all__ = ["FitResult", "chi2", "fit", "linear_fit", "lstsq", "polyfit"]
