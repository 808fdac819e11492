"""The EDA numbers as JSON (everything the figures show) and as a short text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ml_core.viz.patch_examples import PatchExamples
from ml_core.viz.patch_stats import MEAN_BIN_EDGES, SplitStats
from ml_core.viz.sampler_check import SamplerCheck


def summary_dict(
    data_dir: Path,
    stats: Sequence[SplitStats],
    examples: PatchExamples,
    sampler: SamplerCheck,
    seed: int,
) -> dict[str, Any]:
    """JSON-able summary; histograms are indexed [class][channel][level]."""
    return {
        "data_dir": str(data_dir),
        "patch_mean_bin_edges": MEAN_BIN_EDGES.tolist(),
        "splits": {one.split: _split_dict(one) for one in stats},
        "examples": {
            "split": examples.split,
            "indices": {str(label): found for label, found in examples.indices.items()},
        },
        "sampler": {
            "split": "train",
            "seed": seed,
            "batch_size": sampler.batch_size,
            "class_counts": list(sampler.class_counts),
            "expected_positives_per_batch": {
                "without_sampler": sampler.expected_without,
                "with_sampler": sampler.expected_with,
            },
            "measured_positives_per_batch": {
                "without_sampler": asdict(sampler.measured_without),
                "with_sampler": asdict(sampler.measured_with),
            },
        },
    }


def summary_text(summary: dict[str, Any]) -> str:
    """A few human-readable lines of the summary."""
    lines = [f"PCAM EDA of {summary['data_dir']}", ""]
    for split, numbers in summary["splits"].items():
        normal, tumour = numbers["class_counts"]
        outliers = numbers["outliers"]
        lines.append(
            f"{split}: {numbers['total_patches']:,} patches ({numbers['dtype']}), "
            f"{normal:,} normal / {tumour:,} tumour "
            f"({numbers['positive_fraction']:.1%} positive); "
            f"outliers in {numbers['scanned_patches']:,} scanned: "
            f"NaN {outliers['nan']:,}, >255 {outliers['over_255']:,}, "
            f"all-0 {outliers['all_0']:,}, all-255 {outliers['all_255']:,}"
        )
    sampler = summary["sampler"]
    expected = sampler["expected_positives_per_batch"]
    measured = sampler["measured_positives_per_batch"]
    batch, seed = sampler["batch_size"], sampler["seed"]
    lines += ["", f"Positives per train batch of {batch} (seed {seed}):"]
    for key, name in (("without_sampler", "without"), ("with_sampler", "with")):
        lines.append(
            f"  {name} sampler: expected {expected[key]:.2f}, measured "
            f"{measured[key]['mean']:.2f} ± {measured[key]['standard_error']:.2f} "
            f"(SEM, {measured[key]['batches']} batches)"
        )
    return "\n".join(lines) + "\n"


def _split_dict(stats: SplitStats) -> dict[str, Any]:
    total = int(stats.class_counts.sum())
    return {
        "dtype": stats.dtype,
        "total_patches": stats.total_patches,
        "scanned_patches": stats.scanned_patches,
        "class_counts": stats.class_counts.tolist(),
        "positive_fraction": int(stats.class_counts[1]) / total,
        "outliers": dict(stats.outliers),
        "pixel_histograms": stats.pixel_histograms.tolist(),
        "patch_mean_histograms": stats.mean_histograms.tolist(),
    }
