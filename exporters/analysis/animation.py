"""Frames of the gap closing, all drawn in one fixed PCA basis so that motion on screen is motion in space.

The basis is fitted once, on the original embeddings of both modalities stacked, and every frame of
both variants (re-normalized onto the sphere, and raw) is projected with that mean and those two
axes. Signs are fixed without reference to coordinates: axis 1 points from the y centroid to the x
centroid, axis 2 so that the third moment of the original scores along it is not negative; rotating
the embeddings therefore gives the same frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from exporters.analysis.gap import modality_distance, shift_along_gap
from exporters.errors import UserError

FRACTIONS = tuple(float(f) for f in np.round(np.linspace(0.0, 1.0, 11), 10))   # 0: as is, 1: shifted by the distance


def pca_basis(x: np.ndarray, y: np.ndarray) -> dict:
    """Mean and first two principal axes of x and y stacked, with their shares of the variance."""
    e = np.vstack([np.asarray(x, float), np.asarray(y, float)])
    if e.shape[1] < 2 or len(e) < 3:
        raise UserError(f"gap animation: need at least 2 dimensions and 2 pairs, got {len(x)} pairs of {e.shape[1]}")
    mean = e.mean(axis=0)
    _, sv, vt = np.linalg.svd(e - mean, full_matrices=False)
    axes = vt[:2].copy()
    g = np.asarray(x, float).mean(axis=0) - np.asarray(y, float).mean(axis=0)
    if axes[0] @ g < 0:
        axes[0] = -axes[0]
    if np.sum(((e - mean) @ axes[1]) ** 3) < 0:
        axes[1] = -axes[1]
    var = sv ** 2
    share = (var[:2] / var.sum()).tolist() if var.sum() > 0 else [0.0, 0.0]
    return {"mean": mean, "axes": axes, "variance_share": share}


def project(e: np.ndarray, basis: dict) -> np.ndarray:
    """(n, d) points as (n, 2) coordinates in a fixed basis from `pca_basis`."""
    return (np.asarray(e, float) - basis["mean"]) @ basis["axes"].T


def gap_animation(x: np.ndarray, y: np.ndarray, fractions: Sequence[float] = FRACTIONS) -> dict:
    """Frames at shifts delta = f * modality distance (gap.shift_along_gap), both variants, one basis.

    Returns {'basis': {'mean', 'axes', 'variance_share'}, 'fractions', 'deltas',
    'renormalized': frames, 'raw': frames}; a frame is {'x': (N, 2), 'y': (N, 2), 'distance'}, where
    distance is the modality distance in the full space at that frame.
    """
    dist = modality_distance(x, y)
    if dist == 0.0:
        raise UserError("gap animation: the two modalities have the same mean; there is no gap to close")
    basis = pca_basis(x, y)
    deltas = [float(f) * dist for f in fractions]
    out: dict = {"basis": basis, "fractions": [float(f) for f in fractions], "deltas": deltas}
    for tag, renorm in (("renormalized", True), ("raw", False)):
        frames = []
        for d in deltas:
            xs, ys = shift_along_gap(x, y, d, renorm)
            frames.append({"x": project(xs, basis), "y": project(ys, basis), "distance": modality_distance(xs, ys)})
        out[tag] = frames
    return out
