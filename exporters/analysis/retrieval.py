"""Cross-modal retrieval: does the matching partner rank first among all candidates?

How ties count (docs/analysis.md): a candidate beats the partner only if it is strictly more similar
AND its content differs from the partner's. Identical content (the same caption text, the same image
bytes: DiffusionDB has several images per prompt, an augmentation set repeats one caption) is one
answer, so a duplicate never counts against the query, whatever floating-point noise says about which
of two identical vectors is more similar. Exact ties with different content count in the query's
favour.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def ranks(x: np.ndarray, y: np.ndarray, y_groups: Sequence | None = None) -> np.ndarray:
    """For every query row of x, how many rows of y, of other content than its partner, are strictly
    more similar than the partner. 0 means the partner is retrieved first."""
    return _ranks(np.asarray(x, float) @ np.asarray(y, float).T, y_groups)


def _ranks(s: np.ndarray, groups: Sequence | None = None) -> np.ndarray:
    beats = s > np.diag(s)[:, None]
    if groups is not None:
        g = np.asarray(groups)
        if g.shape != (s.shape[1],):
            raise ValueError(f"content groups: {g.shape[0] if g.ndim else 0} labels for {s.shape[1]} candidates")
        beats &= g[None, :] != g[:, None]
    return beats.sum(axis=1)


def content_groups(items: Sequence) -> np.ndarray:
    """One integer per item; equal integers mean identical content (equal keys, e.g. text or a file hash)."""
    index: dict = {}
    return np.array([index.setdefault(k, len(index)) for k in items], dtype=np.int64)


def recall_at_k(x: np.ndarray, y: np.ndarray, ks: Sequence[int] = (1, 5), x_groups: Sequence | None = None,
                y_groups: Sequence | None = None) -> dict[str, float]:
    """R@k in both directions: keys 'x2y@1', 'y2x@1', ... as fractions in [0, 1].

    x_groups / y_groups label identical content among the x / y items (see the module docstring).
    """
    s = np.asarray(x, float) @ np.asarray(y, float).T
    r_xy, r_yx = _ranks(s, y_groups), _ranks(s.T, x_groups)
    out: dict[str, float] = {}
    for k in ks:
        out[f"x2y@{k}"] = float(np.mean(r_xy < k))
        out[f"y2x@{k}"] = float(np.mean(r_yx < k))
    return out
