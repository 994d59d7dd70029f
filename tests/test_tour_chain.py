"""Part 3 of the tour (the multivariate chain rule) against hand-derived values."""

from __future__ import annotations

import math
import re

import pytest

from calcml.tour import NEURON, PART_NUMBERS, SECTIONS, Tour, chain_rule, run_tour


@pytest.fixture(scope="module")
def part3(tmp_path_factory):
    lines: list[str] = []
    tour = Tour(out=tmp_path_factory.mktemp("tour3"), plots=True, echo=lines.append)
    chain_rule(tour)
    return lines, tour.saved


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def test_chain_rule_lines_end_in_the_hand_derivative(part3):
    lines, _ = part3
    w, b, x, y = NEURON.values()
    a = _sigmoid(w * x + b)
    common = 2 * (a - y) * a * (1 - a)  # dC/dz for z = w x + b, by hand
    for name, expected in (("w", common * x), ("b", common)):
        line = next(s for s in lines if s.startswith(f"dL/d{name} = "))
        last = float(line.rsplit("=", 1)[1])
        assert last == pytest.approx(expected, rel=1e-5)


def test_composition_jacobian_matches_the_hand_product(part3):
    lines, _ = part3
    # d/d(x, y) of (sin(x y), x y (x + y)^2) at (0.5, 2), by hand
    x, y = 0.5, 2.0
    row1 = [y * math.cos(x * y), x * math.cos(x * y)]
    row2 = [y * (x + y) ** 2 + 2 * x * y * (x + y), x * (x + y) ** 2 + 2 * x * y * (x + y)]
    for label, row in (("d f1", row1), ("d f2", row2)):
        line = next(s for s in lines if s.strip().startswith(label))
        numbers = [float(t) for t in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", line.split(label)[1])]
        assert numbers == pytest.approx(row, rel=1e-9)


def test_check_grad_agrees_and_the_figure_is_saved(part3):
    lines, saved = part3
    assert any(s.startswith("check_grad:") and s.endswith(": ok") for s in lines)
    assert [p.name for p in saved] == ["30-computation-graph.png"]
    assert saved[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_part_3_sits_between_parts_2_and_4():
    assert PART_NUMBERS["The multivariate chain rule"] == 3
    lines: list[str] = []
    run_tour(plots=False, echo=lines.append)
    headers = [s for s in lines if s.startswith("== Part")]
    numbers = [int(h.split()[2].rstrip(":")) for h in headers]
    assert numbers == sorted(numbers) and 3 in numbers
    assert len(headers) == len(SECTIONS)
