"""The EDA figures; artists carry gids (``"<class>|<channel>"``, ...) to read back."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ml_core.eda._measurements import (
    LEVELS,
    MEAN_BIN_EDGES,
    MODES,
    OUTLIER_NAMES,
    PatchExamples,
    SamplerCheck,
    SplitStats,
)
from ml_core.viz import CLASS_COLORS, CLASS_NAMES

CHANNEL_NAMES = ("red", "green", "blue")
# The centre 32 x 32 px decide the label; pixel i spans i - 0.5 to i + 0.5.
CENTRE_CORNER, CENTRE_SIZE = (31.5, 31.5), 32
BAR_WIDTH = 0.38


def _split_names(stats: dict[str, SplitStats]) -> str:
    return ", ".join(
        f"{split} ({one.scanned_patches:,})" for split, one in stats.items()
    )


def intensity_figure(stats: dict[str, SplitStats]) -> Figure:
    """Per channel: share of pixels at each level 0-255, one line per class."""
    totals = np.sum([one.pixel_histograms for one in stats.values()], axis=0)
    figure = Figure(figsize=(13, 4.2), layout="constrained")
    axes = figure.subplots(1, 3, sharey=True)
    levels = np.arange(LEVELS)
    for channel, axis in enumerate(axes):
        for label, name in enumerate(CLASS_NAMES):
            counts = totals[label, channel]
            share = counts / counts.sum() if counts.sum() else counts.astype(float)
            (line,) = axis.plot(levels, share, color=CLASS_COLORS[label], label=name)
            line.set_gid(f"{label}|{channel}")
        axis.set_title(f"{CHANNEL_NAMES[channel]} channel")
        axis.set(xlabel="pixel intensity (0-255)", xlim=(0, 255))
        axis.grid(visible=True, alpha=0.3)
    axes[0].set_ylabel("share of pixels")
    axes[0].legend(title="class")
    figure.suptitle(
        "Pixel intensity per channel and class, outlier patches excluded\n"
        f"splits: {_split_names(stats)}"
    )
    return figure


def patch_mean_figure(stats: dict[str, SplitStats]) -> Figure:
    """Histogram of per-patch mean intensity per class; thresholds, outliers marked."""
    totals = np.sum([one.patch_mean_histograms for one in stats.values()], axis=0)
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
        label = f"{name} (mean {value})"
        axis.axvline(value, color=color, linestyle="--", linewidth=2, label=label)
    axis.set_yscale("symlog", linthresh=1)
    axis.set_xlim(-5, 260)
    axis.set_xlabel("mean intensity of the patch (after NaN -> 0, clip to 0-255)")
    axis.set_ylabel("patches (symlog scale)")
    axis.grid(visible=True, alpha=0.3)
    axis.legend(loc="upper center")  # the middle of the range is empty on PCAM
    table_axis.axis("off")
    # Outlier patch counts per split, as a monospace block.
    lines = ["Outlier patches", "(any NaN / any > 255 /", " all 0 / all 255)", ""]
    for split, one in stats.items():
        lines.append(f"{split} ({one.scanned_patches:,} scanned)")
        lines += [
            f"  {name:<8}{one.outliers[kind]:>9,}"
            for kind, name in OUTLIER_NAMES.items()
        ]
        lines.append("")
    table_axis.text(
        0.0,
        0.5,
        "\n".join(lines),
        transform=table_axis.transAxes,
        va="center",
        family="monospace",
        fontsize=10,
    )
    figure.suptitle(f"Per-patch mean intensity; splits: {_split_names(stats)}")
    return figure


def examples_figure(examples: PatchExamples) -> Figure:
    """A row of example patches per class; the centre 32 x 32 region is outlined."""
    columns = max(1, *(len(found) for found in examples.patches.values()))
    figure = Figure(figsize=(1.25 * columns + 1.0, 3.2), layout="constrained")
    axes = np.atleast_2d(figure.subplots(len(CLASS_NAMES), columns))
    for label, row in enumerate(axes):
        for column, axis in enumerate(row):
            axis.set(xticks=[], yticks=[])
            if column >= len(examples.patches[label]):
                axis.axis("off")
                continue
            axis.imshow(examples.patches[label][column])
            outline = Rectangle(CENTRE_CORNER, CENTRE_SIZE, CENTRE_SIZE, fill=False)
            outline.set(edgecolor="yellow", linewidth=1.5)
            axis.add_patch(outline)
            axis.set_title(f"#{examples.indices[label][column]}", fontsize=8)
        row[0].set_ylabel(CLASS_NAMES[label], fontsize=11)
    figure.suptitle(
        "Example patches from the train split "
        "(yellow: centre 32 x 32 px that decides the label)"
    )
    return figure


def class_balance_figure(stats: dict[str, SplitStats]) -> Figure:
    """Patches per class in every split, each bar labelled with count and share."""
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axis = figure.subplots()
    positions = np.arange(len(stats))
    class_counts = np.array([one.class_counts for one in stats.values()])
    totals = class_counts.sum(axis=1)
    for label, name in enumerate(CLASS_NAMES):
        counts = class_counts[:, label]
        offsets = positions + (label - 0.5) * BAR_WIDTH
        bars = axis.bar(
            offsets, counts, BAR_WIDTH, color=CLASS_COLORS[label], label=name
        )
        for bar, split in zip(bars, stats, strict=True):
            bar.set_gid(f"balance|{split}|{label}")
        texts = [
            f"{count:,}\n{count / total:.1%}"
            for count, total in zip(counts, totals, strict=True)
        ]
        axis.bar_label(bars, labels=texts, fontsize=8)
    axis.set_xticks(positions, list(stats))
    axis.set(xlabel="split", ylabel="patches")
    axis.margins(y=0.2)
    axis.legend(title="class")
    axis.set_title("Class balance per split (all labels in each file)")
    return figure


def sampler_figure(check: SamplerCheck) -> Figure:
    """Expected vs measured positives per batch, without and with balancing."""
    figure = Figure(figsize=(8, 4.8), layout="constrained")
    axis = figure.subplots()
    positions = np.arange(len(MODES))
    left, right = positions - BAR_WIDTH / 2, positions + BAR_WIDTH / 2
    expected = list(check.expected_positives_per_batch.values())
    measured = list(check.measured_positives_per_batch.values())
    means = [one.mean for one in measured]
    errors = [2 * one.standard_error for one in measured]
    label = f"measured ({measured[0].batches} batches each, ± 2 SEM)"
    expected_bars = axis.bar(left, expected, BAR_WIDTH, color="0.65", label="expected")
    measured_bars = axis.bar(
        right, means, BAR_WIDTH, yerr=errors, capsize=4, color="tab:green", label=label
    )
    for kind, bars in (("expected", expected_bars), ("measured", measured_bars)):
        for bar, mode in zip(bars, MODES, strict=True):
            bar.set_gid(f"sampler|{kind}|{mode}")
        axis.bar_label(bars, fmt="%.2f", padding=3)
    half = check.batch_size / 2
    label = f"half the batch ({half:g})"
    axis.axhline(half, color="black", linestyle=":", linewidth=1, label=label)
    axis.set_xticks(
        positions,
        ["balance: false\n(shuffled, no sampler)", "balance: true\n(weighted sampler)"],
    )
    axis.set_ylabel(f"positives per batch of {check.batch_size}")
    axis.set_ylim(0, check.batch_size * 0.75)
    axis.legend(loc="upper left")
    negatives, positives = check.class_counts
    axis.set_title(
        f"Sampler check on train: {negatives:,} normal / {positives:,} tumour "
        f"({positives / (negatives + positives):.1%} positive)"
    )
    return figure
