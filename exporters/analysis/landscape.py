"""The loss landscape: the loss while both modalities slide along the gap direction."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from exporters.analysis.gap import close_gap, gap_vector, modality_distance, shift_along_gap
from exporters.analysis.losses import infonce


def signed_distance(x: np.ndarray, y: np.ndarray, direction: np.ndarray) -> float:
    """Modality distance, negative once the modalities have passed each other along `direction`."""
    g = gap_vector(x, y)
    sign = 1.0 if float(g @ direction) >= 0 else -1.0
    return sign * float(np.linalg.norm(g))


def loss_landscape(x: np.ndarray, y: np.ndarray, logit_scale: float,
                   deltas: Sequence[float] = tuple(np.arange(-5.0, 5.0, 0.25)),
                   loss: Callable[..., float] = infonce, batch_size: int | None = 50) -> dict:
    """Loss and signed distance for each shift delta (the seed article used -5..4.75 in 0.25 steps).

    Also returns the original and the closed (half-way shift, re-normalized) distance and loss.
    Curve points are sorted by distance.
    """
    u = gap_vector(x, y)
    u = u / np.linalg.norm(u)
    points = []
    for d in deltas:
        xs, ys = shift_along_gap(x, y, float(d))
        points.append((signed_distance(xs, ys, u), loss(xs, ys, logit_scale, batch_size), float(d)))
    points.sort()
    xc, yc = close_gap(x, y)
    original_loss = loss(x, y, logit_scale, batch_size)
    closed_loss = loss(xc, yc, logit_scale, batch_size)
    return {
        "distances": [p[0] for p in points],
        "losses": [p[1] for p in points],
        "deltas": [p[2] for p in points],
        "original_distance": modality_distance(x, y),
        "original_loss": original_loss,
        "closed_distance": modality_distance(xc, yc),
        "closed_loss": closed_loss,
        "loss_difference": closed_loss - original_loss,
    }


def landscapes_by_scale(x: np.ndarray, y: np.ndarray, scales: Sequence[float],
                        deltas: Sequence[float] = tuple(np.arange(-5.0, 5.0, 0.25)),
                        loss: Callable[..., float] = infonce, batch_size: int | None = 50) -> list[dict]:
    """loss_landscape at each logit scale of `scales` (the same shifts, so the same distances), each
    with `best_distance`: the signed distance of the lowest loss on that curve (the loss's preferred gap).
    """
    out = []
    for s in scales:
        land = loss_landscape(x, y, float(s), deltas, loss, batch_size)
        land["best_distance"] = land["distances"][int(np.argmin(land["losses"]))]
        out.append(land)
    return out


def rank_correlation(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Spearman's rank correlation of two equally long sequences (average ranks for ties); None when
    fewer than two points or one of them is constant."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) != len(b):
        raise ValueError(f"rank_correlation: {len(a)} against {len(b)} values")
    if len(a) < 2:
        return None

    def ranks(v: np.ndarray) -> np.ndarray:
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v), dtype=float)
        for val in np.unique(v):           # ties share their average rank
            r[v == val] = r[v == val].mean()
        return r

    ra, rb = ranks(a), ranks(b)
    if np.ptp(ra) == 0 or np.ptp(rb) == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def monotone(values: Sequence[float], increasing: bool) -> bool:
    """Whether `values` strictly rise (increasing=True) or strictly fall along their order."""
    d = np.diff(np.asarray(values, float))
    return bool(len(d) > 0 and (np.all(d > 0) if increasing else np.all(d < 0)))
