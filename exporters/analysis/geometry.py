"""How two paired modalities sit on the sphere: the gap's size, where it lives, how they fill the space.

Every measure takes `x`, `y`: float arrays of shape (N, d), row i of x paired with row i of y,
L2-normalized (as every EmbeddingSet is); a measure of one modality takes one such array. Results are
plain floats (or numpy arrays), unrounded. Definitions and sources: docs/analysis.md, "Geometry".

Two measures read individual coordinates (`COORDINATE_DEPENDENT`): the per-dimension gap and the
top-k dimension ablation. Embeddings recovered from a similarity matrix (exporters/sources/gram.py)
are exact only up to a rotation, so for them those two measures are not defined: ask
`coordinates_defined(emb)` before showing them. Every other measure here depends only on inner
products and is the same under any rotation (tests/test_geometry.py checks both).

Several measures reduce to sums, so they cost O(N d) and can be computed from streamed sums
(`*_from_sums`): with unit rows, sum_{i != j} x_i . x_j = ||sum_i x_i||^2 - N.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import logsumexp

from exporters.analysis.gap import modality_distance
from exporters.analysis.normalize import check_finite, is_unit, l2_normalize
from exporters.analysis.retrieval import recall_at_k
from exporters.errors import UserError

COORDINATE_DEPENDENT = ("dimension_gap", "ablate_gap_dimensions")
COORDINATE_FREE = ("modality_distance", "relative_modality_gap", "alignment", "uniformity",
                   "linear_separability", "effective_rank", "mean_inmodal_cosine")
ALIGNMENT_ALPHA = 2.0      # Wang & Isola's alpha: mean squared distance of the positive pairs
UNIFORMITY_T = 2.0         # Wang & Isola's t: the Gaussian potential exp(-t ||u - v||^2)
SEPARABILITY_TEST_SHARE = 0.3


def coordinates_defined(emb) -> bool:
    """False for an EmbeddingSet recovered from a similarity matrix (provenance source 'gram'): its
    coordinates are one arbitrary rotation of the model's, so COORDINATE_DEPENDENT measures mean nothing."""
    return (getattr(emb, "provenance", None) or {}).get("source") != "gram"


# -- input checks ---------------------------------------------------------------------------------------
def _unit(x, name: str, min_rows: int = 1) -> np.ndarray:
    x = check_finite(x, name)
    if x.shape[0] < min_rows:
        raise UserError(f"{name}: need at least {min_rows} items, got {x.shape[0]}")
    if not is_unit(x):
        raise UserError(f"{name}: rows are not L2-normalized; call l2_normalize first "
                        "(these measures are defined on the unit sphere)")
    return x


def _pair(x, y, min_rows: int = 1) -> tuple[np.ndarray, np.ndarray]:
    x, y = _unit(x, "x", min_rows), _unit(y, "y", min_rows)
    if x.shape != y.shape:
        raise UserError(f"paired modalities differ in shape: x {x.shape} vs y {y.shape}; "
                        "row i of x must belong to row i of y")
    return x, y


# -- the gap, coordinate by coordinate --------------------------------------------------------------------
def dimension_gap(x: np.ndarray, y: np.ndarray) -> dict:
    """|mean(x)_k - mean(y)_k| for every dimension k, largest first (ties: lower dimension id first).

    Returns {'dimension': int array of dimension ids, 'abs_gap': the values in that order,
    'share': cumulative share of the squared gap ||mean x - mean y||^2 carried by the first m dimensions}.
    COORDINATE-DEPENDENT.
    """
    x, y = _pair(x, y)
    g = np.abs(x.mean(axis=0) - y.mean(axis=0))
    order = np.argsort(-g, kind="stable")
    sq = g[order] ** 2
    total = float(sq.sum())
    share = np.cumsum(sq) / total if total > 0 else np.zeros_like(sq)
    return {"dimension": order.astype(np.int64), "abs_gap": g[order], "share": share}


def ablate_gap_dimensions(x: np.ndarray, y: np.ndarray, ks: Sequence[int] = tuple(range(21)),
                          groups: tuple | None = None) -> dict:
    """Schrodi et al.'s ablation: drop the k dimensions with the largest |mean x - mean y| (ranked once,
    on the full embeddings), re-normalize, and measure gap and retrieval, for each k in `ks`.

    Returns lists over ks: 'k', 'distance' (modality distance), 'rmg', 'x2y@1', 'y2x@1'.
    `groups` = (x content groups, y content groups) as in retrieval.recall_at_k. COORDINATE-DEPENDENT.
    """
    x, y = _pair(x, y, 2)
    d = x.shape[1]
    ks = [int(k) for k in ks]
    bad = [k for k in ks if not 0 <= k < d]
    if bad:
        raise UserError(f"gap-dimension ablation: k = {bad[0]} is outside 0..{d - 1} "
                        f"(the embeddings have {d} dimensions)")
    order = dimension_gap(x, y)["dimension"]
    out: dict = {"k": ks, "distance": [], "rmg": [], "x2y@1": [], "y2x@1": []}
    for k in ks:
        keep = np.sort(order[k:])
        xa = l2_normalize(x[:, keep], f"x without its top {k} gap dimensions")
        ya = l2_normalize(y[:, keep], f"y without its top {k} gap dimensions")
        r = recall_at_k(xa, ya, (1,), *(groups or (None, None)))
        out["distance"].append(modality_distance(xa, ya))
        out["rmg"].append(relative_modality_gap(xa, ya))
        out["x2y@1"].append(r["x2y@1"])
        out["y2x@1"].append(r["y2x@1"])
    return out


# -- relative modality gap (Schrodi et al., ICLR 2025) -------------------------------------------------------
def _dissimilarity(cos_mean: float) -> float:
    """Schrodi et al.'s cosine dissimilarity (1 - cos) / 2, in [0, 1]."""
    return (1.0 - cos_mean) / 2.0


def rmg_from_sums(sum_x: np.ndarray, sum_y: np.ndarray, sum_pair_cos: float, n: int) -> float:
    """RMG from streamed sums of unit rows: sum_i x_i, sum_i y_i, sum_i x_i . y_i and N (>= 2).

    Uses sum_{i != j} x_i . x_j = ||sum x||^2 - N. 0 when every pair coincides (no gap at all).
    """
    if n < 2:
        raise UserError(f"relative modality gap: need at least 2 pairs, got {n}")
    pair = _dissimilarity(float(sum_pair_cos) / n)
    in_x = _dissimilarity((float(np.dot(sum_x, sum_x)) - n) / (n * (n - 1)))
    in_y = _dissimilarity((float(np.dot(sum_y, sum_y)) - n) / (n * (n - 1)))
    denom = pair + (in_x + in_y) / 2.0
    if pair <= 0.0:
        return 0.0
    return float(pair / denom)


def relative_modality_gap(x: np.ndarray, y: np.ndarray) -> float:
    """RMG = m / (m + (a_x + a_y) / 2), in O(N d).

    m: mean dissimilarity of the matched pairs; a_x, a_y: mean dissimilarity over all ordered pairs
    i != j within each modality; dissimilarity (1 - cos) / 2 (Schrodi et al. 2025, eq. 1 and their
    code). 0 when matched items coincide; near 1 when pairs lie far apart compared with the spread
    of each modality. Unlike the modality distance it does not grow just because a modality is tight.
    """
    x, y = _pair(x, y, 2)
    return rmg_from_sums(x.sum(axis=0), y.sum(axis=0), float(np.einsum("ij,ij->", x, y)), len(x))


def relative_modality_gap_direct(x: np.ndarray, y: np.ndarray) -> float:
    """The RMG by its definition, with every pair's dissimilarity: O(N^2 d). For tests and small N."""
    x, y = _pair(x, y, 2)
    n = len(x)
    dis = lambda a, b: (1.0 - a @ b.T) / 2.0  # noqa: E731
    off = ~np.eye(n, dtype=bool)
    pair = float(np.mean(np.diag(dis(x, y))))
    inner = (dis(x, x)[off].sum() + dis(y, y)[off].sum()) / (2 * n * (n - 1))
    return 0.0 if pair <= 0.0 else float(pair / (pair + inner))


# -- alignment and uniformity (Wang & Isola, ICML 2020) -----------------------------------------------------
def alignment(x: np.ndarray, y: np.ndarray, alpha: float = ALIGNMENT_ALPHA) -> float:
    """Mean ||x_i - y_i||^alpha over the matched pairs (0: every pair coincides; at most 2^alpha)."""
    x, y = _pair(x, y)
    return float(np.mean(np.linalg.norm(x - y, axis=1) ** float(alpha)))


def uniformity(x: np.ndarray, t: float = UNIFORMITY_T, block: int = 2048) -> float:
    """log of the mean of exp(-t ||x_i - x_j||^2) over all pairs i < j of one modality.

    Lower is more uniform: 0 when every point coincides, never below -2t N/(N - 1) (Jensen's
    inequality with the mean squared distance of unit vectors). O(N^2 d), in row blocks of `block` rows.
    """
    x = _unit(x, "x", 2)
    n = len(x)
    parts = []
    for start in range(0, n, block):
        rows = x[start:start + block]
        s = rows @ x.T
        sq = np.maximum(2.0 - 2.0 * s, 0.0)        # ||u - v||^2 of unit vectors
        i = np.arange(start, start + len(rows))[:, None]
        upper = np.arange(n)[None, :] > i           # each unordered pair once
        if upper.any():
            parts.append(logsumexp(-t * sq[upper]))
    return float(logsumexp(parts) - np.log(n * (n - 1) / 2))


# -- linear separability -------------------------------------------------------------------------------------
def linear_separability(x: np.ndarray, y: np.ndarray, test_share: float = SEPARABILITY_TEST_SHARE,
                        seed: int = 0) -> dict:
    """Held-out accuracy of a logistic regression that tells x items from y items (chance: 0.5).

    Pairs, not items, are split (a seeded permutation, `test_share` of the pairs held out), so both
    members of a held-out pair are unseen and the test set is balanced. No feature scaling: per-
    coordinate scaling would make the measure depend on the coordinates. scikit-learn's
    LogisticRegression with its default L2 penalty (C = 1) and the deterministic lbfgs solver.
    """
    from sklearn.linear_model import LogisticRegression

    x, y = _pair(x, y)
    n = len(x)
    n_test = int(round(test_share * n))
    if not 1 <= n_test <= n - 1:
        raise UserError(f"linear separability: {n} pairs cannot be split with test share {test_share}; "
                        "need at least one pair on each side")
    perm = np.random.default_rng(seed).permutation(n)
    test, train = np.sort(perm[:n_test]), np.sort(perm[n_test:])
    label = lambda k: np.r_[np.zeros(k), np.ones(k)]  # noqa: E731
    clf = LogisticRegression(C=1.0, max_iter=10_000)
    clf.fit(np.vstack([x[train], y[train]]), label(len(train)))
    acc = clf.score(np.vstack([x[test], y[test]]), label(len(test)))
    return {"accuracy": float(acc), "chance": 0.5, "train_pairs": int(len(train)), "test_pairs": int(n_test),
            "seed": int(seed)}


# -- effective rank (Roy & Vetterli, EUSIPCO 2007) -----------------------------------------------------------
def effective_rank(x: np.ndarray, centre: bool = True) -> float | None:
    """exp of the Shannon entropy of the singular values normalized to sum to 1 (between 1 and min(N, d)).

    `centre=True` (what the article reports) subtracts the modality's mean first, so the shared offset
    of the cone is not counted as a direction the data use. None for a zero matrix (all points equal).
    """
    x = check_finite(x, "x")
    if centre:
        x = x - x.mean(axis=0)
    sv = np.linalg.svd(x, compute_uv=False)
    total = float(sv.sum())
    if total <= 0.0:
        return None
    p = sv[sv > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


# -- the cone effect (Liang et al., NeurIPS 2022) ------------------------------------------------------------
def mean_inmodal_cosine_from_sum(sum_x: np.ndarray, n: int) -> float:
    """Mean cosine over ordered pairs i != j of unit rows, from their sum: (||sum x||^2 - N) / (N (N - 1))."""
    if n < 2:
        raise UserError(f"mean in-modal cosine: need at least 2 items, got {n}")
    return float((float(np.dot(sum_x, sum_x)) - n) / (n * (n - 1)))


def mean_inmodal_cosine(x: np.ndarray) -> float:
    """Mean cosine similarity between different items of one modality, in O(N d): near 0 for directions
    spread over the sphere, near 1 inside a narrow cone."""
    x = _unit(x, "x", 2)
    return mean_inmodal_cosine_from_sum(x.sum(axis=0), len(x))
