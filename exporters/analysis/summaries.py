"""Numbers that say what a figure shows, so the article's sentences can follow the data.

Pure numpy, unrounded; the figure exporters round them for the page.
"""

from __future__ import annotations

import numpy as np

KNN = 10   # neighbours per point for the projections' modality-mixing number


def _offdiag_mean(m: np.ndarray) -> float | None:
    k = m.shape[0]
    return None if k < 2 else float((m.sum() - np.trace(m)) / (k * k - k))


def quadrant_means(s: np.ndarray, idx: list[int], n: int) -> dict:
    """Mean similarities behind the heatmap's quadrants, for modalities idx[0], idx[1] of a stacked matrix.

    sim_in: mean over pairs of different items within each modality (the two in-modal blocks, diagonal
    left out); sim_cross: mean over unrelated cross-modal pairs (cross block off its diagonal);
    sim_pair: mean over the true pairs (the cross block's diagonal).
    """
    i, j = idx
    aa, bb = s[i * n:(i + 1) * n, i * n:(i + 1) * n], s[j * n:(j + 1) * n, j * n:(j + 1) * n]
    ab = s[i * n:(i + 1) * n, j * n:(j + 1) * n]
    return {"sim_in": [_offdiag_mean(aa), _offdiag_mean(bb)], "sim_cross": _offdiag_mean(ab),
            "sim_pair": float(np.mean(np.diag(ab)))}


def pc1_separation(arrs: list[np.ndarray], n: int) -> dict:
    """PCA of all items of all modalities: PC1's share of the variance, and `split`, the share of the
    first two modalities' items that lie on their own modality's side of the midpoint between the two
    modality means along PC1 (1: PC1 separates them completely; about 0.5: not at all)."""
    e = np.vstack(arrs).astype(float)
    ec = e - e.mean(axis=0)
    _, sv, vt = np.linalg.svd(ec, full_matrices=False)
    var = sv ** 2
    share = float(var[0] / var.sum()) if var.sum() > 0 else None
    sc = ec @ vt[0]
    sa, sb = sc[:n], sc[n:2 * n]
    mid, sign = (sa.mean() + sb.mean()) / 2, np.sign(sa.mean() - sb.mean()) or 1.0
    split = float((np.sum(sign * (sa - mid) > 0) + np.sum(sign * (sb - mid) < 0)) / (2 * n))
    return {"share": share, "split": split}


def knn_same_modality(p: np.ndarray, labels: np.ndarray, k: int = KNN) -> dict:
    """In 2-D coordinates as drawn: the mean share of each point's k nearest other points that belong to
    its own modality (`same`), and what a complete mix would give (`chance`)."""
    p = np.asarray(p, float)
    m = len(p)
    k = max(1, min(k, m - 1))
    d = ((p[:, None, :] - p[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nn = np.argsort(d, axis=1, kind="stable")[:, :k]
    same = float(np.mean(labels[nn] == labels[:, None]))
    counts = np.bincount(labels)
    chance = float(np.sum(counts * (counts - 1)) / (m * (m - 1))) if m > 1 else None
    return {"k": int(k), "same": same, "chance": chance}


def infonce_bounds(logit_scale: float | None, batch: int) -> dict | None:
    """What the symmetric InfoNCE of a batch can be at this logit scale, whatever the embeddings.

    Cosines lie in [-1, 1], so logits lie in [-s, s]: the loss is at least ln(1 + (B-1) e^(-2s)) (every
    true pair at +1, everything else at -1) and is ln B when all similarities are equal (`uniform`).
    """
    if logit_scale is None or batch < 2:
        return None
    s = float(logit_scale)
    return {"floor": float(np.log1p((batch - 1) * np.exp(-2 * s))), "uniform": float(np.log(batch)),
            "batch": int(batch)}
