"""What lies behind the heatmap's quadrants: similarity distributions, partner ranks, margins, hubness.

Inputs are paired L2-normalized (N, d) arrays x, y. Optional content groups (retrieval.content_groups)
make identical items one answer, exactly as in R@k: a duplicate caption is not a negative.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from exporters.analysis.retrieval import ranks
from exporters.analysis.similarity import cross_similarity
from exporters.errors import UserError

BINS = tuple(float(b) for b in np.round(np.linspace(-1.0, 1.0, 41), 10))   # fixed 0.05-wide bins on [-1, 1]


def _groups(groups: Sequence | None, n: int, name: str) -> np.ndarray:
    if groups is None:
        return np.arange(n)
    g = np.asarray(groups)
    if g.shape != (n,):
        raise UserError(f"{name} content groups: {g.shape[0] if g.ndim else 0} labels for {n} items")
    return g


def _paired(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.ndim != 2 or x.shape != y.shape or len(x) < 2:
        raise UserError(f"paired modalities must be two (N, d) arrays of the same shape with N >= 2; "
                        f"got {x.shape} and {y.shape}")
    return x, y


def _counts(values: np.ndarray, edges: np.ndarray) -> list[int]:
    # cosines of unit vectors may exceed [-1, 1] by rounding; the outer bins take them
    return np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)[0].astype(int).tolist()


def similarity_histograms(x: np.ndarray, y: np.ndarray, bins: Sequence[float] = BINS,
                          groups: tuple | None = None) -> dict:
    """Counts of cosine similarities on fixed `bins` (edges), by kind of pair.

    in_x, in_y: pairs i < j within each modality; cross_matched: the true pairs (x_i, y_i) and cross
    pairs whose content equals a true pair's (same x or same y content, given `groups`); cross_other:
    every other (x_i, y_j). The counts of each kind sum to its number of pairs. `means`: the exact mean
    similarity of each kind (None for a kind without pairs), not read off the bins.
    """
    x, y = _paired(x, y)
    n = len(x)
    edges = np.asarray(bins, float)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise UserError("similarity histograms: bins must be at least two increasing edges")
    gx, gy = _groups(groups[0] if groups else None, n, "x"), _groups(groups[1] if groups else None, n, "y")
    iu = np.triu_indices(n, 1)
    s = cross_similarity(x, y)
    matched = (gx[:, None] == gx[None, :]) | (gy[:, None] == gy[None, :])
    kinds = {"in_x": (x @ x.T)[iu], "in_y": (y @ y.T)[iu], "cross_matched": s[matched], "cross_other": s[~matched]}
    return {"edges": edges.tolist(), **{k: _counts(v, edges) for k, v in kinds.items()},
            "means": {k: (float(v.mean()) if v.size else None) for k, v in kinds.items()}}


def _margins(s: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(margins, hardest): s_ii minus the highest similarity to a candidate whose content differs from
    the partner's (NaN if none), and that candidate's index (the lowest on ties; -1 if none)."""
    neg = np.where(g[None, :] != g[:, None], s, -np.inf)
    arg = neg.argmax(axis=1)
    hardest = neg[np.arange(len(s)), arg]
    ok = np.isfinite(hardest)
    return np.where(ok, np.diag(s) - hardest, np.nan), np.where(ok, arg, -1).astype(int)


def partner_ranks(x: np.ndarray, y: np.ndarray, groups: tuple | None = None) -> dict:
    """For every item, the rank of its true partner (0 = retrieved first; ties as in R@k) in both
    directions, and the margin: partner's similarity minus the hardest negative's (negative margin:
    some other item ranks above the partner). NaN margin where no item of other content exists.
    x2y_hardest / y2x_hardest: the index of that hardest negative (-1 where none exists)."""
    x, y = _paired(x, y)
    n = len(x)
    gx, gy = _groups(groups[0] if groups else None, n, "x"), _groups(groups[1] if groups else None, n, "y")
    s = cross_similarity(x, y)
    (mx, hx), (my, hy) = _margins(s, gy), _margins(s.T, gx)
    return {"x2y_rank": ranks(x, y, gy).astype(int), "y2x_rank": ranks(y, x, gx).astype(int),
            "x2y_margin": mx, "y2x_margin": my, "x2y_hardest": hx, "y2x_hardest": hy}


def k_occurrence(s: np.ndarray, k: int = 1) -> np.ndarray:
    """N_k of every column: how many rows have it among their k most similar columns (ties: lower index)."""
    if not 1 <= k <= s.shape[1]:
        raise UserError(f"hubness: k = {k} must be between 1 and the number of candidates ({s.shape[1]})")
    top = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return np.bincount(top.ravel(), minlength=s.shape[1])


def skewness(v: np.ndarray) -> float | None:
    """Sample skewness m3 / m2^1.5 (Radovanović et al.'s hubness measure); None when all values are equal."""
    v = np.asarray(v, float)
    c = v - v.mean()
    m2 = float(np.mean(c ** 2))
    if m2 <= 1e-300:
        return None
    return float(np.mean(c ** 3) / m2 ** 1.5)


def hubness(x: np.ndarray, y: np.ndarray, k: int = 1) -> dict:
    """Cross-modal hubness (Radovanović, Nanopoulos & Ivanović, JMLR 2010): N_k(y_j) counts the x items
    that have y_j among their k nearest y items (and the other way round); a hub is retrieved for many
    queries, an anti-hub for none. Skewness of N_k: 0 for a symmetric spread, large and positive when
    a few hubs take most queries."""
    x, y = _paired(x, y)
    s = cross_similarity(x, y)
    nx2y, ny2x = k_occurrence(s, k), k_occurrence(s.T, k)
    return {"k": int(k), "x2y_occurrence": nx2y, "y2x_occurrence": ny2x,
            "x2y_skewness": skewness(nx2y), "y2x_skewness": skewness(ny2x),
            "x2y_max": int(nx2y.max()), "y2x_max": int(ny2x.max()),
            "x2y_never": int(np.sum(nx2y == 0)), "y2x_never": int(np.sum(ny2x == 0))}
