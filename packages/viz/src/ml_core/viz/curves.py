"""The learning-curves figure: loss, accuracy, F1, AUROC (train vs val), learning rate.

Each panel's Axes carries the metric as its ``gid`` and each line / band the gid
``"<series label>|<column>"``, so tests and tools can read the plotted numbers back.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ml_core.contract import write_bytes_atomic
from ml_core.viz.curve_series import CurveSeries
from ml_core.viz.curves_input import load_curves_input
from ml_core.viz.png import figure_to_png

# (panel gid, title, y label); each panel plots "train_<gid>" and "val_<gid>".
METRIC_PANELS = (
    ("loss", "Loss", "cross-entropy loss"),
    ("acc", "Accuracy", "accuracy"),
    ("f1", "F1 score", "F1 (positive class)"),
    ("auroc", "AUROC", "area under ROC"),
)
BOUNDED_PANELS = frozenset({"acc", "f1", "auroc"})
SPLIT_STYLES = {"train": "--", "val": "-"}
BAND_ALPHA = 0.2
MARKER_MAX_EPOCHS = 40


def build_curves_figure(
    series: Sequence[CurveSeries], title: str, planned_epochs: int | None = None
) -> Figure:
    """A 2 x 3 figure: four train/val metric panels, a learning-rate panel, a legend.

    One series: train and validation get their own colours. Several: each series has
    a colour and the line style tells train (dashed) from validation (solid).
    """
    figure = Figure(figsize=(13, 7.5), layout="constrained")
    axes = figure.subplots(2, 3).ravel()
    colors = _colors(series)
    for axis, (gid, panel_title, y_label) in zip(axes, METRIC_PANELS, strict=False):
        axis.set_gid(gid)
        for one, by_split in zip(series, colors, strict=True):
            for split, style in SPLIT_STYLES.items():
                _draw(axis, one, f"{split}_{gid}", by_split[split], style)
        _decorate(axis, panel_title, y_label)
        if gid in BOUNDED_PANELS:
            _clamp_to_unit_range(axis)
    lr_axis = axes[len(METRIC_PANELS)]
    lr_axis.set_gid("lr")
    for one, by_split in zip(series, colors, strict=True):
        _draw(lr_axis, one, "lr", by_split["lr"], "-")
    _decorate(lr_axis, "Learning rate", "learning rate")
    _use_log_scale_if_spread(lr_axis, series)
    _legend_panel(axes[-1], series, colors)
    figure.suptitle(title + _progress_note(series, planned_epochs), fontsize=14)
    return figure


def plot_curves(
    run_dirs: Sequence[Path | str], out_path: Path | str | None = None
) -> Path:
    """Write the curves PNG for run directories (or one sweep aggregate CSV).

    Default output: ``<run_dir>/curves.png`` for one run, ``<first run's
    parent>/curves_<n>runs.png`` for several, ``<csv stem>_curves.png`` next to an
    aggregate CSV. Every input is validated before anything is written; bad input raises
    :class:`VizInputError`. Returns the path written.
    """
    loaded = load_curves_input(run_dirs)
    figure = build_curves_figure(loaded.series, loaded.title, loaded.planned_epochs)
    target = Path(out_path) if out_path is not None else loaded.default_out
    write_bytes_atomic(target, figure_to_png(figure))
    return target


def _draw(axis: Axes, one: CurveSeries, column: str, color: str, style: str) -> None:
    values = one.mean[column]
    marker = "o" if len(one.epochs) <= MARKER_MAX_EPOCHS else None
    (line,) = axis.plot(
        one.epochs, values, linestyle=style, color=color, marker=marker, markersize=3
    )
    line.set_gid(f"{one.label}|{column}")
    if one.std is not None:
        band = axis.fill_between(
            one.epochs,
            values - one.std[column],
            values + one.std[column],
            color=color,
            alpha=BAND_ALPHA,
            linewidth=0,
        )
        band.set_gid(f"{one.label}|{column}|band")


def _decorate(axis: Axes, title: str, y_label: str) -> None:
    axis.set_title(title)
    axis.set_xlabel("epoch")
    axis.set_ylabel(y_label)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.grid(visible=True, alpha=0.3)


def _clamp_to_unit_range(axis: Axes) -> None:
    # A ± std band of a metric in [0, 1] can reach past it; the axis need not follow.
    low, high = axis.get_ylim()
    axis.set_ylim(max(low, -0.02), min(high, 1.02))


def _use_log_scale_if_spread(axis: Axes, series: Sequence[CurveSeries]) -> None:
    # A decaying schedule spans decades; a log axis keeps its tail readable.
    values = np.concatenate([one.mean["lr"] for one in series])
    values = values[np.isfinite(values)]
    if values.size and values.min() > 0 and values.max() / values.min() >= 10:
        axis.set_yscale("log")


def _colors(series: Sequence[CurveSeries]) -> list[dict[str, str]]:
    """Colour of each series' train, val and lr line."""
    if len(series) == 1:
        return [{"train": "tab:blue", "val": "tab:orange", "lr": "tab:green"}]
    return [
        dict.fromkeys(("train", "val", "lr"), f"C{i % 10}") for i in range(len(series))
    ]


def _legend_panel(
    axis: Axes, series: Sequence[CurveSeries], colors: list[dict[str, str]]
) -> None:
    axis.axis("off")
    if len(series) == 1:
        handles = [
            Line2D([], [], color=colors[0][split], linestyle=style, label=name)
            for split, style, name in (
                ("train", SPLIT_STYLES["train"], "train"),
                ("val", SPLIT_STYLES["val"], "validation"),
            )
        ]
        title = series[0].legend_label
    else:
        handles = [
            Line2D([], [], color="0.3", linestyle=SPLIT_STYLES["train"], label="train"),
            Line2D(
                [], [], color="0.3", linestyle=SPLIT_STYLES["val"], label="validation"
            ),
        ]
        handles += [
            Line2D([], [], color=by_split["val"], linewidth=3, label=one.legend_label)
            for one, by_split in zip(series, colors, strict=True)
        ]
        title = None
    if any(one.std is not None for one in series):
        title = (title + "\n" if title else "") + "shaded: ± 1 std over runs"
    axis.legend(handles=handles, loc="center", title=title, frameon=False, fontsize=11)


def _progress_note(series: Sequence[CurveSeries], planned: int | None) -> str:
    last = max(int(one.epochs[-1]) for one in series)
    if planned is not None and last < planned:
        return f"  (epoch {last} of {planned}: running or stopped early)"
    return f"  ({last} epoch{'s' if last != 1 else ''})"
