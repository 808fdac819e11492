"""Rendering of synthetic H&E-like patches, vectorised over a batch of images.

Colours follow haematoxylin and eosin staining: eosin-pink stroma with pale gaps,
haematoxylin-purple nuclei. Cell types differ in nucleus size and darkness:
normal (small, pale), lymphocyte-like (small, dark) and tumour-like (large, dark,
crowded in a cluster).
"""

from __future__ import annotations

from functools import cache

import numpy as np

SIZE = 96
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


@cache
def _disc(radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dy, dx, weight) of a disc with a soft one-pixel edge."""
    span = np.arange(-radius - 1, radius + 2)
    dy, dx = np.meshgrid(span, span, indexing="ij")
    weight = np.clip(radius + 0.5 - np.hypot(dy, dx), 0.0, 1.0).astype(np.float32)
    keep = weight > 0
    return dy[keep], dx[keep], weight[keep]


class _Nuclei:
    """Nuclei of a batch collected as flat arrays, stamped onto a canvas at the end."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(
        self,
        image: np.ndarray,
        y: np.ndarray,
        x: np.ndarray,
        radius: np.ndarray,
        darkness: np.ndarray,
    ) -> None:
        self.parts.append((image, y, x, radius, darkness))

    def stamp(self, canvas: np.ndarray) -> None:
        image, y, x, radius, darkness = (
            np.concatenate(p) for p in zip(*self.parts, strict=True)
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


def _stroma_weights(
    count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel weights of the eosin tint (smooth texture) and of pale gaps."""
    coarse = rng.standard_normal((count, 12, 12), dtype=np.float32)
    upsample = _upsampler(12)
    texture = upsample @ coarse @ upsample.T
    pale = np.clip((texture - 0.8) * 2.0, 0.0, 1.0)
    return (1.0 + 0.06 * texture) * (1.0 - pale), pale


@cache
def _upsampler(coarse: int) -> np.ndarray:
    """(96, coarse) linear-interpolation matrix: smooth upsampling as two matmuls."""
    position = (np.arange(SIZE) + 0.5) * coarse / SIZE - 0.5
    left = np.clip(np.floor(position).astype(int), 0, coarse - 1)
    right = np.clip(left + 1, 0, coarse - 1)
    frac = np.clip(position - left, 0.0, 1.0)
    matrix = np.zeros((SIZE, coarse), dtype=np.float32)
    matrix[np.arange(SIZE), left] += 1.0 - frac
    matrix[np.arange(SIZE), right] += frac
    return matrix


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
    of ``centre_boxes[k]``, spread ``spread`` px, clipped into ``clip_boxes[k]``;
    ``spread=None`` scatters them uniformly over ``clip_boxes[k]`` instead.

    Boxes have shape (n, 2, 2): per axis (y, x) a (low, high) pair.
    """
    owner = np.repeat(images, counts)
    if spread is None:
        low = np.repeat(clip_boxes[:, :, 0], counts, axis=0)
        high = np.repeat(clip_boxes[:, :, 1], counts, axis=0)
        positions = rng.uniform(low, high)
    else:
        centres = rng.uniform(centre_boxes[:, :, 0], centre_boxes[:, :, 1])
        around = np.repeat(centres, counts, axis=0)
        positions = around + rng.normal(0.0, spread, size=around.shape)
    positions = np.clip(
        np.rint(positions),
        np.repeat(clip_boxes[:, :, 0], counts, axis=0),
        np.repeat(clip_boxes[:, :, 1], counts, axis=0) - 1,
    ).astype(np.int64)
    nuclei.add(
        owner,
        positions[:, 0],
        positions[:, 1],
        rng.choice(radii, size=len(owner)),
        rng.uniform(*darkness, size=len(owner)).astype(np.float32),
    )


def _boxes(count: int, low: float, high: float) -> np.ndarray:
    return np.broadcast_to(np.array([[low, high], [low, high]]), (count, 2, 2))


def _corner_boxes(count: int, rng: np.random.Generator) -> np.ndarray:
    """A random corner region per image, entirely outside the centre 32x32 px."""
    side = rng.integers(0, 2, size=(count, 2, 1))
    return np.where(side == 0, np.array([0.0, 28.0]), np.array([68.0, SIZE]))


def render_patches(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uint8 (96, 96, 3) patch per label; positives have tumour in the centre."""
    count = len(labels)
    ids = np.arange(count)
    nuclei = _Nuclei()
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
    corners = _corner_boxes(len(peripheral), rng)
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

    coverage = np.zeros((count, SIZE, SIZE), dtype=np.float32)
    nuclei.stamp(coverage)
    return _compose(coverage, rng)


def _compose(coverage: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mix stroma, pale gaps and stained nuclei.

    Weights are computed per pixel first, and the colour passes run channel-first so
    numpy's inner loops are long rows instead of 3-element pixels.
    """
    count = len(coverage)
    eosin_weight, pale_weight = _stroma_weights(count, rng)
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
