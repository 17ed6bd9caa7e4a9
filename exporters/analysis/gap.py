"""The modality gap (Liang et al., "Mind the Gap", NeurIPS 2022): measure it, close it, walk along it."""

from __future__ import annotations

import numpy as np

from exporters.analysis.normalize import l2_normalize


def gap_vector(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """delta_gap = mean(x) - mean(y) of the L2-normalized embeddings of two modalities."""
    return np.asarray(x, float).mean(axis=0) - np.asarray(y, float).mean(axis=0)


def modality_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Euclidean length of the gap vector: the distance between the two modality centroids."""
    return float(np.linalg.norm(gap_vector(x, y)))


def close_gap(x: np.ndarray, y: np.ndarray, renormalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Move each modality half-way along the gap vector towards the other.

    Without re-normalization the centroids coincide exactly; with it (as the seed article did) the
    points go back onto the sphere and a small distance remains.
    """
    g = gap_vector(x, y)
    xc, yc = np.asarray(x, float) - g / 2.0, np.asarray(y, float) + g / 2.0
    if renormalize:
        xc, yc = l2_normalize(xc, "closed x"), l2_normalize(yc, "closed y")
    return xc, yc


def shift_along_gap(x: np.ndarray, y: np.ndarray, delta: float,
                    renormalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Shift x by -delta/2 and y by +delta/2 along the *unit* gap direction (the loss landscape).

    delta = modality_distance(x, y) closes the gap (before re-normalization); larger values push
    the modalities past each other.
    """
    g = gap_vector(x, y)
    u = g / np.linalg.norm(g)
    xs, ys = np.asarray(x, float) - delta * u / 2.0, np.asarray(y, float) + delta * u / 2.0
    if renormalize:
        xs, ys = l2_normalize(xs, "shifted x"), l2_normalize(ys, "shifted y")
    return xs, ys


def pairwise_distances(blocks: dict[str, np.ndarray]) -> dict[str, float]:
    """Modality distance for every pair of modalities, keyed 'a_b' in the given order."""
    names = list(blocks)
    return {f"{a}_{b}": modality_distance(blocks[a], blocks[b])
            for i, a in enumerate(names) for b in names[i + 1:]}
