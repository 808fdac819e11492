"""``ml-viz eda``: figures and a summary (JSON and text) of a PCAM-format directory."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ml_core.cli.viz import EdaOptions
from ml_core.contract import write_bytes_atomic
from ml_core.data import DataError
from ml_core.eda._eda_figures import (
    class_balance_figure,
    examples_figure,
    intensity_figure,
    patch_mean_figure,
    sampler_figure,
)
from ml_core.eda._measurements import (
    MEAN_BIN_EDGES,
    OUTLIER_NAMES,
    check_sampler,
    open_pcam_splits,
    pick_examples,
    scan_split,
)
from ml_core.viz import VizInputError, figure_to_png

# Options that count something: a zero or negative value cannot be meant.
COUNTS = ("batch_size", "sampler_batches", "max_patches", "examples_per_class")


def run_eda(
    data_dir: Path | str,
    out_dir: Path | str | None = None,
    options: EdaOptions | None = None,
) -> list[Path]:
    """Scan ``data_dir``; write five PNGs, summary.json (every number the figures show;
    histograms are [class][channel][level]) and summary.txt to ``out_dir``, all computed
    and rendered in memory before the first file is written."""
    options = options or EdaOptions()
    for name in COUNTS:
        value = getattr(options, name)
        if value is not None and value < 1:
            raise VizInputError(f"{name}: must be at least 1, got {value}")
    if options.seed < 0:
        raise VizInputError(f"seed: must be non-negative, got {options.seed}")
    data_dir = Path(data_dir)
    try:
        splits = open_pcam_splits(data_dir)
        stats = {
            split: scan_split(files, options.max_patches)
            for split, files in splits.items()
        }
        examples = pick_examples(splits["train"], options.examples_per_class)
        sampler = check_sampler(data_dir, stats["train"].class_counts, options)
    except DataError as error:
        raise VizInputError(str(error)) from None
    summary = {
        "data_dir": str(data_dir),
        "patch_mean_bin_edges": MEAN_BIN_EDGES,
        "splits": {split: asdict(one) for split, one in stats.items()},
        "examples": {"split": "train", "indices": examples.indices},
        "sampler": asdict(sampler),
    }
    outputs = {
        "intensity_histograms.png": figure_to_png(intensity_figure(stats)),
        "patch_means.png": figure_to_png(patch_mean_figure(stats)),
        "example_patches.png": figure_to_png(examples_figure(examples)),
        "class_balance.png": figure_to_png(class_balance_figure(stats)),
        "sampler.png": figure_to_png(sampler_figure(sampler)),
        # numpy arrays as lists; int keys (class labels) become strings.
        "summary.json": (
            json.dumps(summary, indent=1, default=np.ndarray.tolist) + "\n"
        ).encode(),
        "summary.txt": summary_text(summary).encode(),
    }
    # Default ./experiments/eda/<data dir name>: data directories are often read-only.
    default = Path("experiments") / "eda" / data_dir.resolve().name
    target = Path(out_dir) if out_dir is not None else default
    for name, content in outputs.items():
        write_bytes_atomic(target / name, content)
    return [target / name for name in outputs]


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
            + ", ".join(f"{OUTLIER_NAMES[kind]} {n:,}" for kind, n in outliers.items())
        )
    sampler = summary["sampler"]
    expected = sampler["expected_positives_per_batch"]
    measured = sampler["measured_positives_per_batch"]
    batch, seed = sampler["batch_size"], sampler["seed"]
    lines += ["", f"Positives per train batch of {batch} (seed {seed}):"]
    for key in expected:
        lines.append(
            f"  {key.replace('_', ' ')}: expected {expected[key]:.2f}, measured "
            f"{measured[key]['mean']:.2f} ± {measured[key]['standard_error']:.2f} "
            f"(SEM, {measured[key]['batches']} batches)"
        )
    return "\n".join(lines) + "\n"
