"""Learning curves: the numbers drawn are the numbers in metrics.csv / aggregate.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from ml_core.viz import VizInputError, build_curves_figure, plot_curves

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
COLUMNS = [
    "train_loss",
    "train_acc",
    "train_f1",
    "train_auroc",
    "val_loss",
    "val_acc",
    "val_f1",
    "val_auroc",
    "lr",
]


def read_csv(path: Path) -> dict[str, np.ndarray]:
    header = path.read_text().splitlines()[0].split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {name: data[:, index] for index, name in enumerate(header)}


def plotted_lines(figure: Figure) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {
        line.get_gid(): (np.asarray(line.get_xdata()), np.asarray(line.get_ydata()))
        for axis in figure.axes
        for line in axis.get_lines()
        if line.get_gid()
    }


def plotted_bands(figure: Figure) -> dict[str, np.ndarray]:
    return {
        artist.get_gid(): artist.get_paths()[0].vertices
        for axis in figure.axes
        for artist in axis.collections
        if isinstance(artist, PolyCollection) and artist.get_gid()
    }


def test_single_run_lines_are_the_csv_columns(tmp_path: Path, write_run) -> None:
    run = write_run(tmp_path / "run", epochs=6)
    expected = read_csv(run / "metrics.csv")
    lines = plotted_lines(build_curves_figure([run]))
    assert set(lines) == {f"run|{column}" for column in COLUMNS}
    for column in COLUMNS:
        x, y = lines[f"run|{column}"]
        np.testing.assert_array_equal(x, expected["epoch"])
        np.testing.assert_allclose(y, expected[column], rtol=0, atol=0)


def test_contract_layout_with_collapse_columns(tmp_path: Path, write_run) -> None:
    # metrics.csv as training writes it today: diagnostics and a warning column.
    run = write_run(tmp_path / "run", epochs=3, warnings={2: "no signal"})
    assert (run / "metrics.csv").read_text().splitlines()[0].endswith(",warning")
    lines = plotted_lines(build_curves_figure([run]))
    assert set(lines) == {f"run|{column}" for column in COLUMNS}
    np.testing.assert_array_equal(lines["run|val_loss"][0], [1, 2, 3])


def test_panels_are_titled_and_labelled(tmp_path: Path, write_run) -> None:
    figure = build_curves_figure([write_run(tmp_path / "run")])
    panels = {axis.get_gid(): axis for axis in figure.axes if axis.get_gid()}
    assert set(panels) == {"loss", "acc", "f1", "auroc", "lr"}
    for axis in panels.values():
        assert axis.get_title()
        assert axis.get_xlabel() == "epoch"
        assert axis.get_ylabel()


def test_plot_curves_writes_png_in_run_dir(tmp_path: Path, write_run) -> None:
    run = write_run(tmp_path / "run")
    written = plot_curves([run])
    assert written == run / "curves.png"
    assert written.read_bytes().startswith(PNG_MAGIC)
    assert sorted(p.name for p in run.iterdir()) == [
        "config.yaml",
        "curves.png",
        "metrics.csv",
    ]


def test_partial_csv_of_running_run(tmp_path: Path, write_run) -> None:
    run = write_run(tmp_path / "run", epochs=2, config={"training": {"epochs": 10}})
    figure = build_curves_figure([run])
    x, _ = plotted_lines(figure)["run|val_loss"]
    np.testing.assert_array_equal(x, [1, 2])
    assert "epoch 2 of 10" in figure.get_suptitle()
    assert plot_curves([str(run)], tmp_path / "out" / "c.png").is_file()


def test_seeds_of_one_config_become_mean_std_band(tmp_path: Path, write_run) -> None:
    # One seed has only 3 of 5 epochs: epochs 4-5 average the two runs that got there.
    runs = [
        write_run(tmp_path / f"seed{seed}", epochs, seed, {"training": {"epochs": 5}})
        for seed, epochs in [(0, 5), (1, 5), (2, 3)]
    ]
    tables = [read_csv(run / "metrics.csv") for run in runs]
    figure = build_curves_figure(runs)
    lines, bands = plotted_lines(figure), plotted_bands(figure)
    (label,) = {gid.split("|")[0] for gid in lines}
    assert label == "seed0 +2"
    legend_title = figure.axes[-1].get_legend().get_title().get_text()
    assert legend_title.startswith("seed0 +2 (mean ± std, 2-3 runs)")
    for column in COLUMNS:
        x, y = lines[f"{label}|{column}"]
        np.testing.assert_array_equal(x, [1, 2, 3, 4, 5])
        for epoch in range(1, 6):
            values = [t[column][epoch - 1] for t in tables if len(t[column]) >= epoch]
            mean, std = np.mean(values), np.std(values, ddof=1)
            # np.mean sums in another order than viz: equal up to the last bits.
            assert y[epoch - 1] == pytest.approx(mean, rel=1e-12)
            at_epoch = bands[f"{label}|{column}|band"]
            at_epoch = at_epoch[at_epoch[:, 0] == epoch][:, 1]
            # np.std and viz's sum of squared deviations round differently.
            assert at_epoch.min() == pytest.approx(mean - std, rel=1e-9)
            assert at_epoch.max() == pytest.approx(mean + std, rel=1e-9)


def test_different_configs_get_one_labelled_line_each(
    tmp_path: Path, write_run
) -> None:
    runs = [
        write_run(tmp_path / f"lr{lr}", config={"training": {"learning_rate": lr}})
        for lr in (0.1, 0.01)
    ]
    figure = build_curves_figure(runs)
    labels = {gid.split("|")[0] for gid in plotted_lines(figure)}
    assert labels == {"learning_rate=0.1", "learning_rate=0.01"}
    assert not plotted_bands(figure)
    written = plot_curves(runs)
    assert written == tmp_path / "curves_2runs.png"


def test_sweep_aggregate_csv(tmp_path: Path) -> None:
    header = ["group", "epoch"]
    header += [f"{column}_{stat}" for column in COLUMNS for stat in ("mean", "std")]
    header += ["n_runs"]
    rng = np.random.default_rng(3)
    rows, expected = [], {}
    for group in ("lr=0.001", "lr=0.01"):
        values = rng.uniform(0.1, 0.9, size=(4, len(COLUMNS) * 2))
        expected[group] = values
        rows += [
            ",".join([group, str(epoch + 1), *map(repr, values[epoch].tolist()), "3"])
            for epoch in range(4)
        ]
    path = tmp_path / "aggregate.csv"
    path.write_text("\n".join([",".join(header), *rows]) + "\n")
    figure = build_curves_figure([path])
    lines, bands = plotted_lines(figure), plotted_bands(figure)
    for group, values in expected.items():
        for index, column in enumerate(COLUMNS):
            mean, std = values[:, 2 * index], values[:, 2 * index + 1]
            # repr() round-trips floats and the band is mean ± std as given: exact.
            np.testing.assert_array_equal(lines[f"{group}|{column}"][1], mean)
            vertices = bands[f"{group}|{column}|band"]
            for epoch in range(1, 5):
                at_epoch = vertices[vertices[:, 0] == epoch][:, 1]
                assert at_epoch.min() == mean[epoch - 1] - std[epoch - 1]
                assert at_epoch.max() == mean[epoch - 1] + std[epoch - 1]
    assert plot_curves([path]) == tmp_path / "aggregate_curves.png"


def bad_metrics(run: Path, text: str) -> None:
    (run / "metrics.csv").write_text(text)


GOOD_HEADER = (
    "epoch,train_loss,train_acc,train_f1,train_auroc,"
    "val_loss,val_acc,val_f1,val_auroc,lr,epoch_seconds,samples_per_second"
)
GOOD_ROW = "1,0.5,0.7,0.6,0.8,0.6,0.65,0.6,0.7,0.001,5.0,900.0"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty file"),
        (GOOD_HEADER + "\n", "no data rows"),
        (
            GOOD_HEADER.replace(",val_auroc", "") + "\n1,2\n",
            "missing column(s) val_auroc",
        ),
        (GOOD_HEADER + "\n" + GOOD_ROW.replace("0.65", "abc"), "'abc' is not a number"),
        (GOOD_HEADER + "\n" + GOOD_ROW.replace("0.65", ""), "'' is not a number"),
        (GOOD_HEADER + "\n1,0.5,0.7\n", "3 fields"),
        (GOOD_HEADER + "\n" + GOOD_ROW + "\n" + GOOD_ROW, "epoch 1 does not follow"),
        (GOOD_HEADER + "\n" + GOOD_ROW.replace("1,", "1.5,", 1), "positive whole"),
    ],
)
def test_bad_metrics_raise_naming_file(tmp_path: Path, text: str, problem: str) -> None:
    run = tmp_path / "run"
    run.mkdir()
    bad_metrics(run, text)
    with pytest.raises(VizInputError, match=r"metrics\.csv") as caught:
        plot_curves([run])
    assert problem in str(caught.value)
    assert [p.name for p in run.iterdir()] == ["metrics.csv"]


def test_other_files_are_refused(tmp_path: Path, write_run) -> None:
    run = write_run(tmp_path / "run")
    plot_curves([run])
    with pytest.raises(VizInputError, match="not a run directory or an aggregate CSV"):
        plot_curves([run, run / "curves.png"])
    with pytest.raises(VizInputError, match="either run directories or one aggregate"):
        plot_curves([run, run / "metrics.csv"])


def test_run_dir_without_metrics(tmp_path: Path) -> None:
    with pytest.raises(VizInputError, match=r"no metrics\.csv"):
        plot_curves([tmp_path])
    with pytest.raises(VizInputError, match="no such run directory"):
        plot_curves([tmp_path / "missing"])


def test_a_huge_bad_cell_is_quoted_short(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    bad_metrics(run, GOOD_HEADER + "\n" + GOOD_ROW.replace("0.65", "x" * 10_000))
    with pytest.raises(VizInputError, match="is not a number") as caught:
        plot_curves([run])
    assert len(str(caught.value)) < len(str(run)) + 200
