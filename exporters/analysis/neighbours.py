"""Neighbours in the full-dimensional space, where a 2-D projection cannot mislead.

Items are addressed as (modality, index) with modality 'x' or 'y' (the first and second block of a
pair). Neighbours are ranked by cosine similarity, most similar first; equal scores keep x before y
and lower index first, so the lists are the same on every run.
"""

from __future__ import annotations

import numpy as np

from exporters.analysis.gap import close_gap
from exporters.errors import UserError

K = 10
MODALITIES = ("x", "y")


def _check(x, y, modality: str, index: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.ndim != 2 or x.shape != y.shape:
        raise UserError(f"neighbours: paired modalities differ in shape {x.shape} vs {y.shape}")
    if modality not in MODALITIES:
        raise UserError(f"neighbours: modality must be 'x' or 'y', got {modality!r}")
    if not 0 <= index < len(x):
        raise UserError(f"neighbours: item {index} does not exist; there are {len(x)} pairs (0..{len(x) - 1})")
    return x, y


def _top(scores: np.ndarray, mods: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k best candidates: score descending, then x before y, then lower index."""
    order = np.lexsort((idx, mods, -scores))
    return order[:k]


def neighbours(x: np.ndarray, y: np.ndarray, modality: str, index: int, k: int = K) -> dict:
    """Top-k neighbours of one item: in its own modality (itself left out), in the other modality, and
    among all other items of both ('joint'). Each entry: {'modality', 'index', 'score', 'partner'}, where
    partner marks the query's true pair (row `index` of the other modality)."""
    x, y = _check(x, y, modality, index)
    n = len(x)
    q = (x if modality == "x" else y)[index]
    own, other = ("x", "y") if modality == "x" else ("y", "x")
    s_own, s_other = (x if own == "x" else y) @ q, (y if own == "x" else x) @ q
    keep = np.arange(n) != index

    def entries(mods, idx, scores):
        pos = _top(scores, np.array([MODALITIES.index(m) for m in mods]), idx, k)
        return [{"modality": str(mods[p]), "index": int(idx[p]), "score": float(scores[p]),
                 "partner": bool(mods[p] == other and idx[p] == index)} for p in pos]

    ar = np.arange(n)
    joint_mods = np.array([own] * (n - 1) + [other] * n)
    joint_idx = np.r_[ar[keep], ar]
    joint_scores = np.r_[s_own[keep], s_other]
    return {"query": {"modality": modality, "index": int(index)}, "k": int(k),
            "in_modal": entries(np.array([own] * (n - 1)), ar[keep], s_own[keep]),
            "cross_modal": entries(np.array([other] * n), ar, s_other),
            "joint": entries(joint_mods, joint_idx, joint_scores)}


def neighbours_open_closed(x: np.ndarray, y: np.ndarray, modality: str, index: int, k: int = K) -> dict:
    """The same lists with the gap open (the embeddings as they are) and closed (gap.close_gap, re-normalized)."""
    xc, yc = close_gap(x, y)
    return {"open": neighbours(x, y, modality, index, k), "closed": neighbours(xc, yc, modality, index, k)}


def same_modality_fraction(x: np.ndarray, y: np.ndarray, k: int = K) -> dict:
    """Mean share of an item's k nearest other items (both modalities, full space) that share its modality.

    'x', 'y': the means over x items and over y items (for image-caption data, 'y' answers: how many of a
    caption's nearest neighbours are captions); 'chance': (N - 1) / (2N - 1), what a perfect mix gives.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    if x.shape != y.shape or n < 2:
        raise UserError(f"neighbour mixing: need two (N, d) arrays of the same shape, N >= 2; got {x.shape}, {y.shape}")
    if not 1 <= k <= 2 * n - 1:
        raise UserError(f"neighbour mixing: k = {k} must be between 1 and {2 * n - 1}")
    e = np.vstack([x, y])
    s = e @ e.T
    np.fill_diagonal(s, -np.inf)
    label = np.r_[np.zeros(n, int), np.ones(n, int)]
    # stable sort of -s: ties go to the lower row of the stack, i.e. x before y, lower index first
    top = np.argsort(-s, axis=1, kind="stable")[:, :k]
    same = (label[top] == label[:, None]).mean(axis=1)
    return {"k": int(k), "x": float(same[:n].mean()), "y": float(same[n:].mean()),
            "chance": float((n - 1) / (2 * n - 1))}


def neighbour_mixing(x: np.ndarray, y: np.ndarray, k: int = K) -> dict:
    """same_modality_fraction with the gap open and closed (gap.close_gap, re-normalized)."""
    xc, yc = close_gap(x, y)
    return {"open": same_modality_fraction(x, y, k), "closed": same_modality_fraction(xc, yc, k)}


def neighbour_lists(x: np.ndarray, y: np.ndarray, k: int = K) -> dict:
    """`neighbours` for every item at once, as arrays (what a page ships, without one dict per entry).

    For each query modality q in 'x', 'y': q['in_index'], q['in_score'] (N, k') of the in-modal list,
    k' = min(k, N - 1); q['cross_index'], q['cross_score'] (N, min(k, N)); q['joint_modality'] (0 for x,
    1 for y), q['joint_index'], q['joint_score'] (N, min(k, 2N - 1)). Row i is neighbours(x, y, q, i, k),
    in the same order (ties: x before y, lower index first); the true partner of query i is the entry of
    the other modality with index i.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    if x.ndim != 2 or x.shape != y.shape or n < 2:
        raise UserError(f"neighbour lists: need two (N, d) arrays of the same shape, N >= 2; got {x.shape}, {y.shape}")
    if k < 1:
        raise UserError(f"neighbour lists: k = {k} must be at least 1")
    e = np.vstack([x, y])
    s = e @ e.T
    np.fill_diagonal(s, -np.inf)                          # an item is not its own neighbour
    out = {}
    for qi, q in enumerate(MODALITIES):
        rows = s[qi * n:(qi + 1) * n]
        own, other = rows[:, qi * n:(qi + 1) * n], rows[:, (1 - qi) * n:(2 - qi) * n]
        # stable sorts of -score: equal scores keep the lower column, i.e. x before y, lower index first
        ti = np.argsort(-own, axis=1, kind="stable")[:, :min(k, n - 1)]
        tc = np.argsort(-other, axis=1, kind="stable")[:, :min(k, n)]
        tj = np.argsort(-rows, axis=1, kind="stable")[:, :min(k, 2 * n - 1)]
        take = np.take_along_axis
        out[q] = {"in_index": ti, "in_score": take(own, ti, axis=1),
                  "cross_index": tc, "cross_score": take(other, tc, axis=1),
                  "joint_modality": (tj >= n).astype(int), "joint_index": tj % n,
                  "joint_score": take(rows, tj, axis=1)}
    return out


def partner_found(x: np.ndarray, y: np.ndarray, k: int = K) -> dict:
    """Share of the items whose true partner is among their k nearest other items of both modalities
    (the 'joint' list): 'x' over x queries, 'y' over y queries. With a wide gap a caption's nearest items
    are captions, and its own image may not be among them even when it is the nearest image."""
    lists = neighbour_lists(x, y, k)
    n = len(np.asarray(x))
    out = {"k": int(min(k, 2 * n - 1))}
    for qi, q in enumerate(MODALITIES):
        L = lists[q]
        hit = (L["joint_modality"] == 1 - qi) & (L["joint_index"] == np.arange(n)[:, None])
        out[q] = float(hit.any(axis=1).mean())
    return out
