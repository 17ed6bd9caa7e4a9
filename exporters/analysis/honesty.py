"""How honest a 2-D picture is about the gap and about neighbourhoods.

A projection's units are arbitrary (UMAP and t-SNE even rescale freely), so a distance is only
comparable with the same space's typical distance: each space's centroid distance is divided by the
mean distance between all its points (both modalities, every unordered pair). The full space is
measured with Euclidean distance between the unit vectors (a monotone function of cosine), the plot
with Euclidean distance in the plane. 'exaggeration' = plot ratio / full ratio: above 1 the picture
makes the gap look larger than it is, below 1 it hides it.

Neighbourhood preservation is kNN recall: for each point, the share of its k nearest other points in
the full space that are also among its k nearest in the plot, averaged (1: every neighbourhood kept).
"""

from __future__ import annotations

import numpy as np

from exporters.errors import UserError

K = 10


def _sq_distances(e: np.ndarray) -> np.ndarray:
    sq = (e * e).sum(axis=1)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (e @ e.T)
    return np.maximum(d2, 0.0)


def mean_pairwise_distance(e: np.ndarray) -> float:
    """Mean Euclidean distance over all unordered pairs of rows."""
    e = np.asarray(e, float)
    m = len(e)
    d = np.sqrt(_sq_distances(e))
    return float(d[np.triu_indices(m, 1)].mean())


def _knn(d2: np.ndarray, k: int) -> np.ndarray:
    d2 = d2.copy()
    np.fill_diagonal(d2, np.inf)
    return np.argsort(d2, axis=1, kind="stable")[:, :k]   # ties: lower index first


def knn_recall(full: np.ndarray, plot: np.ndarray, k: int = K) -> float:
    """Mean over points of |kNN_full ∩ kNN_plot| / k (rows of `full` and `plot` are the same points)."""
    full, plot = np.asarray(full, float), np.asarray(plot, float)
    m = len(full)
    if plot.shape[0] != m or full.ndim != 2 or plot.ndim != 2:
        raise UserError(f"kNN recall: {m} points in the full space but {plot.shape[0]} in the plot")
    if not 1 <= k <= m - 1:
        raise UserError(f"kNN recall: k = {k} must be between 1 and {m - 1} (points - 1)")
    a, b = _knn(_sq_distances(full), k), _knn(_sq_distances(plot), k)
    hits = [len(np.intersect1d(a[i], b[i], assume_unique=True)) for i in range(m)]
    return float(np.mean(hits) / k)


def centroid_ratio(a: np.ndarray, b: np.ndarray) -> float:
    """||mean a - mean b|| divided by the mean pairwise distance among all rows of a and b together."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    spread = mean_pairwise_distance(np.vstack([a, b]))
    if spread == 0.0:
        raise UserError("projection honesty: every point is at the same place; nothing to compare")
    return float(np.linalg.norm(a.mean(axis=0) - b.mean(axis=0)) / spread)


def projection_honesty(x: np.ndarray, y: np.ndarray, px: np.ndarray, py: np.ndarray, k: int = K) -> dict:
    """The gap and the neighbourhoods of paired embeddings x, y (N, d) against their plotted positions
    px, py (N, 2), as the module docstring defines them.

    full_distance / plot_distance: raw centroid distances (each in its own units); full_ratio /
    plot_ratio: those divided by the space's mean pairwise distance; exaggeration: plot / full ratio;
    knn_recall over all 2N points.
    """
    x, y, px, py = (np.asarray(a, float) for a in (x, y, px, py))
    if x.shape != y.shape or px.shape != py.shape or px.shape != (len(x), 2):
        raise UserError(f"projection honesty: need x, y of one shape (N, d) and px, py of shape (N, 2); got "
                        f"{x.shape}, {y.shape}, {px.shape}, {py.shape}")
    full_ratio, plot_ratio = centroid_ratio(x, y), centroid_ratio(px, py)
    return {"full_distance": float(np.linalg.norm(x.mean(0) - y.mean(0))),
            "plot_distance": float(np.linalg.norm(px.mean(0) - py.mean(0))),
            "full_ratio": full_ratio, "plot_ratio": plot_ratio,
            "exaggeration": plot_ratio / full_ratio if full_ratio > 0 else None,
            "k": int(k), "knn_recall": knn_recall(np.vstack([x, y]), np.vstack([px, py]), k)}
