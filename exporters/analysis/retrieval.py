"""Cross-modal retrieval: does the matching partner rank first among all candidates?"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def ranks(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For every query row of x, how many rows of y are strictly more similar than its partner.

    0 means the partner is retrieved first; ties count in the query's favour.
    """
    return _ranks(np.asarray(x, float) @ np.asarray(y, float).T)


def _ranks(s: np.ndarray) -> np.ndarray:
    return (s > np.diag(s)[:, None]).sum(axis=1)


def recall_at_k(x: np.ndarray, y: np.ndarray, ks: Sequence[int] = (1, 5)) -> dict[str, float]:
    """R@k in both directions: keys 'x2y@1', 'y2x@1', ... as fractions in [0, 1]."""
    s = np.asarray(x, float) @ np.asarray(y, float).T
    r_xy, r_yx = _ranks(s), _ranks(s.T)
    out: dict[str, float] = {}
    for k in ks:
        out[f"x2y@{k}"] = float(np.mean(r_xy < k))
        out[f"y2x@{k}"] = float(np.mean(r_yx < k))
    return out
