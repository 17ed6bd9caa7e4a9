"""Recover embeddings from a cosine-similarity (Gram) matrix by eigendecomposition.

S = E E^T with unit rows; eigh gives E up to an orthogonal transform, which changes no inner
product, so every analysis that depends only on inner products (gap, losses, PCA, UMAP/t-SNE on
cosine, clustering) gives the same answer on the recovered vectors.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from exporters.analysis.normalize import l2_normalize
from exporters.errors import UserError


def check_gram(s: np.ndarray, where: str, atol: float = 1e-6) -> np.ndarray:
    """Validate a similarity matrix: square, finite, symmetric, unit diagonal."""
    s = np.asarray(s, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] != s.shape[1]:
        raise UserError(f"{where}: similarity matrix must be square, got shape {s.shape}; "
                        "export the full stacked matrix of all items of all modalities")
    if not np.isfinite(s).all():
        raise UserError(f"{where}: similarity matrix has NaN or infinite values")
    asym = float(np.abs(s - s.T).max()) if s.size else 0.0
    if asym > atol:
        raise UserError(f"{where}: similarity matrix is not symmetric (max |S - S^T| = {asym:.3g}); "
                        "a cosine-similarity matrix of all items must be symmetric")
    diag = float(np.abs(np.diag(s) - 1.0).max()) if s.size else 0.0
    if diag > 1e-4:
        raise UserError(f"{where}: diagonal is not 1 (max deviation {diag:.3g}); "
                        "the embeddings were not L2-normalized before the similarities were taken")
    return s


def embeddings_from_gram(s: np.ndarray, sizes: Sequence[int], where: str = "similarity matrix",
                         rel_tol: float = 1e-12) -> list[np.ndarray]:
    """Split the recovered embeddings into one block per modality (`sizes` items each, in order)."""
    s = check_gram(s, where)
    if sum(sizes) != s.shape[0]:
        raise UserError(f"{where}: {s.shape[0]} rows, but the modalities have {sum(sizes)} items in total")
    w, v = np.linalg.eigh((s + s.T) / 2.0)
    keep = w > rel_tol * max(float(w.max()), 1.0)
    if (w < -1e-6 * max(float(w.max()), 1.0)).any():
        raise UserError(f"{where}: matrix is not positive semi-definite (eigenvalue {w.min():.3g}); "
                        "it is not a matrix of cosine similarities")
    e = v[:, keep] * np.sqrt(w[keep])
    e = e[:, ::-1]  # strongest direction first
    e = l2_normalize(e, where)
    out, start = [], 0
    for n in sizes:
        out.append(e[start:start + n])
        start += n
    return out
