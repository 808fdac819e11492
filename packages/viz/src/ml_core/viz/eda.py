"""``ml-viz eda``: figures and a summary of a PCAM-format data directory.

Everything is computed and rendered in memory first; files are written (atomically) only
once all of it succeeded.
"""

from __future__ import annotations

import json
from pathlib import Path

from ml_core.cli.viz import EdaOptions
from ml_core.contract import write_bytes_atomic, write_text_atomic
from ml_core.viz._errors import VizInputError
from ml_core.viz._figures import figure_to_png
from ml_core.viz.balance_figures import class_balance_figure, sampler_figure
from ml_core.viz.data_figures import (
    examples_figure,
    intensity_figure,
    patch_mean_figure,
)
from ml_core.viz.eda_summary import summary_dict, summary_text
from ml_core.viz.patch_examples import pick_examples
from ml_core.viz.patch_stats import scan_split
from ml_core.viz.pcam_files import open_pcam_splits
from ml_core.viz.sampler_check import check_sampler


def default_eda_dir(data_dir: Path) -> Path:
    """``./experiments/eda/<data dir name>``, next to the runs, not in the data dir.

    Data directories are often read-only shared copies.
    """
    return Path("experiments") / "eda" / data_dir.resolve().name


def run_eda(
    data_dir: Path | str,
    out_dir: Path | str | None = None,
    options: EdaOptions | None = None,
) -> list[Path]:
    """Scan ``data_dir`` and write five PNGs, summary.json and summary.txt.

    ``options.max_patches`` limits the scan to the first patches of each split (class
    counts always use every label). Returns the paths written.
    """
    options = options or EdaOptions()
    check_options(options)
    data_dir = Path(data_dir)
    splits = open_pcam_splits(data_dir)
    train = next(split for split in splits if split.split == "train")
    stats = [scan_split(split, options.max_patches) for split in splits]
    examples = pick_examples(train, options.examples_per_class)
    train_counts = next(one for one in stats if one.split == "train").class_counts
    sampler = check_sampler(
        data_dir,
        train_counts,
        options.batch_size,
        options.seed,
        options.sampler_batches,
    )
    summary = summary_dict(data_dir, stats, examples, sampler, options.seed)
    outputs = {
        "intensity_histograms.png": figure_to_png(intensity_figure(stats)),
        "patch_means.png": figure_to_png(patch_mean_figure(stats)),
        "example_patches.png": figure_to_png(examples_figure(examples)),
        "class_balance.png": figure_to_png(class_balance_figure(stats)),
        "sampler.png": figure_to_png(sampler_figure(sampler)),
        "summary.json": (json.dumps(summary, indent=1) + "\n").encode(),
    }
    target = Path(out_dir) if out_dir is not None else default_eda_dir(data_dir)
    written = []
    for name, content in outputs.items():
        write_bytes_atomic(target / name, content)
        written.append(target / name)
    write_text_atomic(target / "summary.txt", summary_text(summary))
    return [*written, target / "summary.txt"]


def check_options(options: EdaOptions) -> None:
    """VizInputError naming the first option out of its range."""
    for name in ("batch_size", "sampler_batches", "examples_per_class", "max_patches"):
        value = getattr(options, name)
        if value is not None and value < 1:
            raise VizInputError(f"{name}: must be at least 1, got {value}")
    if options.seed < 0:
        raise VizInputError(f"seed: must be non-negative, got {options.seed}")
