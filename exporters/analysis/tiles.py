"""A multi-resolution tile pyramid of a large similarity matrix, so a browser can explore 10,000 x 10,000
cells by fetching only the tiles of the view it shows.

Level p holds the matrix pooled over p x p cells (p = 1, 4, 8, ... up to an overview of at most
`OVERVIEW` cells a side). A coarse level keeps two planes per cell: the block mean (what the region is
like) and the block max (so that no single strong cell -- a true pair, a near-duplicate -- disappears
in an average). Values are uint8 on one scale for the whole pyramid (decoded = offset + q * scale,
error <= scale / 2), cut into square tiles of `TILE` cells; the matrix is symmetric, so only tiles
(i, j) with i <= j are produced and (j, i) is the transpose of (i, j).

Rows are ordered like the article's clustered heatmaps (`clustering.cluster_order`: complete linkage on
the rows of 1 - (text x image), clusters in the same order, with the same sizes and labels), and inside
each cluster by the dendrogram's leaf order, so similar rows sit together at every zoom.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, leaves_list, linkage
from scipy.spatial.distance import pdist

from exporters.analysis.clustering import Clustering, cluster_labels
from exporters.errors import UserError

TILE = 256        # cells a side of one tile (64 KiB per plane at uint8)
OVERVIEW = 320    # the coarsest level has at most this many cells a side (its tiles are the first view)
STRIPE = 512      # full-resolution rows computed at once (bounds memory: STRIPE x N float64)


def cross_row_distances(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of 1 - rows @ colsᵀ, condensed (scipy's pdist order).

    Row i of that matrix minus row j is -cols (r_i - r_j), so its length is |R (r_i - r_j)| with
    RᵀR = colsᵀcols: the distances of n rows of n columns come from n points of the embedding's dimension
    (pdist over 5,000 x 5,000 takes minutes on two cores; this, a second)."""
    rows, cols = np.asarray(rows, np.float64), np.asarray(cols, np.float64)
    w, v = np.linalg.eigh(cols.T @ cols)
    r = np.sqrt(np.clip(w, 0.0, None))[:, None] * v.T
    return pdist(rows @ r.T)


def leaf_cluster_order(rows: np.ndarray, cols: np.ndarray, n_clusters: int = 10,
                       texts: Sequence[str] | None = None) -> Clustering:
    """`clustering.cluster_order(rows @ colsᵀ, ...)`'s partition, clusters in its order with its labels;
    items inside a cluster in the dendrogram's leaf order (not their original order), so that
    neighbouring rows are similar at every zoom."""
    n = len(rows)
    if n < 2:
        return Clustering(order=list(range(n)), sizes=[n] if n else [], labels=[""] * (1 if n else 0),
                          assignment=[0] * n)
    z = linkage(cross_row_distances(rows, cols), method="complete")
    ids = fcluster(z, max(1, min(n_clusters, n)), criterion="maxclust") - 1
    leaf_rank = np.empty(n, int)
    leaf_rank[leaves_list(z)] = np.arange(n)
    uniq = sorted(set(ids.tolist()))
    assignment = np.searchsorted(uniq, ids)
    order = np.lexsort((leaf_rank, assignment))
    groups = [np.flatnonzero(assignment == k).tolist() for k in range(len(uniq))]
    labels = cluster_labels(texts, groups) if texts is not None else [""] * len(uniq)
    return Clustering(order=order.tolist(), sizes=[len(g) for g in groups], labels=labels,
                      assignment=assignment.tolist())


def pool_factors(n: int, m: int, overview: int = OVERVIEW) -> list[int]:
    """Pooling factors 1, 4, 8, 16, ... until a level of m blocks of n items has at most `overview` cells a
    side. No level 2: it would hold a third of the pyramid's bytes for views hardly sharper than level 4's
    (at most 2 screen pixels per cell where the view switches to level 1)."""
    if n < 1 or m < 1 or overview < m:
        raise UserError(f"tile pyramid: {m} blocks of {n} items cannot fit an overview of {overview} cells")
    out = [1]
    while m * math.ceil(n / out[-1]) > overview:
        out.append(4 if out[-1] == 1 else out[-1] * 2)
    return out


def group_starts(n: int, m: int, p: int) -> np.ndarray:
    """First full-resolution row of every cell of level p. Each of the m modality blocks (n rows) is
    pooled on its own, so an overview cell never mixes in-modal and cross-modal similarities; the last
    cell of a block has n mod p rows when p does not divide n."""
    return np.concatenate([a * n + np.arange(0, n, p) for a in range(m)])


@dataclass(frozen=True)
class Scale:
    """uint8 encoding shared by every level: value = offset + q * scale, |error| <= scale / 2."""

    offset: float
    scale: float

    @property
    def error(self) -> float:
        return self.scale / 2.0

    def encode(self, v: np.ndarray) -> np.ndarray:
        q = np.subtract(v, self.offset, dtype=np.float64)
        q /= self.scale
        np.rint(q, out=q)
        np.clip(q, 0, 255, out=q)
        return q.astype(np.uint8)

    def decode(self, q: np.ndarray) -> np.ndarray:
        return self.offset + q.astype(np.float64) * self.scale


def value_scale(lo: float, hi: float) -> Scale:
    """A scale covering [lo, hi] with ends rounded outwards to 4 decimals (so the bound holds exactly)."""
    a, b = math.floor(lo * 1e4) / 1e4, math.ceil(hi * 1e4) / 1e4
    if not b > a:
        b = a + 1e-4
    return Scale(offset=a, scale=(b - a) / 255.0)


def similarity_range(e: np.ndarray) -> tuple[float, float]:
    """(min, max) of E Eᵀ (clipped to [-1, 1]) without holding the matrix: its upper triangle suffices."""
    lo, hi = np.inf, -np.inf
    for r in range(0, e.shape[0], STRIPE):
        s = e[r:r + STRIPE] @ e[r:].T
        lo, hi = min(lo, float(s.min())), max(hi, float(s.max()))
    return max(lo, -1.0), min(hi, 1.0)


def _level_columns(n: int, m: int, factors: Sequence[int]) -> tuple[dict, dict]:
    """For each level p > 1, where its cells start among the previous level's cells; for every level, how
    many full-resolution rows (= columns) each of its cells spans."""
    starts, counts = {}, {1: np.ones(m * n)}
    prev = factors[0]
    for p in factors[1:]:
        per_prev = math.ceil(n / prev)
        starts[p] = np.concatenate([a * per_prev + np.arange(0, per_prev, p // prev) for a in range(m)])
        counts[p] = np.add.reduceat(counts[prev], starts[p])
        prev = p
    return starts, counts


def pyramid(e: np.ndarray, n: int, factors: Sequence[int], scale: Scale,
            tile: int = TILE) -> Iterator[tuple[int, int, int, bytes]]:
    """(p, ti, tj, bytes) of every tile with ti <= tj of every level p of E Eᵀ (E: m blocks of n rows).

    A tile is row-major uint8: at p = 1 one plane (the similarities), at p > 1 the block-mean plane, then
    the block-max plane. One pass: each stripe of full-resolution rows is computed once and pooled level
    by level (a level from the one before: sums and maxima of sums and maxima)."""
    m = e.shape[0] // n
    if m * n != e.shape[0] or factors[0] != 1 or any(b % a for a, b in zip(factors, factors[1:])):
        raise UserError(f"tile pyramid: {e.shape[0]} rows must be whole blocks of {n} items and the "
                        f"factors start at 1, each dividing the next (got {list(factors)})")
    col_starts, counts = _level_columns(n, m, factors)
    height = factors[-1] * math.ceil(tile / factors[-1])   # rows per stripe: a multiple of every p
    pending: dict[int, list] = {p: [] for p in factors}
    done = dict.fromkeys(factors, 0)
    for a in range(m):
        for r in range(0, n, height):
            r0, r1 = a * n + r, a * n + min(n, r + height)
            cur = np.clip(e[r0:r1] @ e.T, -1.0, 1.0)
            cur_max, prev = cur, 1
            pending[1].append((cur, cur))
            for p in factors[1:]:
                rs, cs = np.arange(0, cur.shape[0], p // prev), col_starts[p]
                cur = np.add.reduceat(np.add.reduceat(cur, cs, axis=1), rs, axis=0)
                cur_max = np.maximum.reduceat(np.maximum.reduceat(cur_max, cs, axis=1), rs, axis=0)
                pending[p].append((cur, cur_max))
                prev = p
            last = a == m - 1 and r1 == m * n
            for p in factors:
                while pending[p] and (last or sum(len(x[0]) for x in pending[p]) >= tile):
                    sums, maxs = (np.vstack([x[i] for x in pending[p]]) for i in (0, 1))
                    pending[p] = [(sums[tile:], maxs[tile:])] if len(sums) > tile else []
                    ti = done[p]
                    done[p] += 1
                    yield from _tile_row(p, ti, sums[:tile], maxs[:tile], counts[p], scale, tile)


def _tile_row(p: int, ti: int, sums: np.ndarray, maxs: np.ndarray, counts: np.ndarray, scale: Scale,
              tile: int) -> Iterator[tuple[int, int, int, bytes]]:
    g0, size = ti * tile, len(counts)
    g1 = g0 + len(sums)
    if p == 1:
        floats = [sums[:, g0:]]
    else:
        floats = [sums[:, g0:] / (counts[g0:g1, None] * counts[None, g0:]), maxs[:, g0:]]
    planes = []
    for f in floats:   # the diagonal tile exactly symmetric, whatever order BLAS summed in
        f = f.copy()
        d = g1 - g0
        f[:, :d] = (f[:, :d] + f[:, :d].T) / 2.0
        planes.append(scale.encode(f))
    for tj in range(ti, math.ceil(size / tile)):
        a, b = (tj - ti) * tile, min(size, (tj + 1) * tile) - g0
        yield p, ti, tj, b"".join(np.ascontiguousarray(pl[:, a:b]).tobytes() for pl in planes)


def tile_shape(size: int, ti: int, tj: int, tile: int = TILE) -> tuple[int, int]:
    """(rows, cols) of tile (ti, tj) of a level with `size` cells a side."""
    return min(tile, size - ti * tile), min(tile, size - tj * tile)


PLANE_SUFFIX = ("", "-max")   # file name suffix of each plane's file: {i}-{j}.bin (value or mean), {i}-{j}-max.bin


def tile_files(p: int, data: bytes) -> list[tuple[int, bytes]]:
    """A pyramid tile as the files the page fetches, (plane, bytes): one per plane, so that the first view
    (the overview's block means) never carries the block-max plane the reader may not ask for."""
    if p == 1:
        return [(0, data)]
    half = len(data) // 2
    return [(0, data[:half]), (1, data[half:])]


def decode_tile(data: bytes, size: int, ti: int, tj: int, p: int, scale: Scale, tile: int = TILE,
                planes: int | None = None) -> list[np.ndarray]:
    """The planes of one tile as float arrays (the browser's decoding, for tests and benchmarks): by default
    a tile as `pyramid` yields it (both planes at p > 1); planes=1 for one file of `tile_files` (the
    page's unit: one plane)."""
    r, c = tile_shape(size, ti, tj, tile)
    planes = planes or (1 if p == 1 else 2)
    if len(data) != r * c * planes:
        raise UserError(f"tile {ti}-{tj} of level {p}: {len(data)} bytes, expected {r * c * planes}")
    q = np.frombuffer(data, np.uint8).reshape(planes, r, c)
    return [scale.decode(pl) for pl in q]


def diagonal_summary(e: np.ndarray, n: int, p: int) -> dict:
    """What pooling does to the true pairs: their mean similarity (the diagonal of the cross-modal block)
    against the mean, over the cross block's diagonal cells of level p, of the block mean and block max.
    The gap between the last two is what an overview of means alone would hide."""
    x, y = e[:n], e[n:2 * n]
    pair = float(np.mean(np.einsum("ij,ij->i", x, y)))
    means, maxs = [], []
    for r in range(0, n, p):
        s = x[r:r + p] @ y[r:r + p].T
        means.append(float(s.mean()))
        maxs.append(float(s.max()))
    return {"pair_mean": pair, "block_mean": float(np.mean(means)), "block_max": float(np.mean(maxs))}
