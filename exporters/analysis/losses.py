"""Contrastive losses evaluated on fixed embeddings, in numpy.

Every function takes L2-normalized (n, d) arrays of paired items (row i of x belongs to row i of y)
and the model's logit scale (the *exponentiated* temperature inverse, e.g. 100 for OpenAI CLIP).
Pairs are cut into consecutive batches of `batch_size` (the last one may be smaller), the loss is
averaged inside each batch and then over batches: a loss depends on the batch size, so the article
always states it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from scipy.special import logsumexp

from exporters.errors import UserError


def _batches(n: int, batch_size: int | None) -> Iterator[slice]:
    size = n if batch_size is None else int(batch_size)
    if size < 2:
        raise UserError(f"loss: batch size must be at least 2, got {batch_size}")
    for start in range(0, n, size):
        if n - start >= 2:
            yield slice(start, min(start + size, n))


def _mean_over_batches(fn: Callable[[np.ndarray], float], x: np.ndarray, y: np.ndarray,
                       logit_scale: float, batch_size: int | None) -> float:
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape:
        raise UserError(f"loss: paired arrays differ in shape {x.shape} vs {y.shape}")
    values = [fn(logit_scale * x[b] @ y[b].T) for b in _batches(len(x), batch_size)]
    if not values:
        raise UserError("loss: need at least 2 pairs")
    return float(np.mean(values))


def _ce_rows(logits: np.ndarray) -> float:
    """Cross-entropy of each row against its diagonal target, averaged (one direction of InfoNCE)."""
    return float(np.mean(logsumexp(logits, axis=1) - np.diag(logits)))


def _loob_rows(logits: np.ndarray) -> float:
    """InfoLOOB for rows: like InfoNCE, but the positive is left out of the denominator."""
    off = logits.copy()
    np.fill_diagonal(off, -np.inf)
    return float(np.mean(logsumexp(off, axis=1) - np.diag(logits)))


def infonce(x: np.ndarray, y: np.ndarray, logit_scale: float, batch_size: int | None = None) -> float:
    """Symmetric InfoNCE (the CLIP objective): mean of the x->y and y->x cross-entropies."""
    return _mean_over_batches(lambda lg: (_ce_rows(lg) + _ce_rows(lg.T)) / 2.0,
                              x, y, logit_scale, batch_size)


def infonce_one_way(x: np.ndarray, y: np.ndarray, logit_scale: float,
                    batch_size: int | None = None) -> float:
    """x->y cross-entropy only."""
    return _mean_over_batches(_ce_rows, x, y, logit_scale, batch_size)


def infoloob(x: np.ndarray, y: np.ndarray, logit_scale: float, batch_size: int | None = None) -> float:
    """Symmetric InfoLOOB (Fürst et al., CLOOB): mean of both directions, positive excluded below.

    Unlike InfoNCE it is not bounded below by 0: it keeps rewarding a larger margin, so it does not
    saturate when all similarities become high.
    """
    return _mean_over_batches(lambda lg: (_loob_rows(lg) + _loob_rows(lg.T)) / 2.0,
                              x, y, logit_scale, batch_size)


def reference_loss(x: np.ndarray, y: np.ndarray, logit_scale: float, batch_size: int = 50) -> float:
    """The loss as the seed article's exporter computed it, for comparison with its numbers.

    It meant to average both directions but transposed twice, so it is the image->text
    cross-entropy only, over consecutive batches of 50 pairs.
    """
    return infonce_one_way(x, y, logit_scale, batch_size)


LOSSES: dict[str, Callable[..., float]] = {
    "infonce": infonce,
    "infoloob": infoloob,
    "reference": reference_loss,
}
