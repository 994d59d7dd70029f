"""The neural-network teaching pieces, against independent oracles: the figures of
calcml.plots.nn (one neuron's cost landscape, the curve demo learning, the loss, the
confusion matrix), ``calcml nn demo NAME`` and the neural-network section of Part 3 of
the tour.

Oracles are computed here with plain NumPy, not with calcml: the single neuron's mean
squared error at grid points and along the drawn contours, the confusion matrix counted
from the test labels and predictions, the rms error from the network's outputs. Figures
are read through their artists (found by gid): the numbers they hold, not their pixels.
"""

from __future__ import annotations

import itertools
import math
import re
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.contour import QuadContourSet
from matplotlib.image import AxesImage

import calcml as cm
from calcml import plots
from calcml.nn.demos import curve_demo, digits_demo
from calcml.tour import (
    DESCENT_SHOWN,
    DESCENT_START,
    PART_NUMBERS,
    SECTIONS,
    TEACHER,
    Tour,
    curve_run,
    digits_run,
    neural_networks,
    neuron_descent,
    run_tour,
)
from cli_run import ok, run, strict

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ACTIVATIONS = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
}


# -- helpers -------------------------------------------------------------------------------


def gid(ax, name: str) -> list:
    """Artists of ``ax`` with the given gid."""
    return [a for a in ax.findobj() if a.get_gid() == name]


def one(ax, name: str):
    (artist,) = gid(ax, name)
    return artist


def neuron_mse(w, b, x, y, f) -> np.ndarray:
    """The mean over the samples of (f(w x + b) - y)^2, for arrays w and b of one shape."""
    z = np.multiply.outer(np.asarray(w, float), x) + np.asarray(b, float)[..., None]
    return np.mean((f(z) - y) ** 2, axis=-1)


def confusion_count(y_true, y_pred, k: int = 10) -> np.ndarray:
    """counts[i, j]: how many samples of class i were predicted as j."""
    return np.bincount(np.asarray(y_true) * k + np.asarray(y_pred), minlength=k * k).reshape(k, k)


def error(*args: str) -> str:
    """Status 2, nothing on stdout, one line 'error: ...' on stderr."""
    result = run(*args)
    assert result.exit_code == 2, result.output[:3000]
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def curve():
    """The curve demo with its defaults (the tour's run of it: the same call, kept)."""
    return curve_run()


@pytest.fixture(scope="module")
def digits():
    pytest.importorskip("sklearn")
    return digits_run()


# -- the single neuron's landscape ---------------------------------------------------------

X5 = np.array([-1.5, -0.5, 0.0, 0.7, 1.8])
Y5 = np.array([0.1, 0.3, 0.4, 0.8, 0.7])


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_landscape_holds_the_neurons_mse_at_grid_points(activation):
    f = ACTIVATIONS[activation]
    n = 41
    fig = plots.neuron_landscape(
        X5, Y5, activation=activation, grid=n, w_range=(-4, 4), b_range=(-3, 3)
    )
    ax = fig.axes[0]
    W, B = np.meshgrid(np.linspace(-4, 4, n), np.linspace(-3, 3, n))
    C = neuron_mse(W, B, X5, Y5, f)
    filled = one(ax, "landscape")
    assert isinstance(filled, QuadContourSet)
    # the lowest and highest values mapped are the direct ones at their grid points
    assert filled.zmin == pytest.approx(C.min(), rel=1e-12, abs=1e-15)
    assert filled.zmax == pytest.approx(C.max(), rel=1e-12)
    low = np.unravel_index(np.argmin(C), C.shape)
    star = one(ax, "minimum").get_xydata()[0]
    assert star.tolist() == pytest.approx([W[low], B[low]], abs=1e-12)
    assert f"= {C[low]:.3g}" in one(ax, "minimum").get_label()
    assert (ax.get_xlim(), ax.get_ylim()) == ((-4.0, 4.0), (-3.0, 3.0))


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_landscape_contours_lie_where_the_mse_equals_their_level(activation):
    f = ACTIVATIONS[activation]
    fig = plots.neuron_landscape(
        X5, Y5, activation=activation, grid=81, w_range=(-4, 4), b_range=(-3, 3)
    )
    ax = fig.axes[0]
    lines = one(ax, "levels")
    filled = one(ax, "landscape")
    span = filled.zmax - filled.zmin
    checked = 0
    for level, path in zip(lines.levels, lines.get_paths(), strict=True):
        v = path.vertices
        if len(v) == 0:
            continue
        # linear interpolation between grid points: off by a fraction of a per cent at most
        np.testing.assert_allclose(neuron_mse(v[:, 0], v[:, 1], X5, Y5, f), level, atol=5e-3 * span)
        checked += len(v)
    assert checked > 100


def test_landscape_draws_the_descent_path_as_given():
    x, y, path = neuron_descent()
    ax = plots.neuron_landscape(x, y, path=path, grid=21).axes[0]
    np.testing.assert_array_equal(one(ax, "path").get_xydata(), np.array(path))
    assert one(ax, "start").get_xydata()[0].tolist() == list(DESCENT_START)
    assert one(ax, "end").get_xydata()[0].tolist() == list(path[-1])
    assert "60 steps" in one(ax, "path").get_label()
    # the default view holds the whole path
    (w0, w1), (b0, b1) = ax.get_xlim(), ax.get_ylim()
    points = np.array(path)
    assert w0 <= points[:, 0].min() and points[:, 0].max() <= w1
    assert b0 <= points[:, 1].min() and points[:, 1].max() <= b1


def test_landscape_refuses_bad_input():
    with pytest.raises(cm.CalcmlError, match="x has 3 values but y has 2"):
        plots.neuron_landscape([1, 2, 3], [1, 2])
    with pytest.raises(cm.CalcmlError, match="unknown activation"):
        plots.neuron_landscape([1, 2], [1, 2], activation="swish")
    with pytest.raises(cm.CalcmlError, match="grid"):
        plots.neuron_landscape([1, 2], [1, 2], grid=2)
    with pytest.raises(cm.CalcmlError, match="pairs"):
        plots.neuron_landscape([1, 2], [1, 2], path=[1, 2, 3])
    with pytest.raises(cm.CalcmlError, match="w_range"):
        plots.neuron_landscape([1, 2], [1, 2], w_range=(3, 1))


def test_descent_goes_down_to_the_teacher():
    x, y, path = neuron_descent()
    sigmoid = ACTIVATIONS["sigmoid"]
    np.testing.assert_allclose(y[:, 0], sigmoid(TEACHER[0] * x[:, 0] + TEACHER[1]), rtol=1e-12)
    assert path[0] == DESCENT_START and len(path) == 61
    costs = [float(neuron_mse(w, b, x[:, 0], y[:, 0], sigmoid)) for w, b in path]
    assert costs[-1] < 1e-4 < 0.5 < costs[0]
    assert all(b <= a * (1 + 1e-9) for a, b in itertools.pairwise(costs))
    assert math.dist(path[-1], TEACHER) < 0.1


# -- the curve demo and its figure ---------------------------------------------------------


def test_curve_demo_learns_the_curve(curve):
    out = curve.net(curve.t)
    rms = np.sqrt(np.mean(np.sum((out - curve.target) ** 2, axis=1)))
    assert curve.rms_error == pytest.approx(rms, rel=1e-12)
    assert curve.rms_error < 0.05
    assert curve.history.loss[-1] < curve.history.loss[0] / 100
    assert curve.net.sizes == [1, 6, 7, 2]
    # the target is a closed curve: it ends where it starts
    np.testing.assert_allclose(curve.target[0], curve.target[-1], atol=1e-12)


def test_curve_figure_holds_the_snapshots_exactly(curve):
    fig = plots.curve_learning(curve)
    drawing, losses = fig.axes
    assert sorted(curve.snapshots) == [0, 100, 500, 2000, 5000]
    for epoch, outputs in curve.snapshots.items():
        line = one(drawing, f"snapshot-{epoch}")
        np.testing.assert_array_equal(line.get_xdata(), outputs[:, 0])
        np.testing.assert_array_equal(line.get_ydata(), outputs[:, 1])
        assert one(losses, f"mark-{epoch}").get_xdata()[0] == epoch
    np.testing.assert_array_equal(one(drawing, "target").get_xydata(), curve.target)
    np.testing.assert_array_equal(one(drawing, "snapshot-5000").get_xydata(), curve.net(curve.t))
    loss = one(losses, "loss")
    np.testing.assert_array_equal(loss.get_ydata(), curve.history.loss)
    assert loss.get_xdata().tolist() == list(range(1, 5001))
    assert losses.get_yscale() == "log"
    assert f"rms error {curve.rms_error:.3g}" in drawing.get_title()


def test_training_loss_draws_both_losses(digits):
    ax = plots.training_loss(digits.history, val_label="test loss").axes[0]
    np.testing.assert_array_equal(one(ax, "loss").get_ydata(), digits.history.loss)
    np.testing.assert_array_equal(one(ax, "val_loss").get_ydata(), digits.history.val_loss)
    assert ax.get_yscale() == "log"
    assert [t.get_text().split(":")[0] for t in ax.get_legend().get_texts()] == [
        "training loss",
        "test loss",
    ]
    with pytest.raises(cm.CalcmlError, match="History"):
        plots.training_loss([1.0, 0.5])


# -- the digits demo and the confusion matrix ------------------------------------------------


def test_digits_demo_reaches_95_percent(digits):
    n = len(digits.y_test)
    counted = confusion_count(digits.y_test, digits.predicted)
    np.testing.assert_array_equal(digits.confusion, counted)
    assert digits.accuracy == pytest.approx(np.trace(counted) / n, rel=1e-15)
    assert digits.accuracy >= 0.95
    assert n == 1797 // 4 and digits.net.sizes == [64, 32, 10]
    np.testing.assert_array_equal(np.argmax(digits.net(digits.x_test), axis=1), digits.predicted)


def test_confusion_matrix_figure_shows_the_counts(digits):
    counted = confusion_count(digits.y_test, digits.predicted)
    ax = plots.confusion_matrix(digits).axes[0]
    image = one(ax, "confusion")
    assert isinstance(image, AxesImage)
    np.testing.assert_array_equal(image.get_array(), counted)
    for i in range(10):
        for j in range(10):
            assert one(ax, f"count-{i}-{j}").get_text() == str(counted[i, j])
            assert bool(gid(ax, f"mistake-{i}-{j}")) == (i != j and counted[i, j] > 0)
    right, total = int(np.trace(counted)), int(counted.sum())
    assert ax.get_title() == f"accuracy {100 * right / total:.1f} % ({right} of {total})"


def test_confusion_matrix_of_a_plain_matrix_and_bad_ones():
    ax = plots.confusion_matrix(np.array([[3, 1, 0], [0, 2, 2], [1, 0, 5]])).axes[0]
    assert ax.get_title() == "accuracy 71.4 % (10 of 14)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]
    with pytest.raises(cm.CalcmlError, match="square"):
        plots.confusion_matrix(np.ones((2, 3)))
    with pytest.raises(cm.CalcmlError, match="counts"):
        plots.confusion_matrix([[1.5, 0], [0, 1]])
    with pytest.raises(cm.CalcmlError, match="labels"):
        plots.confusion_matrix([[1, 0], [0, 1]], labels=["a"])


def test_digits_figure_has_the_loss_beside_the_confusion_matrix(digits):
    fig = plots.digits_learning(digits)
    loss_ax, matrix_ax = fig.axes[:2]
    np.testing.assert_array_equal(one(loss_ax, "val_loss").get_ydata(), digits.history.val_loss)
    np.testing.assert_array_equal(one(matrix_ax, "confusion").get_array(), digits.confusion)
    assert f"{100 * digits.accuracy:.1f} %" in fig.get_suptitle()


def test_the_figures_are_exported_from_calcml_plots():
    names = {"neuron_landscape", "curve_learning", "training_loss", "confusion_matrix"}
    assert names | {"digits_learning"} <= set(plots.__all__)
    for name in names:
        func = getattr(plots, name)
        assert func.__module__ == "calcml.plots.nn" and ">>>" in func.__doc__


# -- calcml nn demo --------------------------------------------------------------------------


def test_cli_curve_json_equals_the_library():
    data = strict(ok("nn", "demo", "curve", "--epochs", "300", "--seed", "2", "--json"))
    demo = curve_demo(epochs=300, seed=2, progress=False)
    assert data["demo"] == "curve" and data["sizes"] == [1, 6, 7, 2]
    assert data["epochs"] == 300 and data["seed"] == 2 and data["points"] == 100
    assert data["first_loss"] == demo.history.loss[0]
    assert data["last_loss"] == demo.history.loss[-1]
    assert data["rms_error"] == demo.rms_error
    assert data["parameters"] == 6 + 6 + 42 + 7 + 14 + 2


def test_cli_curve_prints_the_summary_and_saves_the_figure(tmp_path):
    path = tmp_path / "curve.png"
    result = run("nn", "demo", "curve", "--epochs", "400", "--no-progress", "--plot", path)
    assert result.exit_code == 0, result.output
    demo = curve_demo(epochs=400, progress=False)
    text = result.stdout
    assert "1-6-7-2 sigmoid network" in text
    assert f"{demo.history.loss[0]:.4g} at epoch 1 -> {demo.history.loss[-1]:.4g} at epoch 400" in (
        text
    )
    (line,) = [s for s in text.splitlines() if s.startswith("rms error")]
    assert float(re.search(r": (\S+)", line)[1]) == pytest.approx(demo.rms_error, rel=1e-3)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert f"figure saved to {path}" in result.stderr


def test_cli_digits_json_and_table_equal_the_library(tmp_path):
    pytest.importorskip("sklearn")
    demo = digits_demo(epochs=4, seed=1, progress=False)
    data = strict(ok("nn", "demo", "digits", "--epochs", "4", "--seed", "1", "--json"))
    assert data["accuracy"] == demo.accuracy
    assert data["confusion"] == confusion_count(demo.y_test, demo.predicted).tolist()
    assert data["n_test"] == 449 and data["sizes"] == [64, 32, 10]
    assert (data["first_loss"], data["last_loss"]) == (demo.history.loss[0], demo.history.loss[-1])
    assert data["test_loss"] == demo.history.val_loss[-1]

    path = tmp_path / "digits.png"
    result = run("nn", "demo", "digits", "-e", "4", "-s", "1", "--no-progress", "-p", path)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    right = int(np.trace(demo.confusion))
    assert f"test accuracy: {100 * demo.accuracy:.1f} % ({right} of 449" in result.stdout
    head = lines.index("confusion matrix (rows: the true digit, columns: the digit read)")
    assert lines[head + 1].split() == [str(k) for k in range(10)]
    table = [[int(v) for v in line.split()[1:]] for line in lines[head + 2 : head + 12]]
    assert table == data["confusion"]
    assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_cli_reports_bad_input_in_one_line(tmp_path):
    assert "unknown demo 'spiral': the demos are curve, digits" in error("nn", "demo", "spiral")
    assert "--epochs" in error("nn", "demo", "curve", "--epochs", "0")
    assert "--seed" in error("nn", "demo", "curve", "--seed", "-1")
    assert "--plot" in error("nn", "demo", "curve", "--plot", tmp_path / "curve.xyz")
    assert not (tmp_path / "curve.xyz").exists()


def test_cli_digits_without_scikit_learn_is_an_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # import fails
    message = error("nn", "demo", "digits", "--no-progress")
    assert "scikit-learn" in message and "pip install" in message


def test_cli_nn_is_a_group_of_commands():
    result = run("nn", "--help")
    assert result.exit_code == 0 and "demo" in result.stdout


# -- the tour --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def part3_nn(tmp_path_factory, curve, digits):
    lines: list[str] = []
    tour = Tour(out=tmp_path_factory.mktemp("tour3nn"), plots=True, echo=lines.append)
    neural_networks(tour)
    return lines, tour.saved


def test_tour_saves_the_three_figures(part3_nn):
    _, saved = part3_nn
    assert [p.name for p in saved] == [
        "31-neuron-landscape.png",
        "32-curve-learning.png",
        "33-digits.png",
    ]
    assert all(p.read_bytes()[:8] == PNG_SIGNATURE for p in saved)


def test_tour_descent_table_holds_the_neurons_cost(part3_nn):
    lines, _ = part3_nn
    x, y, path = neuron_descent()
    rows = {s.split()[1]: s.split()[2:] for s in lines if s.startswith("  step ")}
    assert [int(k) for k in rows] == list(DESCENT_SHOWN)
    for k in DESCENT_SHOWN:
        w, b, cost = (float(v) for v in rows[str(k)])
        assert (w, b) == pytest.approx(path[k], abs=5e-5)
        direct = float(neuron_mse(*path[k], x[:, 0], y[:, 0], ACTIVATIONS["sigmoid"]))
        assert cost == pytest.approx(direct, rel=5e-3)


def test_tour_backprop_equations_agree_with_calcml_ad(part3_nn):
    lines, _ = part3_nn
    assert "Backpropagation through 2 layers, N = 4 sample(s):" in lines
    assert any(s.strip().startswith("delta_1 = (delta_2 W_2) * f_1'(z_1)") for s in lines)
    (line,) = [s for s in lines if "max |backprop - calcml.ad| = " in s]
    assert float(line.rsplit("= ", 1)[1].rstrip(".")) < 1e-12


def test_tour_reports_the_demos(part3_nn, curve, digits):
    lines, _ = part3_nn
    assert f"rms error of the drawn points: {curve.rms_error:.4f}" in lines
    right = int(np.trace(digits.confusion))
    assert any(f"test accuracy: {100 * digits.accuracy:.1f} % ({right} of 449)" in s for s in lines)
    start = lines.index("The confusion matrix (rows: the true digit, columns: the digit read):")
    table = [[int(v) for v in s.split()[1:]] for s in lines[start + 2 : start + 12]]
    assert table == confusion_count(digits.y_test, digits.predicted).tolist()


def test_tour_without_scikit_learn_says_how_to_install_it_and_carries_on(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    lines: list[str] = []
    tour = Tour(out=tmp_path, plots=True, echo=lines.append)
    neural_networks(tour)
    assert [p.name for p in tour.saved] == ["31-neuron-landscape.png", "32-curve-learning.png"]
    skipped = [s for s in lines if "scikit-learn" in s and s.startswith("Skipped")]
    assert len(skipped) == 1 and "pip install" in skipped[0]
    # and the whole tour goes on to the parts after it
    more: list[str] = []
    run_tour(plots=False, echo=more.append)
    assert "== Part 4: Taylor series and linearisation ==" in more


def test_the_section_continues_part_3():
    assert PART_NUMBERS["Neural networks and backpropagation"] == 3
    titles = [title for title, _ in SECTIONS]
    i = titles.index("The multivariate chain rule")
    assert titles[i + 1] == "Neural networks and backpropagation"
    lines: list[str] = []
    run_tour(plots=False, echo=lines.append)
    headers = [s for s in lines if s.startswith("== Part")]
    j = headers.index("== Part 3: The multivariate chain rule ==")
    assert headers[j + 1 : j + 3] == [
        "== Part 3: Neural networks and backpropagation ==",
        "== Part 4: Taylor series and linearisation ==",
    ]
