"""R@k against the full gallery with faiss, shard by shard: exact where the index fits, approximate with
a measured recall where it does not.

The rank of a query is what exporters/analysis/retrieval.py defines: the number of gallery items
whose content differs from the partner's and whose similarity is strictly greater than the
partner's; R@k is the fraction of queries with rank < k, in both directions.

Exact (`IndexFlatIP`, float32 vectors, n * d * 4 bytes): each query searches a shortlist of L
neighbours. faiss's float32 scores are within eps = 2 d 2^-24 of the float64 similarity of the same
vectors (|x . y| <= 1), so a candidate more than eps above (below) the partner's float64
similarity surely beats it (surely does not); the few within eps are recomputed in float64. A
query is settled when its count reaches max(k), or when the L-th score is below the partner's
similarity minus eps (nothing unseen can beat it); otherwise L grows fourfold. The ranks are then
exactly the in-memory ones computed from the shards' vectors.

Approximate (`IVF{nlist},PQ{m}x4fs`: sqrt(n) inverted lists, 4-bit fast-scan product quantisation
with m = d/4 sub-quantizers, d/8 bytes a vector, trained on a seeded sample of max(9984, 39 nlist)
gallery rows, nprobe 32): a shortlist of 4 max(k) + 16 from the index, re-ranked with the exact
float64 similarities of its vectors. A beat the index misses makes a rank too small,
so R@k can only be overestimated; how much is measured on `recall_queries` seeded queries whose
exact ranks are computed by brute force over the shards (streamed): R@k on that sample both ways,
the fraction of queries whose capped rank agrees, and the neighbour recall@k (the share of the
true k nearest neighbours among the k best of the re-ranked shortlist).
"""

from __future__ import annotations

import math

import numpy as np

from exporters.errors import UserError
from exporters.scale.shards import ShardSet

INDEX_BUDGET = 2 * 1024 ** 3
BLOCK_BYTES = 32 * 1024 * 1024


def _faiss():
    from exporters.scale import need

    return need("faiss", "R@k over shards (faiss-cpu)")


def _eps(d: int) -> float:
    return 2.0 * d * 2.0 ** -24 + 1e-12


def recall_at_k(ss: ShardSet, a: str, b: str, ks=(1, 5, 10), mode: str = "auto", index_budget: int = INDEX_BUDGET,
                seed: int = 0, nlist: int | None = None, pq_m: int | None = None, nprobe: int = 32,
                recall_queries: int = 1000, block_bytes: int = BLOCK_BYTES, threads: int | None = None) -> dict:
    """R@k both ways (keys '<a>2<b>@k', '<b>2<a>@k'), with how it was computed."""
    faiss = _faiss()
    if threads:
        faiss.omp_set_num_threads(int(threads))
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise UserError(f"R@k: k must be positive, got {ks}")
    n, d = ss.n, ss.dim
    flat_bytes = n * d * 4
    if mode == "auto":
        mode = "exact" if flat_bytes <= index_budget else "approx"
    if mode not in ("exact", "approx"):
        raise UserError(f"unknown retrieval mode {mode!r}; use auto, exact, approx or off")
    out: dict = {"mode": mode, "ks": ks, "n": n}
    for q, g in ((a, b), (b, a)):
        tag = f"{q}2{g}"
        if mode == "exact":
            index = faiss.IndexFlatIP(d)
            for _, blk in ss.blocks([g], _rows(d, block_bytes)):
                index.add(np.ascontiguousarray(blk[g], dtype=np.float32))
            ranks, stats = _exact_ranks(ss, index, q, g, max(ks), block_bytes)
            out["index"] = {"type": "IndexFlatIP", "bytes": flat_bytes}
        else:
            index, desc = _ivfpq(ss, g, seed, nlist, pq_m, nprobe, block_bytes)
            ranks, stats = _approx_ranks(ss, index, q, g, max(ks), block_bytes)
            out["index"] = desc
            out[f"{tag}_measured"] = _measure(ss, index, q, g, ks, ranks, recall_queries, seed, block_bytes)
        for k in ks:
            out[f"{tag}@{k}"] = float(np.mean(ranks < k))
        out[f"{tag}_search"] = stats
        del index
    return out


def _rows(d: int, block_bytes: int) -> int:
    return max(64, int(block_bytes // (8 * max(1, d))))


def _exact_ranks(ss: ShardSet, index, q: str, g: str, kmax: int, block_bytes: int) -> tuple[np.ndarray, dict]:
    n, d = ss.n, ss.dim
    eps = _eps(d)
    ranks = np.empty(n, dtype=np.int64)
    stats = {"searches": 0, "max_shortlist": 0, "rechecked": 0}
    for start, blk in ss.blocks([q, g], _rows(d, block_bytes)):
        x, y = blk[q], blk[g]
        m = x.shape[0]
        s_part = np.einsum("ij,ij->i", x, y)
        pgroups = ss.content(g, np.arange(start, start + m))
        todo = np.arange(m)
        L = min(n, kmax + 16)
        while todo.size:
            # bound the (queries x L) arrays of one search by the block budget
            step = max(1, int(block_bytes // (24 * L)))
            still = []
            for lo in range(0, todo.size, step):
                rows = todo[lo:lo + step]
                D, I = index.search(np.ascontiguousarray(x[rows], dtype=np.float32), L)
                stats["searches"] += 1
                stats["max_shortlist"] = max(stats["max_shortlist"], L)
                valid = I >= 0
                cg = ss.content(g, np.where(valid, I, 0).ravel()).reshape(I.shape + (2,))
                other = valid & np.any(cg != pgroups[rows][:, None, :], axis=-1)
                sp = s_part[rows][:, None]
                count = (other & (D > sp + eps)).sum(axis=1)
                band = other & (np.abs(D - sp) <= eps)
                if band.any():
                    r_idx, c_idx = np.nonzero(band)
                    exact = np.einsum("ij,ij->i", x[rows][r_idx], ss.gather(g, I[r_idx, c_idx]))
                    stats["rechecked"] += int(r_idx.size)
                    np.add.at(count, r_idx, (exact > s_part[rows][r_idx]).astype(np.int64))
                settled = (count >= kmax) | (L >= n) | (~valid).any(axis=1) | (D[:, -1] < s_part[rows] - eps)
                ranks[start + rows[settled]] = np.minimum(count[settled], kmax)
                still.append(rows[~settled])
            todo = np.concatenate(still) if still else np.empty(0, dtype=np.int64)
            L = min(n, L * 4)
    return ranks, stats


def _ivfpq(ss: ShardSet, g: str, seed: int, nlist: int | None, pq_m: int | None, nprobe: int, block_bytes: int):
    faiss = _faiss()
    n, d = ss.n, ss.dim
    nlist = int(nlist or max(1, min(65536, int(math.sqrt(n)), n // 39)))
    if pq_m is None:   # 4-bit fast-scan PQ: d/4 sub-quantizers, d/8 bytes a vector (an even count)
        pq_m = max(2, d // 4)
    if d % pq_m or pq_m % 2:
        raise UserError(f"approximate R@k: PQ sub-quantizers ({pq_m}) must be even and divide the dimension {d}")
    rng = np.random.default_rng(seed)
    n_train = min(n, max(256 * 39, 39 * nlist))
    train_idx = np.sort(rng.choice(n, size=n_train, replace=False))
    nbits = 4
    factory = f"IVF{nlist},PQ{pq_m}x{nbits}fs"
    index = faiss.index_factory(d, factory, faiss.METRIC_INNER_PRODUCT)
    train = np.ascontiguousarray(ss.gather(g, train_idx), dtype=np.float32)
    if hasattr(index, "cp"):
        index.cp.seed = int(seed)
    index.train(train)
    del train
    for _, blk in ss.blocks([g], _rows(d, block_bytes)):
        index.add(np.ascontiguousarray(blk[g], dtype=np.float32))
    index.nprobe = int(min(nprobe, nlist))
    code_bytes = pq_m * nbits / 8
    return index, {"type": factory, "nprobe": index.nprobe, "train": n_train,
                   "bytes": int(n * (code_bytes + 8) + nlist * d * 4 + pq_m * (2 ** nbits) * (d // pq_m) * 4)}


def _approx_ranks(ss: ShardSet, index, q: str, g: str, kmax: int, block_bytes: int) -> tuple[np.ndarray, dict]:
    n, d = ss.n, ss.dim
    L = min(n, 4 * kmax + 16)
    ranks = np.empty(n, dtype=np.int64)
    step = max(1, int(block_bytes // (8 * L * d)))
    for start, blk in ss.blocks([q, g], _rows(d, block_bytes)):
        x, y = blk[q], blk[g]
        s_part = np.einsum("ij,ij->i", x, y)
        pgroups = ss.content(g, np.arange(start, start + x.shape[0]))
        for lo in range(0, x.shape[0], step):
            rows = np.arange(lo, min(x.shape[0], lo + step))
            ranks[start + rows] = _shortlist_ranks(ss, index, g, x[rows], s_part[rows], pgroups[rows], L, kmax)
    return ranks, {"shortlist": L}


def _shortlist_ranks(ss, index, g, x, s_part, pgroups, L, kmax):
    _, I = index.search(np.ascontiguousarray(x, dtype=np.float32), L)
    valid = I >= 0
    flat = np.where(valid, I, 0).ravel()
    vecs = ss.gather(g, flat).reshape(I.shape + (ss.dim,))
    sims = np.einsum("id,ild->il", x, vecs)
    cg = ss.content(g, flat).reshape(I.shape + (2,))
    other = valid & np.any(cg != pgroups[:, None, :], axis=-1)
    return np.minimum((other & (sims > s_part[:, None])).sum(axis=1), kmax)


def _measure(ss: ShardSet, index, q: str, g: str, ks: list[int], ann_ranks: np.ndarray, queries: int, seed: int,
             block_bytes: int) -> dict:
    """Exact ranks and top-k neighbours of a seeded sample of queries by brute force over the shards."""
    n, d = ss.n, ss.dim
    kmax = max(ks)
    nq = min(n, int(queries))
    idx = np.sort(np.random.default_rng(seed + 1).choice(n, size=nq, replace=False))
    xq = ss.gather(q, idx)
    s_part = np.einsum("ij,ij->i", xq, ss.gather(g, idx))
    pg = ss.content(g, idx)
    exact = np.zeros(nq, dtype=np.int64)
    top_s = np.full((nq, kmax), -np.inf)
    top_i = np.full((nq, kmax), -1, dtype=np.int64)
    rows = max(64, int(block_bytes // (8 * max(nq, d))))
    for start, blk in ss.blocks([g], rows):
        s = xq @ blk[g].T
        cg = ss.content(g, np.arange(start, start + s.shape[1]))
        other = np.any(cg[None, :, :] != pg[:, None, :], axis=-1)
        exact += ((s > s_part[:, None]) & other).sum(axis=1)
        both_s = np.concatenate([top_s, s], axis=1)
        both_i = np.concatenate([top_i, np.broadcast_to(np.arange(start, start + s.shape[1]), s.shape)], axis=1)
        keep = np.argpartition(-both_s, kmax - 1, axis=1)[:, :kmax]
        top_s = np.take_along_axis(both_s, keep, axis=1)
        top_i = np.take_along_axis(both_i, keep, axis=1)
    L = min(n, 4 * kmax + 16)      # the shortlist _approx_ranks uses, re-ranked exactly
    _, I = index.search(np.ascontiguousarray(xq, dtype=np.float32), L)
    sims = np.einsum("id,ild->il", xq, ss.gather(g, np.where(I >= 0, I, 0).ravel()).reshape(I.shape + (d,)))
    sims[I < 0] = -np.inf
    best = np.take_along_axis(I, np.argsort(-sims, axis=1, kind="stable")[:, :kmax], axis=1)
    hit = np.mean([len(set(best[r]) & set(top_i[r])) / kmax for r in range(nq)])
    ann = ann_ranks[idx]
    out = {"queries": nq, "seed": seed + 1, f"neighbour_recall@{kmax}": float(hit),
           "capped_rank_agreement": float(np.mean(np.minimum(exact, kmax) == ann))}
    for k in ks:
        out[f"exact@{k}"] = float(np.mean(exact < k))
        out[f"approx@{k}"] = float(np.mean(ann < k))
        p = out[f"exact@{k}"]
        out[f"exact@{k}_stderr"] = float(np.sqrt(p * (1 - p) / nq))
    return out
