"""L2 normalization with a guard: cosine similarity is only meaningful on unit vectors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from exporters.errors import UserError


def check_finite(x: np.ndarray, name: str = "embeddings", ids: Sequence[str] | None = None) -> np.ndarray:
    """Return `x` as a 2-D float64 array, or raise naming the first row with NaN/inf."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise UserError(f"{name}: expected a 2-D array (items x dimensions), got shape {x.shape}")
    bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
    if bad.size:
        raise UserError(f"{name}: item {_item(bad[0], ids)} has a NaN or infinite value; "
                        "re-export that item's embedding")
    return x


def l2_normalize(x: np.ndarray, name: str = "embeddings", ids: Sequence[str] | None = None) -> np.ndarray:
    """Divide every row by its Euclidean norm.

    Parameters
    ----------
    x : (n, d) array of raw embeddings (as returned by ``encode_image``/``encode_text``).
    name : what the array is, for the error message.
    ids : optional item ids, so an error names the item rather than a row number.

    Raises
    ------
    UserError
        If a row is zero, NaN or infinite: such an embedding has no direction.
    """
    x = check_finite(x, name, ids)
    norms = np.linalg.norm(x, axis=1)
    bad = np.flatnonzero(norms <= np.finfo(np.float64).tiny * 1e6)
    if bad.size:
        raise UserError(f"{name}: item {_item(bad[0], ids)} has a zero-norm embedding; "
                        "it has no direction, so drop the item or fix the encoder input")
    return x / norms[:, None]


def is_unit(x: np.ndarray, atol: float = 1e-6) -> bool:
    """True when every row has unit norm (within `atol`)."""
    return bool(np.allclose(np.linalg.norm(np.asarray(x, float), axis=1), 1.0, atol=atol))


def _item(row: int, ids: Sequence[str] | None) -> str:
    return repr(ids[row]) if ids is not None and row < len(ids) else f"#{row}"
