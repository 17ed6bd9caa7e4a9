"""Cosine-similarity matrices of several modalities stacked in blocks (image, text[, audio], ...)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from exporters.analysis.normalize import is_unit
from exporters.errors import UserError


def similarity_matrix(blocks: Sequence[np.ndarray]) -> np.ndarray:
    """Cosine similarities of all items of all modalities, stacked in the given order.

    For modalities (X, Y) with n pairs the result is 2n x 2n: top-left X-X, top-right X-Y,
    bottom-left Y-X, bottom-right Y-Y. Every block must be L2-normalized already.
    """
    if not blocks:
        raise UserError("similarity_matrix: no modality given")
    dims = {b.shape[1] for b in blocks}
    if len(dims) != 1:
        raise UserError(f"similarity_matrix: modalities have different dimensions {sorted(dims)}")
    for i, b in enumerate(blocks):
        if not is_unit(b):
            raise UserError(f"similarity_matrix: modality #{i} is not L2-normalized; "
                            "call l2_normalize first (cosine similarity needs unit vectors)")
    e = np.vstack([np.asarray(b, dtype=np.float64) for b in blocks])
    s = e @ e.T
    return np.clip((s + s.T) / 2.0, -1.0, 1.0)


def cross_similarity(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cosine similarities between the rows of two L2-normalized arrays (rows of x, columns of y)."""
    return np.asarray(x, float) @ np.asarray(y, float).T


def block(s: np.ndarray, sizes: Sequence[int], row: int, col: int) -> np.ndarray:
    """The (row, col) block of a stacked similarity matrix whose modalities have `sizes` items."""
    starts = np.concatenate([[0], np.cumsum(sizes)])
    return s[starts[row]:starts[row + 1], starts[col]:starts[col + 1]]


def inmodal_difference(s: np.ndarray, n: int) -> np.ndarray:
    """Image in-modal similarities minus text in-modal similarities (CyCLIP's in-modal symmetry).

    Zero everywhere when both modalities have the same internal geometry.
    """
    return s[:n, :n] - s[n:2 * n, n:2 * n]
