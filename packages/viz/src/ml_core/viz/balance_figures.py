"""EDA figures of the labels: class balance per split and the sampler check."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from ml_core.viz._figures import CLASS_COLORS, CLASS_NAMES
from ml_core.viz.patch_stats import SplitStats
from ml_core.viz.sampler_check import SamplerCheck

BAR_WIDTH = 0.38


def class_balance_figure(stats: Sequence[SplitStats]) -> Figure:
    """Patches per class in every split, each bar labelled with count and share."""
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axis = figure.subplots()
    positions = np.arange(len(stats))
    for label, name in enumerate(CLASS_NAMES):
        counts = np.array([one.class_counts[label] for one in stats])
        totals = np.array([one.class_counts.sum() for one in stats])
        bars = axis.bar(
            positions + (label - 0.5) * BAR_WIDTH,
            counts,
            BAR_WIDTH,
            color=CLASS_COLORS[label],
            label=name,
        )
        for bar, one in zip(bars, stats, strict=True):
            bar.set_gid(f"balance|{one.split}|{label}")
        axis.bar_label(
            bars,
            labels=[f"{c:,}\n{c / t:.1%}" for c, t in zip(counts, totals, strict=True)],
            fontsize=8,
        )
    axis.set_xticks(positions, [one.split for one in stats])
    axis.set_xlabel("split")
    axis.set_ylabel("patches")
    axis.margins(y=0.2)
    axis.legend(title="class")
    axis.set_title("Class balance per split (all labels in each file)")
    return figure


def sampler_figure(check: SamplerCheck) -> Figure:
    """Expected vs measured positives per batch, without and with balancing."""
    figure = Figure(figsize=(8, 4.8), layout="constrained")
    axis = figure.subplots()
    modes = [
        "balance: false\n(shuffled, no sampler)",
        "balance: true\n(weighted sampler)",
    ]
    expected = [check.expected_without, check.expected_with]
    measured = [check.measured_without, check.measured_with]
    positions = np.arange(2)
    expected_bars = axis.bar(
        positions - BAR_WIDTH / 2, expected, BAR_WIDTH, color="0.65", label="expected"
    )
    for bar, mode in zip(expected_bars, ("without", "with"), strict=True):
        bar.set_gid(f"sampler|expected|{mode}")
    measured_bars = axis.bar(
        positions + BAR_WIDTH / 2,
        [one.mean for one in measured],
        BAR_WIDTH,
        yerr=[2 * one.standard_error for one in measured],
        capsize=4,
        color="tab:green",
        label=f"measured ({measured[0].batches} batches each, ± 2 SEM)",
    )
    for bar, mode in zip(measured_bars, ("without", "with"), strict=True):
        bar.set_gid(f"sampler|measured|{mode}")
    for bars in (expected_bars, measured_bars):
        axis.bar_label(bars, fmt="%.2f", padding=3)
    axis.axhline(
        check.batch_size / 2,
        color="black",
        linestyle=":",
        linewidth=1,
        label=f"half the batch ({check.batch_size / 2:g})",
    )
    axis.set_xticks(positions, modes)
    axis.set_ylabel(f"positives per batch of {check.batch_size}")
    axis.set_ylim(0, check.batch_size * 0.75)
    axis.legend(loc="upper left")
    negatives, positives = check.class_counts
    axis.set_title(
        f"Sampler check on train: {negatives:,} normal / {positives:,} tumour "
        f"({positives / (negatives + positives):.1%} positive)"
    )
    return figure
