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
