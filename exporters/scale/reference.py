"""In-memory definitions the streaming results of exporters/scale/stream.py are checked against.

One definition per measure: RMG, alignment, uniformity, the per-dimension gap and the mean in-modal
cosine are those of exporters/analysis/geometry.py (the article's own), the gap vector, modality
distance and R@k those of analysis/gap.py and analysis/retrieval.py. Only what the article has no
definition of lives here, written the direct way from full matrices (O(N^2)), so the streamed
values are compared with a definition and not with a rearrangement of themselves. Rows are
L2-normalised.
"""

from __future__ import annotations

import numpy as np

from exporters.analysis.geometry import (ALIGNMENT_ALPHA, UNIFORMITY_T, alignment, dimension_gap,
                                         mean_inmodal_cosine, relative_modality_gap,
                                         relative_modality_gap_direct, uniformity)

__all__ = ["ALIGNMENT_ALPHA", "UNIFORMITY_T", "alignment", "dimension_gap", "mean_inmodal_cosine",
           "relative_modality_gap", "relative_modality_gap_direct", "uniformity", "crossmodal_mean_cosine",
           "matched_mean_cosine", "uniformity_on_pairs"]


def _offdiag_mean(s: np.ndarray) -> float:
    n = s.shape[0]
    return float((s.sum() - np.trace(s)) / (n * (n - 1)))


def crossmodal_mean_cosine(x: np.ndarray, y: np.ndarray) -> float:
    """Mean cosine similarity of non-matching pairs (x_i, y_j), i != j."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return _offdiag_mean(x @ y.T)


def matched_mean_cosine(x: np.ndarray, y: np.ndarray) -> float:
    """Mean cosine similarity of matching pairs (x_i, y_i)."""
    return float(np.mean(np.sum(np.asarray(x, float) * np.asarray(y, float), axis=1)))


def uniformity_on_pairs(x: np.ndarray, pairs: tuple[np.ndarray, np.ndarray], t: float = UNIFORMITY_T) -> float:
    """geometry.uniformity's log E exp(-t ||x_i - x_j||^2), the mean taken over the given (i, j)
    index pairs instead of all pairs: the streaming path's seeded sample (stream.sample_pairs_for)."""
    x = np.asarray(x, float)
    i, j = pairs
    return float(np.log(np.mean(np.exp(-t * np.sum((x[i] - x[j]) ** 2, axis=1)))))
