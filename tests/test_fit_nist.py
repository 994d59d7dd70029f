"""calcml's regression against the NIST StRD reference datasets (../shared/data/nist).

Oracle: NIST's certified values, compared by the log relative error (LRE, the number of
digits in agreement, ``nist.lre``), as in McCullough's assessments of statistical
software. Issue 6's targets:

* nonlinear, from the second start: every problem succeeds with every parameter to
  LRE >= 6, every standard error to LRE >= 4 and the residual sum of squares to LRE >= 6
  (NIST certifies errors scaled by the residual variance: that is calcml's convention
  without sigma, so the comparison is direct);
* nonlinear, from the first start: success always means the certified answer (a wrong
  answer is never called a success, and a success never has infinite errors), and at
  least 23 of the 25 problems other than Lanczos1 and Nelson reach it;
* Gauss-Newton: from the second start it reaches (and claims) the certified answer on
  the lower-difficulty problems; on all 27 from both starts, whatever it reports as a
  success is the certified answer;
* linear: Norris and Longley to 9 digits, Filip to 7, the others to 9; the residual
  standard deviation, R^2 and the standard errors too, to the digits the file gives.
"""

from __future__ import annotations

import functools
import math
from decimal import Decimal

import numpy as np
import pytest

import calcml as cm
import nist

NAMES = nist.nonlinear_names()
#: Issue 6 leaves these two out of the count from the first start.
NOT_COUNTED = ("Lanczos1", "Nelson")
PARAM_DIGITS, ERROR_DIGITS, RSS_DIGITS = 6, 4, 6


@functools.cache
def _fit(name: str, start: str, method: str = "lm") -> cm.FitResult:
    p = nist.load(name)
    with np.errstate(all="ignore"):  # overflow on the way from a far start is expected
        return cm.fit(p.model, p.xdata, p.y, p0=getattr(p, start), method=method)


def _lre_or_none(value: float | None, certified: float) -> float:
    if value is None or not math.isfinite(value):
        return -math.inf
    return nist.lre(value, certified)


def _shortfalls(name: str, r: cm.FitResult) -> list[str]:
    """Every way the result misses NIST's certified values (empty when it reaches them)."""
    p = nist.load(name)
    out = []
    for k, cert in p.certified.items():
        got = _lre_or_none(r.params[k], cert)
        if got < PARAM_DIGITS:
            out.append(f"{k} = {r.params[k]!r} vs {cert!r} (LRE {got:.1f})")
    for k, cert in p.std.items():
        got = _lre_or_none(r.errors[k], cert)
        if got < ERROR_DIGITS:
            out.append(f"error of {k} = {r.errors[k]!r} vs {cert!r} (LRE {got:.1f})")
    got = _lre_or_none(r.chi2, p.rss)
    if got < RSS_DIGITS:
        out.append(f"chi2 = {r.chi2!r} vs RSS {p.rss!r} (LRE {got:.1f})")
    return out


def _assert_honest(name: str, r: cm.FitResult) -> None:
    """Success means the certified answer with finite errors; failure says so."""
    if r.success:
        assert r.status == "converged"
        assert all(e is not None and math.isfinite(e) for e in r.errors.values()), r.errors
        assert not _shortfalls(name, r), f"{name}: success claimed, but {_shortfalls(name, r)}"
    else:
        assert r.status != "converged"
        assert r.message.strip()
        assert "FAILED" in r.report()


def test_every_problem_is_here() -> None:
    assert len(NAMES) == 27
    assert sorted(n for group in nist.DIFFICULTY.values() for n in group) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_second_start_reaches_the_certified_values(name: str) -> None:
    r = _fit(name, "start2")
    assert r.success, f"{name}: {r.status}: {r.message}"
    assert not _shortfalls(name, r), f"{name}: {_shortfalls(name, r)}"
    assert r.dof == len(nist.load(name).y) - len(r.params)


@pytest.mark.parametrize("name", NAMES)
def test_first_start_success_means_the_certified_values(name: str) -> None:
    _assert_honest(name, _fit(name, "start1"))


def test_first_start_reaches_the_certified_values_23_times_of_25() -> None:
    counted = [n for n in NAMES if n not in NOT_COUNTED]
    assert len(counted) == 25
    missed = {}
    for name in counted:
        r = _fit(name, "start1")
        if not (r.success and not _shortfalls(name, r)):
            missed[name] = f"success={r.success}, status={r.status}: {r.message}"
    for name, why in missed.items():
        print(f"start 1, {name}: {why}")
    assert len(counted) - len(missed) >= 23, missed


@pytest.mark.parametrize("name", NAMES)
def test_first_start_reaches_the_certified_values_everywhere(name: str) -> None:
    """More than the issue asks (23 of 25): since the trust region, calcml reaches every
    certified answer from the far starts too, Lanczos1 and Nelson included; this keeps
    it so."""
    r = _fit(name, "start1")
    assert r.success, f"{name}: {r.status}: {r.message}"
    assert not _shortfalls(name, r), f"{name}: {_shortfalls(name, r)}"


@pytest.mark.parametrize("name", nist.DIFFICULTY["lower"])
def test_gauss_newton_second_start_lower_difficulty(name: str) -> None:
    """Gauss-Newton from the second start reaches the certified values on every
    lower-difficulty problem and says so (an undamped method cannot always, but on these
    it gets there: a run that ends at the minimum must not call itself a failure)."""
    p = nist.load(name)
    r = _fit(name, "start2", "gauss_newton")
    lres = {k: _lre_or_none(r.params[k], v) for k, v in p.certified.items()}
    assert min(lres.values()) >= PARAM_DIGITS, lres
    assert r.success, f"{name}: {r.status}: {r.message}"
    _assert_honest(name, r)


@pytest.mark.parametrize("start", ["start1", "start2"])
@pytest.mark.parametrize("name", NAMES)
def test_gauss_newton_success_means_the_certified_values(name: str, start: str) -> None:
    _assert_honest(name, _fit(name, start, "gauss_newton"))


# -- linear ----------------------------------------------------------------------------------

#: Digits the issue asks of each linear problem (its parameters; its statistics too, or as
#: many as the file gives).
LINEAR_DIGITS = {"filip": 7}
DEFAULT_LINEAR_DIGITS = 9


def _linear_certified() -> dict:
    cert = {k: v for k, v in nist.linear_certified().items() if not k.startswith("_")}
    # A known typo in the compare file: Wampler5's b1 has NIST's 23635517.3469679.
    assert cert["wampler5"]["stderr"][1] == 236355.1735
    cert["wampler5"]["stderr"][1] = 23635517.3469679
    return cert


LINEAR = _linear_certified()


@functools.cache
def _linear_fit(name: str) -> cm.FitResult:
    d = nist.linear_data(name)
    y = d["y"]
    if name == "filip":  # the CSV's precomputed powers x2..x10 are rounded: use x1
        return cm.polyfit(d["x1"], y, 10)
    if name == "longley":
        design = np.column_stack([np.ones(len(y))] + [d[f"x{i}"] for i in range(1, 7)])
        return cm.lstsq(design, y)
    if name.startswith("noint"):
        return cm.lstsq(d["x"], y)
    degree = {"norris": 1, "pontius": 2}.get(name, 5)  # wampler1-5: degree 5
    return cm.polyfit(d["x"], y, degree)


def _agrees(value: float, certified: float, digits: int) -> bool:
    """Within ``digits`` significant digits, or within one unit in the last place the
    file gives (it gives some values to only 3 or 4 digits); an exact 0 or 1 must be
    met to ``digits`` absolutely."""
    if not math.isfinite(value):
        return False
    if certified in (0.0, 1.0):
        return abs(value - certified) <= 10.0**-digits
    tol = abs(certified) * 10.0**-digits
    given = Decimal(repr(certified))
    if len(given.as_tuple().digits) < 12:  # a shortened value from a compare file
        tol = max(tol, 10.0 ** given.as_tuple().exponent)
    return abs(value - certified) <= tol


def test_every_linear_problem_is_here() -> None:
    assert sorted(LINEAR) == sorted(
        ["norris", "pontius", "noint1", "noint2", "filip", "longley"]
        + [f"wampler{i}" for i in range(1, 6)]
    )


@pytest.mark.parametrize("name", sorted(LINEAR))
def test_linear_problem_reaches_the_certified_values(name: str) -> None:
    cert = LINEAR[name]
    digits = LINEAR_DIGITS.get(name, DEFAULT_LINEAR_DIGITS)
    r = _linear_fit(name)
    assert r.success, r.message
    beta = list(r.params.values())
    errors = list(r.errors.values())
    assert len(beta) == len(cert["beta"])
    bad = [
        f"b{i} = {v!r} vs {c!r} (LRE {nist.lre(v, c):.1f})"
        for i, (v, c) in enumerate(zip(beta, cert["beta"], strict=True))
        if nist.lre(v, c) < digits
    ]
    assert not bad, bad
    bad = [
        f"error of b{i} = {v!r} vs {c!r}"
        for i, (v, c) in enumerate(zip(errors, cert["stderr"], strict=True))
        if not _agrees(v, c, digits)
    ]
    assert not bad, bad
    rsd = math.sqrt(r.chi2 / r.dof)
    assert _agrees(rsd, cert["rsd"], digits), (rsd, cert["rsd"])
    # NoInt: without an intercept NIST's R^2 is uncentred, 1 - RSS / sum(y^2); so is
    # calcml's when the design has no constant column.
    assert _agrees(r.r_squared, cert["r_squared"], digits), (r.r_squared, cert["r_squared"])


@pytest.mark.parametrize("name", ["noint1", "noint2"])
def test_no_intercept_r_squared_is_uncentred(name: str) -> None:
    r = _linear_fit(name)
    y = nist.linear_data(name)["y"]
    assert r.r_squared == pytest.approx(1 - r.chi2 / float(y @ y), rel=1e-12)


def test_norris_and_longley_to_nine_digits_filip_to_seven() -> None:
    """The issue's headline numbers, stated on their own."""
    for name, digits in (("norris", 9), ("longley", 9), ("filip", 7)):
        r = _linear_fit(name)
        worst = min(
            nist.lre(v, c) for v, c in zip(r.params.values(), LINEAR[name]["beta"], strict=True)
        )
        assert worst >= digits, (name, worst)
