"""NIST StRD reference problems (../shared/data/nist), for tests and benchmarks only.

Each nonlinear problem: its data (y, x), its model in calcml's language, two starting
points and the certified parameters, standard deviations and residual sum of squares.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "nist"

#: The models of the 27 nonlinear problems, written in calcml's language (the y of
#: Nelson is log(y), as NIST states it).
MODELS = {
    "Bennett5": "b1 * (b2 + x)^(-1/b3)",
    "BoxBOD": "b1*(1 - exp(-b2*x))",
    "Chwirut1": "exp(-b1*x)/(b2 + b3*x)",
    "Chwirut2": "exp(-b1*x)/(b2 + b3*x)",
    "DanWood": "b1*x^b2",
    "ENSO": (
        "b1 + b2*cos(2*pi*x/12) + b3*sin(2*pi*x/12) + b5*cos(2*pi*x/b4) + "
        "b6*sin(2*pi*x/b4) + b8*cos(2*pi*x/b7) + b9*sin(2*pi*x/b7)"
    ),
    "Eckerle4": "(b1/b2) * exp(-0.5*((x - b3)/b2)^2)",
    "Gauss1": "b1*exp(-b2*x) + b3*exp(-(x - b4)^2/b5^2) + b6*exp(-(x - b7)^2/b8^2)",
    "Gauss2": "b1*exp(-b2*x) + b3*exp(-(x - b4)^2/b5^2) + b6*exp(-(x - b7)^2/b8^2)",
    "Gauss3": "b1*exp(-b2*x) + b3*exp(-(x - b4)^2/b5^2) + b6*exp(-(x - b7)^2/b8^2)",
    "Hahn1": "(b1 + b2*x + b3*x^2 + b4*x^3)/(1 + b5*x + b6*x^2 + b7*x^3)",
    "Kirby2": "(b1 + b2*x + b3*x^2)/(1 + b4*x + b5*x^2)",
    "Lanczos1": "b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)",
    "Lanczos2": "b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)",
    "Lanczos3": "b1*exp(-b2*x) + b3*exp(-b4*x) + b5*exp(-b6*x)",
    "MGH09": "b1*(x^2 + x*b2)/(x^2 + x*b3 + b4)",
    "MGH10": "b1*exp(b2/(x + b3))",
    "MGH17": "b1 + b2*exp(-x*b4) + b3*exp(-x*b5)",
    "Misra1a": "b1*(1 - exp(-b2*x))",
    "Misra1b": "b1*(1 - (1 + b2*x/2)^(-2))",
    "Misra1c": "b1*(1 - (1 + 2*b2*x)^(-0.5))",
    "Misra1d": "b1*b2*x*((1 + b2*x)^(-1))",
    "Nelson": "b1 - b2*x1*exp(-b3*x2)",
    "Rat42": "b1/(1 + exp(b2 - b3*x))",
    "Rat43": "b1/((1 + exp(b2 - b3*x))^(1/b4))",
    "Roszman1": "b1 - b2*x - atan(b3/(x - b4))/pi",
    "Thurber": "(b1 + b2*x + b3*x^2 + b4*x^3)/(1 + b5*x + b6*x^2 + b7*x^3)",
}

DIFFICULTY = {
    "lower": [
        "Misra1a",
        "Chwirut2",
        "Chwirut1",
        "Lanczos3",
        "Gauss1",
        "Gauss2",
        "DanWood",
        "Misra1b",
    ],
    "average": [
        "Kirby2",
        "Hahn1",
        "Nelson",
        "MGH17",
        "Lanczos1",
        "Lanczos2",
        "Gauss3",
        "Misra1c",
        "Misra1d",
        "Roszman1",
        "ENSO",
    ],
    "higher": ["MGH09", "Thurber", "BoxBOD", "Rat42", "MGH10", "Eckerle4", "Rat43", "Bennett5"],
}


@dataclass
class Nonlinear:
    name: str
    model: str
    x: np.ndarray  # (N,) or (N, 2) for Nelson
    y: np.ndarray
    start1: dict[str, float]
    start2: dict[str, float]
    certified: dict[str, float]
    std: dict[str, float]
    rss: float

    @property
    def xdata(self) -> np.ndarray | dict[str, np.ndarray]:
        if self.x.ndim == 2:
            return {"x1": self.x[:, 0], "x2": self.x[:, 1]}
        return self.x


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def load(name: str) -> Nonlinear:
    lines = (DATA / "nonlinear" / f"{name}.dat").read_text().splitlines()
    start1, start2, certified, std = {}, {}, {}, {}
    rss = float("nan")
    data_at = None
    for i, line in enumerate(lines):
        m = re.match(
            rf"\s*(b\d+)\s*=\s*({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})", line
        )
        if m:
            b = m.group(1)
            start1[b], start2[b] = float(m.group(2)), float(m.group(3))
            certified[b], std[b] = float(m.group(4)), float(m.group(5))
        m = re.match(rf"\s*Residual Sum of Squares:\s*({_NUMBER})", line)
        if m:
            rss = float(m.group(1))
        if re.match(r"\s*Data:\s*y", line):
            data_at = i + 1
    assert data_at is not None and certified, name
    rows = np.array([[float(t) for t in line.split()] for line in lines[data_at:] if line.strip()])
    y = rows[:, 0]
    x = rows[:, 1] if rows.shape[1] == 2 else rows[:, 1:]
    if name == "Nelson":
        y = np.log(y)
    return Nonlinear(name, MODELS[name], x, y, start1, start2, certified, std, rss)


def nonlinear_names() -> list[str]:
    return sorted(MODELS)


def linear_certified() -> dict:
    return json.loads((DATA / "linear" / "certified.json").read_text())


def linear_data(name: str) -> np.ndarray:
    """The CSV of a linear problem as a structured array (y, x1, ...)."""
    return np.genfromtxt(DATA / "linear" / f"{name}.csv", delimiter=",", names=True)


def lre(value: float, certified: float) -> float:
    """The log relative error, digits in agreement (NIST's LRE), capped at 15."""
    if value == certified:
        return 15.0
    if certified == 0:
        return float(-np.log10(abs(value)))
    return float(min(15.0, -np.log10(abs(value - certified) / abs(certified))))
