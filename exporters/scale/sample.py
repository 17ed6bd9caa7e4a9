"""A reproducible, stratified sample of the shards for the article's figures (heatmaps, projections).

Strata are the manifest's `stratum` column (one stratum when there is none). The sample size k is
allocated to strata in proportion to their sizes (largest remainders; a stratum that would get
none gets one when k is at least the number of strata). Within a stratum the items with the smallest priority
u = first 8 bytes of sha256("<seed>:<item id>") are taken: bottom-k sampling, a uniform sample
without replacement that depends only on the seed, the ids and the strata - not on shard size,
order, or the number of workers - and streams with O(k) memory (a heap per stratum).
"""

from __future__ import annotations

import hashlib
import heapq
from collections import Counter
from pathlib import Path

import numpy as np

from exporters.errors import UserError
from exporters.scale.shards import ShardSet


def priority(seed: int, item_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{item_id}".encode("utf-8", "surrogatepass")).digest()[:8], "big")


def allocate(counts: dict[str, int], k: int) -> dict[str, int]:
    """Proportional allocation of k over strata by largest remainders (Hamilton); then every empty
    stratum gets one item, taken from the largest allocation, when k >= the number of strata."""
    total = sum(counts.values())
    k = min(int(k), total)
    names = sorted(counts)
    quota = {s: k * counts[s] / total for s in names}
    alloc = {s: int(quota[s]) for s in names}
    for s in sorted(names, key=lambda s: (-(quota[s] - alloc[s]), s))[:k - sum(alloc.values())]:
        alloc[s] += 1
    if k >= len(names):
        for s in names:
            if alloc[s] == 0 and counts[s] > 0:
                donor = max(names, key=lambda t: (alloc[t], t))
                alloc[donor] -= 1
                alloc[s] = 1
    return alloc


def stratified_sample(ss: ShardSet, k: int, seed: int = 0) -> dict:
    """{'index': global rows (sorted), 'ids', 'strata', 'allocation', 'counts', 'seed'}."""
    if k < 1:
        raise UserError(f"sample size must be positive, got {k}")
    counts: Counter = Counter()
    for i in range(len(ss.shards)):
        it = ss.items(i)
        counts.update(it.get("strata") or [""] * len(it["ids"]))
    alloc = allocate(dict(counts), k)
    heaps: dict[str, list] = {s: [] for s in alloc}
    for i in range(len(ss.shards)):
        it = ss.items(i)
        strata = it.get("strata") or [""] * len(it["ids"])
        base = int(ss.offsets[i])
        for j, (item_id, s) in enumerate(zip(it["ids"], strata)):
            want = alloc[s]
            if not want:
                continue
            entry = (-priority(seed, item_id), base + j, item_id)
            h = heaps[s]
            if len(h) < want:
                heapq.heappush(h, entry)
            elif entry[0] > h[0][0]:
                heapq.heapreplace(h, entry)
    chosen = sorted((e[1], e[2], s) for s, h in heaps.items() for e in h)
    return {"index": np.array([c[0] for c in chosen], dtype=np.int64), "ids": [c[1] for c in chosen],
            "strata": [c[2] for c in chosen], "allocation": alloc, "counts": dict(counts), "seed": seed}


def write_sample(ss: ShardSet, sample: dict, path: str | Path) -> Path:
    """The sample as an .npz: one (k, d) float32 array per modality (rows L2-normalised, as in the
    shards), `ids`, `strata` and `index` (global rows) - the layout of the `arrays` model source."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {name: ss.gather(name, sample["index"], dtype=np.float32) for name in ss.names}
    np.savez(path, **arrays, ids=np.array(sample["ids"]), strata=np.array(sample["strata"]),
             index=sample["index"])
    return path
