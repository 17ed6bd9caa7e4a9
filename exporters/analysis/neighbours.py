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
