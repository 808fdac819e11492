"""The learning-curves figure; axes carry the metric as ``gid``, lines and bands
``"<series label>|<column>[|band]"``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ml_core.contract import write_bytes_atomic
from ml_core.viz._curve_series import CurveSeries, CurvesInput, load_curves_input
from ml_core.viz._figures import figure_to_png

# (panel gid, title, y label); a metric panel plots "train_<gid>" and "val_<gid>".
PANELS = (
    ("loss", "Loss", "cross-entropy loss"),
    ("acc", "Accuracy", "accuracy"),
    ("f1", "F1 score", "F1 (positive class)"),
    ("auroc", "AUROC", "area under ROC"),
    ("lr", "Learning rate", "learning rate"),
)
BOUNDED_PANELS = frozenset({"acc", "f1", "auroc"})
SPLIT_STYLES = {"train": "--", "val": "-"}
SPLIT_NAMES = {"train": "train", "val": "validation"}
SINGLE_SERIES_COLORS = {"train": "tab:blue", "val": "tab:orange", "lr": "tab:green"}
MARKER_MAX_EPOCHS = 40


def build_curves_figure(inputs: Sequence[Path | str]) -> Figure:
    """The figure :func:`plot_curves` writes for the same inputs, not saved."""
    return _figure(load_curves_input(inputs))


def plot_curves(
    inputs: Sequence[Path | str], out_path: Path | str | None = None
) -> Path:
    """Write the curves PNG for run directories (or one sweep aggregate CSV); returns
    its path. Every input is checked first; bad input raises VizInputError."""
    loaded = load_curves_input(inputs)
    target = Path(out_path) if out_path is not None else loaded.default_out
    write_bytes_atomic(target, figure_to_png(_figure(loaded)))
    return target


def _figure(loaded: CurvesInput) -> Figure:
    """2 x 3 panels: four train/val metrics, the learning rate, the legend; the line
    style tells train (dashed) from validation (solid)."""
    series = loaded.series
    figure = Figure(figsize=(13, 7.5), layout="constrained")
    axes = figure.subplots(2, 3).ravel()
    for axis, (gid, panel_title, y_label) in zip(axes, PANELS, strict=False):
        axis.set_gid(gid)
        # A metric panel draws train and validation, the lr panel one line per series.
        lines = {"lr": "-"} if gid == "lr" else SPLIT_STYLES
        for index, one in enumerate(series):
            for split, style in lines.items():
                column = "lr" if gid == "lr" else f"{split}_{gid}"
                _draw(axis, one, column, _color(series, index, split), style)
        axis.set(title=panel_title, xlabel="epoch", ylabel=y_label)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(visible=True, alpha=0.3)
        if gid in BOUNDED_PANELS:
            # A ± std band of a metric in [0, 1] can reach past it; the axis need not.
            low, high = axis.get_ylim()
            axis.set_ylim(max(low, -0.02), min(high, 1.02))
        elif gid == "lr":
            # A decaying schedule spans decades; a log axis keeps its tail readable.
            rates = np.concatenate([one.mean["lr"] for one in series])
            rates = rates[np.isfinite(rates)]
            if rates.size and rates.min() > 0 and rates.max() / rates.min() >= 10:
                axis.set_yscale("log")
    _legend_panel(axes[-1], series)
    last = max(int(one.epochs[-1]) for one in series)
    planned = loaded.planned_epochs
    if planned is not None and last < planned:
        note = f"  (epoch {last} of {planned}: running or stopped early)"
    else:
        note = f"  ({last} epoch{'s' if last != 1 else ''})"
    figure.suptitle(loaded.title + note, fontsize=14)
    return figure


def _draw(axis: Axes, one: CurveSeries, column: str, color: str, style: str) -> None:
    values = one.mean[column]
    marker = "o" if len(one.epochs) <= MARKER_MAX_EPOCHS else None
    (line,) = axis.plot(
        one.epochs, values, linestyle=style, color=color, marker=marker, markersize=3
    )
    line.set_gid(f"{one.label}|{column}")
    if one.std is not None:
        low, high = values - one.std[column], values + one.std[column]
        band = axis.fill_between(
            one.epochs, low, high, color=color, alpha=0.2, linewidth=0
        )
        band.set_gid(f"{one.label}|{column}|band")


def _color(series: Sequence[CurveSeries], index: int, split: str) -> str:
    """One series: a colour per split (train, val, lr); several: a colour per series."""
    return SINGLE_SERIES_COLORS[split] if len(series) == 1 else f"C{index % 10}"


def _legend_panel(axis: Axes, series: Sequence[CurveSeries]) -> None:
    axis.axis("off")
    # One series: the split colours; several: grey line styles, then a colour each.
    single = len(series) == 1
    handles = []
    for split, style in SPLIT_STYLES.items():
        color = _color(series, 0, split) if single else "0.3"
        line = Line2D([], [], color=color, linestyle=style, label=SPLIT_NAMES[split])
        handles.append(line)
    title = series[0].legend_label if single else None
    if not single:
        for index, one in enumerate(series):
            color = _color(series, index, "val")
            line = Line2D([], [], color=color, linewidth=3, label=one.legend_label)
            handles.append(line)
    if any(one.std is not None for one in series):
        title = (title + "\n" if title else "") + "shaded: ± 1 std over runs"
    axis.legend(handles=handles, loc="center", title=title, frameon=False, fontsize=11)
