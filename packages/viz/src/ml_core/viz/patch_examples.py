"""Pick a few clean example patches per class for the EDA grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml_core.viz.patch_stats import NUM_CLASSES, clean_to_uint8, outlier_flags
from ml_core.viz.pcam_files import SplitFiles, iter_patch_chunks

EXAMPLES_PER_CLASS = 8
# Look no further than this into the file: PCAM is shuffled, so both classes show early.
SEARCH_PATCHES = 4096
CHUNK_PATCHES = 512


@dataclass(frozen=True)
class PatchExamples:
    """Up to ``EXAMPLES_PER_CLASS`` patches (uint8 HWC) per class and their indices."""

    split: str
    indices: dict[int, list[int]]
    patches: dict[int, list[np.ndarray]]


def pick_examples(
    split: SplitFiles, per_class: int = EXAMPLES_PER_CLASS
) -> PatchExamples:
    """The first ``per_class`` patches of each class that are not outliers."""
    indices: dict[int, list[int]] = {label: [] for label in range(NUM_CLASSES)}
    patches: dict[int, list[np.ndarray]] = {label: [] for label in range(NUM_CLASSES)}
    limit = min(SEARCH_PATCHES, split.num_patches)
    for start, raw in iter_patch_chunks(split, CHUNK_PATCHES, limit):
        cleaned = clean_to_uint8(raw)
        flagged = np.logical_or.reduce(list(outlier_flags(raw, cleaned).values()))
        for offset in np.flatnonzero(~flagged):
            label = int(split.labels[start + offset])
            if len(indices[label]) < per_class:
                indices[label].append(int(start + offset))
                patches[label].append(cleaned[offset])
        if all(len(found) == per_class for found in indices.values()):
            break
    return PatchExamples(split.split, indices, patches)
