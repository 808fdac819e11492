"""Synthetic H&E-like patches, rendered for a batch at once: nuclei of normal (small,
pale), lymphocyte-like (small, dark) and tumour-like (large, dark) cells on stroma."""

from __future__ import annotations

from functools import cache

import numpy as np

from ml_core.data._layout import IMAGE_SHAPE

SIZE = IMAGE_SHAPE[0]
CENTRE = (32, 64)  # PCAM's label region: the centre 32x32 px
_EOSIN = np.array([230.0, 165.0, 200.0], dtype=np.float32)
_HAEMATOXYLIN = np.array([85.0, 50.0, 135.0], dtype=np.float32)
_PALE = np.array([242.0, 228.0, 238.0], dtype=np.float32)
# Share of negatives with a tumour cluster outside the centre, and with crowded
# lymphocyte-like nuclei inside it: the hard negatives.
_PERIPHERAL_TUMOUR_SHARE = 0.35
_CENTRAL_LYMPHOCYTE_SHARE = 0.3
# Tumour cells per positive patch (low, high) and their spread around the cluster seed.
TUMOUR_CELLS = (12, 40)
TUMOUR_SPREAD = 12.0
# Nuclei of a batch as flat arrays (image, y, x, radius, darkness), stamped at the end.
_Nuclei = list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


@cache
def _disc(radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dy, dx, weight) of a disc with a soft one-pixel edge."""
    span = np.arange(-radius - 1, radius + 2)
    dy, dx = np.meshgrid(span, span, indexing="ij")
    weight = np.clip(radius + 0.5 - np.hypot(dy, dx), 0.0, 1.0).astype(np.float32)
    keep = weight > 0
    return dy[keep], dx[keep], weight[keep]


def _coverage(nuclei: _Nuclei, count: int) -> np.ndarray:
    """(count, 96, 96) nucleus coverage in [0, 1]: the darkest nucleus wins a pixel."""
    canvas = np.zeros((count, SIZE, SIZE), dtype=np.float32)
    image, y, x, radius, darkness = (
        np.concatenate(p) for p in zip(*nuclei, strict=True)
    )
    for size in np.unique(radius):
        chosen = radius == size
        dy, dx, weight = _disc(int(size))
        ys = y[chosen, None] + dy
        xs = x[chosen, None] + dx
        ids = np.broadcast_to(image[chosen, None], ys.shape)
        values = darkness[chosen, None] * weight
        inside = (ys >= 0) & (ys < SIZE) & (xs >= 0) & (xs < SIZE)
        np.maximum.at(canvas, (ids[inside], ys[inside], xs[inside]), values[inside])
    return canvas


@cache
def _upsampler(coarse: int) -> np.ndarray:
    """(96, coarse) linear-interpolation matrix (edges clamped): smooth upsampling as
    two matmuls; column k interpolates the k-th coarse unit vector."""
    position = (np.arange(SIZE) + 0.5) * coarse / SIZE - 0.5
    grid = np.arange(coarse)
    columns = [np.interp(position, grid, unit) for unit in np.eye(coarse)]
    return np.stack(columns, axis=1).astype(np.float32)


def _scatter(
    nuclei: _Nuclei,
    images: np.ndarray,
    counts: np.ndarray,
    *,
    centre_boxes: np.ndarray,
    clip_boxes: np.ndarray,
    spread: float | None,
    radii: tuple[int, ...],
    darkness: tuple[float, float],
    rng: np.random.Generator,
) -> None:
    """Add ``counts[k]`` nuclei to image ``images[k]``: a cluster around a random point
    of ``centre_boxes[k]``, spread ``spread`` px (``None``: uniform), clipped into
    ``clip_boxes[k]``. Boxes are (n, 2, 2): per axis (y, x) a (low, high) pair."""
    owner = np.repeat(images, counts)
    low = np.repeat(clip_boxes[:, :, 0], counts, axis=0)
    high = np.repeat(clip_boxes[:, :, 1], counts, axis=0)
    if spread is None:
        positions = rng.uniform(low, high)
    else:
        centres = rng.uniform(centre_boxes[:, :, 0], centre_boxes[:, :, 1])
        around = np.repeat(centres, counts, axis=0)
        positions = around + rng.normal(0.0, spread, size=around.shape)
    positions = np.clip(np.rint(positions), low, high - 1).astype(np.int64)
    nuclei.append(
        (
            owner,
            positions[:, 0],
            positions[:, 1],
            rng.choice(radii, size=len(owner)),
            rng.uniform(*darkness, size=len(owner)).astype(np.float32),
        )
    )


def _boxes(count: int, low: float, high: float) -> np.ndarray:
    return np.broadcast_to(np.array([[low, high], [low, high]]), (count, 2, 2))


def render_patches(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uint8 (96, 96, 3) patch per label; positives have tumour in the centre."""
    count = len(labels)
    ids = np.arange(count)
    nuclei: _Nuclei = []
    tumour = {"radii": (3, 4, 5), "darkness": (0.75, 0.95)}
    # Normal tissue nuclei all over the patch.
    _scatter(
        nuclei, ids, rng.poisson(14, count), centre_boxes=_boxes(count, 0, SIZE),
        clip_boxes=_boxes(count, 0, SIZE), spread=None,
        radii=(2, 3), darkness=(0.4, 0.65), rng=rng,
    )  # fmt: skip
    # Positives: a tumour cluster seeded in the centre region, free to spread beyond it.
    positive = ids[labels == 1]
    _scatter(
        nuclei, positive, rng.integers(TUMOUR_CELLS[0], TUMOUR_CELLS[1], len(positive)),
        centre_boxes=_boxes(len(positive), 36, 60),
        clip_boxes=_boxes(len(positive), 0, SIZE), spread=TUMOUR_SPREAD,
        rng=rng, **tumour,
    )  # fmt: skip
    negative = ids[labels == 0]
    peripheral = negative[rng.random(len(negative)) < _PERIPHERAL_TUMOUR_SHARE]
    # A random corner region per image, entirely outside the centre 32x32 px.
    side = rng.integers(0, 2, size=(len(peripheral), 2, 1))
    corners = np.where(side == 0, np.array([0.0, 28.0]), np.array([68.0, SIZE]))
    _scatter(
        nuclei, peripheral, rng.integers(5, 17, len(peripheral)),
        centre_boxes=corners, clip_boxes=corners, spread=5.0, rng=rng, **tumour,
    )  # fmt: skip
    lymphocytes = negative[rng.random(len(negative)) < _CENTRAL_LYMPHOCYTE_SHARE]
    _scatter(
        nuclei, lymphocytes, rng.integers(8, 19, len(lymphocytes)),
        centre_boxes=_boxes(len(lymphocytes), 40, 56),
        clip_boxes=_boxes(len(lymphocytes), *CENTRE), spread=7.0,
        radii=(2,), darkness=(0.8, 0.95), rng=rng,
    )  # fmt: skip
    return _compose(_coverage(nuclei, count), rng)


def _compose(coverage: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mix stroma (a smooth eosin texture with pale gaps) and stained nuclei; colour
    passes run channel-first so numpy's inner loops are long rows, not 3-pixel ones."""
    count = len(coverage)
    upsample = _upsampler(12)
    coarse = rng.standard_normal((count, 12, 12), dtype=np.float32)
    texture = upsample @ coarse @ upsample.T
    pale_weight = np.clip((texture - 0.8) * 2.0, 0.0, 1.0)
    eosin_weight = (1.0 + 0.06 * texture) * (1.0 - pale_weight)
    brightness = rng.uniform(0.9, 1.05, size=(count, 1, 1)).astype(np.float32)
    background = (1.0 - coverage) * brightness
    # Uniform per-pixel noise: several times cheaper to draw than Gaussian noise.
    chromatin = 0.75 + 0.5 * rng.random(coverage.shape, dtype=np.float32)
    tint = _EOSIN + rng.normal(0.0, 8.0, size=(count, 3)).astype(np.float32)
    stain = _HAEMATOXYLIN + rng.normal(0.0, 10.0, size=(count, 3)).astype(np.float32)
    image = (eosin_weight * background)[:, None] * tint[:, :, None, None]
    image += (pale_weight * background)[:, None] * _PALE[None, :, None, None]
    image += (coverage * chromatin * brightness)[:, None] * stain[:, :, None, None]
    image += 18.0 * rng.random((count, 1, SIZE, SIZE), dtype=np.float32) - 9.0
    planar = np.clip(image, 0, 255, out=image).astype(np.uint8)
    return np.ascontiguousarray(planar.transpose(0, 2, 3, 1))
