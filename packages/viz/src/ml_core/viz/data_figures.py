"""EDA figures of the pixels: intensity histograms, patch means, example patches.

Lines carry gids (``"<class>|<channel>"``, ``"mean|<class>"``) so the plotted numbers
can be read back and compared with the data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ml_core.viz._figures import CLASS_COLORS, CLASS_NAMES
from ml_core.viz.patch_examples import PatchExamples
from ml_core.viz.patch_stats import LEVELS, MEAN_BIN_EDGES, SplitStats

CHANNEL_NAMES = ("red", "green", "blue")
CENTRE = (32, 32, 32)  # x0, y0, size of the region that decides the label


def split_names(stats: Sequence[SplitStats]) -> str:
    return ", ".join(f"{one.split} ({one.scanned_patches:,})" for one in stats)


def intensity_figure(stats: Sequence[SplitStats]) -> Figure:
    """Per channel: share of pixels at each level 0-255, one line per class."""
    totals = np.sum([one.pixel_histograms for one in stats], axis=0)
    figure = Figure(figsize=(13, 4.2), layout="constrained")
    axes = figure.subplots(1, 3, sharey=True)
    levels = np.arange(LEVELS)
    for channel, axis in enumerate(axes):
        for label, name in enumerate(CLASS_NAMES):
            counts = totals[label, channel]
            share = counts / counts.sum() if counts.sum() else counts.astype(float)
            (line,) = axis.plot(
                levels, share, color=CLASS_COLORS[label], label=f"{name}"
            )
            line.set_gid(f"{label}|{channel}")
        axis.set_title(f"{CHANNEL_NAMES[channel]} channel")
        axis.set_xlabel("pixel intensity (0-255)")
        axis.set_xlim(0, 255)
        axis.grid(visible=True, alpha=0.3)
    axes[0].set_ylabel("share of pixels")
    axes[0].legend(title="class")
    figure.suptitle(
        "Pixel intensity per channel and class, outlier patches excluded\n"
        f"splits: {split_names(stats)}"
    )
    return figure


def patch_mean_figure(stats: Sequence[SplitStats]) -> Figure:
    """Histogram of per-patch mean intensity per class; thresholds, outliers marked."""
    totals = np.sum([one.mean_histograms for one in stats], axis=0)
    figure = Figure(figsize=(12, 5), layout="constrained")
    axis, table_axis = figure.subplots(1, 2, width_ratios=(3, 1))
    for label, name in enumerate(CLASS_NAMES):
        steps = axis.stairs(
            totals[label],
            MEAN_BIN_EDGES,
            color=CLASS_COLORS[label],
            linewidth=1.5,
            label=name,
        )
        steps.set_gid(f"mean|{label}")
    for value, color, name in (
        (0, "black", "blackout"),
        (255, "darkorange", "washout"),
    ):
        axis.axvline(
            value,
            color=color,
            linestyle="--",
            linewidth=2,
            label=f"{name} (mean {value})",
        )
    axis.set_yscale("symlog", linthresh=1)
    axis.set_xlim(-5, 260)
    axis.set_xlabel("mean intensity of the patch (after NaN -> 0, clip to 0-255)")
    axis.set_ylabel("patches (symlog scale)")
    axis.grid(visible=True, alpha=0.3)
    axis.legend(loc="upper center")  # the middle of the range is empty on PCAM
    table_axis.axis("off")
    table_axis.text(
        0.0,
        0.5,
        _outlier_table(stats),
        transform=table_axis.transAxes,
        va="center",
        family="monospace",
        fontsize=10,
    )
    figure.suptitle(f"Per-patch mean intensity; splits: {split_names(stats)}")
    return figure


def _outlier_table(stats: Sequence[SplitStats]) -> str:
    """Outlier patch counts per split, as a monospace block."""
    kinds = (
        ("nan", "NaN"),
        ("over_255", "> 255"),
        ("all_0", "all-0"),
        ("all_255", "all-255"),
    )
    lines = ["Outlier patches", "(any NaN / any > 255 /", " all 0 / all 255)", ""]
    for one in stats:
        lines.append(f"{one.split} ({one.scanned_patches:,} scanned)")
        lines += [f"  {name:<8}{one.outliers[kind]:>9,}" for kind, name in kinds]
        lines.append("")
    return "\n".join(lines)


def examples_figure(examples: PatchExamples) -> Figure:
    """A row of example patches per class; the centre 32 x 32 region is outlined."""
    columns = max(1, *(len(found) for found in examples.patches.values()))
    figure = Figure(figsize=(1.25 * columns + 1.0, 3.2), layout="constrained")
    axes = np.atleast_2d(figure.subplots(len(CLASS_NAMES), columns))
    for label, row in enumerate(axes):
        for column, axis in enumerate(row):
            axis.set_xticks([])
            axis.set_yticks([])
            if column >= len(examples.patches[label]):
                axis.axis("off")
                continue
            axis.imshow(examples.patches[label][column])
            x0, y0, size = CENTRE
            axis.add_patch(
                Rectangle(
                    (x0 - 0.5, y0 - 0.5),
                    size,
                    size,
                    fill=False,
                    edgecolor="yellow",
                    linewidth=1.5,
                )
            )
            axis.set_title(f"#{examples.indices[label][column]}", fontsize=8)
        row[0].set_ylabel(CLASS_NAMES[label], fontsize=11)
    figure.suptitle(
        f"Example patches from the {examples.split} split "
        "(yellow: centre 32 x 32 px that decides the label)"
    )
    return figure
