"""Analyses that stream over embedding shards in bounded memory (docs/scale.md has the formulas).

One pass of running sums over the two modalities x and y (n items, d dimensions) gives:

- gap vector  delta = Sx/n - Sy/n  with Sx = sum_i x_i, and the modality distance ||delta||
  (exporters/analysis/gap.py); the per-dimension gap is delta itself, ranked by |delta_j|;
- mean in-modal cosine over i != j:  (||Sx||^2 - n) / (n(n-1)) for unit rows - O(n d), no n x n matrix;
- mean cross-modal cosine over i != j: (Sx . Sy - sum_i x_i . y_i) / (n(n-1)); matched: sum_i x_i . y_i / n;
- RMG (Schrodi et al. 2025) from those sums, since the cosine dissimilarity (1 - cos) / 2 is linear;
- alignment (Wang & Isola 2020): sum_i ||x_i - y_i||^2 / n.

RMG and the in-modal means are exporters/analysis/geometry.py's own `*_from_sums` functions (one
definition for the article and the stream); the tests hold every streamed value to geometry.py's
in-memory function (exporters/scale/reference.py).

Uniformity (Wang & Isola 2020) needs pairs of items: over all pairs, block by block, where there
are at most `exact_pairs` of them; otherwise over a seeded random sample of `uniformity_pairs`
pairs (i, j), i != j, drawn uniformly with replacement by numpy's default_rng(seed), with its
standard error. R@k is exporters/scale/knn.py, the figures' sample exporters/scale/sample.py.

Memory: O(d) for the sums plus one block of rows (`block_bytes`); nothing grows with n.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from exporters.analysis import geometry as geo
from exporters.analysis.geometry import ALIGNMENT_ALPHA, UNIFORMITY_T
from exporters.scale.shards import ShardSet

BLOCK_BYTES = 32 * 1024 * 1024
UNIFORMITY_PAIRS = 200_000
EXACT_PAIRS = 2_000_000
SEED = 0


@dataclass
class PairMoments:
    """Mergeable running sums of two paired modalities: the state of every one-pass metric.
    Shards can be summed on different machines and merged (`merge`) in any order."""

    d: int
    n: int = 0
    sx: np.ndarray = field(default=None)
    sy: np.ndarray = field(default=None)
    sxy: float = 0.0      # sum x_i . y_i
    sdist2: float = 0.0   # sum ||x_i - y_i||^2

    def __post_init__(self) -> None:
        self.sx = np.zeros(self.d) if self.sx is None else self.sx
        self.sy = np.zeros(self.d) if self.sy is None else self.sy

    def update(self, x: np.ndarray, y: np.ndarray) -> None:
        self.n += x.shape[0]
        self.sx += x.sum(axis=0)
        self.sy += y.sum(axis=0)
        self.sxy += float(np.einsum("ij,ij->", x, y))
        diff = x - y
        self.sdist2 += float(np.einsum("ij,ij->", diff, diff))

    def merge(self, other: "PairMoments") -> "PairMoments":
        return PairMoments(self.d, self.n + other.n, self.sx + other.sx, self.sy + other.sy,
                           self.sxy + other.sxy, self.sdist2 + other.sdist2)

    def metrics(self, top: int = 10) -> dict:
        """The one-pass metrics; RMG and the in-modal means through geometry.py's own *_from_sums."""
        n = self.n
        gap = self.sx / n - self.sy / n
        dist = float(np.linalg.norm(gap))
        per_dim = dimension_gap_from_vector(gap)
        share = per_dim["share"]
        return {
            "n": n, "dim": self.d,
            "gap": {"distance": dist, "vector": gap.tolist(),
                    "per_dimension": {"dimension": per_dim["dimension"].tolist(),
                                      "abs_gap": per_dim["abs_gap"].tolist(), "share": share.tolist(),
                                      "top": [{"dim": int(j), "gap": float(gap[j])}
                                              for j in per_dim["dimension"][:top]],
                                      "dims_for_half": int(np.searchsorted(share, 0.5) + 1) if dist > 0 else 0,
                                      "dims_for_90_percent": int(np.searchsorted(share, 0.9) + 1) if dist > 0 else 0}},
            "cosine": {"inmodal_x": geo.mean_inmodal_cosine_from_sum(self.sx, n),
                       "inmodal_y": geo.mean_inmodal_cosine_from_sum(self.sy, n),
                       "crossmodal": (float(self.sx @ self.sy) - self.sxy) / (n * (n - 1)),
                       "matched": self.sxy / n},
            "rmg": geo.rmg_from_sums(self.sx, self.sy, self.sxy, n),
            "alignment": self.sdist2 / n,
        }


def dimension_gap_from_vector(gap: np.ndarray) -> dict:
    """geometry.dimension_gap from the streamed gap vector mean(x) - mean(y): |gap| largest first
    (stable: lower dimension first on ties) and the cumulative share of ||gap||^2."""
    g = np.abs(gap)
    order = np.argsort(-g, kind="stable")
    sq = g[order] ** 2
    total = float(sq.sum())
    return {"dimension": order.astype(np.int64), "abs_gap": g[order],
            "share": np.cumsum(sq) / total if total > 0 else np.zeros_like(sq)}


def rows_per_block(d: int, block_bytes: int = BLOCK_BYTES) -> int:
    return max(64, int(block_bytes // (8 * max(1, d))))


def moments(ss: ShardSet, a: str, b: str, block_bytes: int = BLOCK_BYTES) -> PairMoments:
    acc = PairMoments(ss.dim)
    for _, blk in ss.blocks([a, b], rows_per_block(ss.dim, block_bytes)):
        acc.update(blk[a], blk[b])
    return acc


def uniformity(ss: ShardSet, name: str, t: float = UNIFORMITY_T, exact_pairs: int = EXACT_PAIRS,
               sample_pairs: int = UNIFORMITY_PAIRS, seed: int = SEED, block_bytes: int = BLOCK_BYTES) -> dict:
    """log mean exp(-t ||x_i - x_j||^2): over all pairs i < j when there are at most `exact_pairs`,
    else over `sample_pairs` seeded uniform pairs (see `sample_pairs_for`)."""
    n = ss.n
    total = n * (n - 1) // 2
    if total <= exact_pairs:
        rows = min(2048, rows_per_block(ss.dim, block_bytes))
        s, count = 0.0, 0
        blocks = list(range(0, n, rows))
        for bi in blocks:
            xi = ss.gather(name, np.arange(bi, min(n, bi + rows)))
            qi = np.einsum("ij,ij->i", xi, xi)
            for bj in blocks:
                if bj < bi:
                    continue
                xj = xi if bj == bi else ss.gather(name, np.arange(bj, min(n, bj + rows)))
                qj = qi if bj == bi else np.einsum("ij,ij->i", xj, xj)
                sq = np.maximum(qi[:, None] + qj[None, :] - 2.0 * (xi @ xj.T), 0.0)
                e = np.exp(-t * sq)
                if bj == bi:
                    iu = np.triu_indices(e.shape[0], k=1)
                    s += float(e[iu].sum())
                    count += iu[0].size
                else:
                    s += float(e.sum())
                    count += e.size
        return {"value": float(np.log(s / count)), "mode": "exact", "pairs": count, "t": t}
    i_all, j_all = sample_pairs_for(n, sample_pairs, seed)
    chunk = max(256, rows_per_block(ss.dim, block_bytes) // 2)
    s = s2 = 0.0
    for lo in range(0, sample_pairs, chunk):
        i, j = i_all[lo:lo + chunk], j_all[lo:lo + chunk]
        diff = ss.gather(name, i) - ss.gather(name, j)
        e = np.exp(-t * np.einsum("ij,ij->i", diff, diff))
        s += float(e.sum())
        s2 += float((e * e).sum())
    mean = s / sample_pairs
    var = max(s2 / sample_pairs - mean * mean, 0.0)
    stderr = float(np.sqrt(var / sample_pairs) / mean)   # delta method: se(log m) = se(m) / m
    return {"value": float(np.log(mean)), "mode": "sampled", "pairs": int(sample_pairs), "seed": seed, "t": t,
            "stderr": stderr}


def sample_pairs_for(n: int, m: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """`m` uniform random pairs (i, j) of distinct items of n: i ~ U{0..n-1}, j ~ U{0..n-2} shifted
    past i; numpy default_rng(seed), so the sample depends only on (n, m, seed)."""
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, size=m)
    j = rng.integers(0, n - 1, size=m)
    j = j + (j >= i)
    return i, j


def stream_metrics(ss: ShardSet, a: str | None = None, b: str | None = None, ks=(1, 5, 10),
                   retrieval: str = "auto", uniformity_pairs: int = UNIFORMITY_PAIRS, exact_pairs: int = EXACT_PAIRS,
                   seed: int = SEED, block_bytes: int = BLOCK_BYTES, **knn_options) -> dict:
    """Every streaming metric of modalities a and b (default: the first two of the shards)."""
    a = a or ss.names[0]
    b = b or ss.names[1]
    ss.check(a)
    ss.check(b)
    out = {"pair": [a, b], "shards": len(ss.shards), **moments(ss, a, b, block_bytes).metrics()}
    out["uniformity"] = {name: uniformity(ss, name, exact_pairs=exact_pairs, sample_pairs=uniformity_pairs,
                                          seed=seed, block_bytes=block_bytes) for name in (a, b)}
    out["alignment_alpha"] = ALIGNMENT_ALPHA
    if retrieval != "off":
        from exporters.scale.knn import recall_at_k

        out["retrieval"] = recall_at_k(ss, a, b, ks, mode=retrieval, seed=seed, **knn_options)
    return out
