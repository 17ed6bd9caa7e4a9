"""The tile pyramid of the large heatmap (exporters/analysis/tiles.py, exporters/figures/large.py): every
cell of every level decodes to the exact block mean / block max of E Eᵀ within the stated bound, each
tile exists once (i <= j), the order is the explorer's clustering, the build is byte-identical, and the
figure's numbers (bytes of the first view, the pooling facts) are what its files say."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from exporters.analysis import tiles
from exporters.analysis.clustering import cluster_order
from exporters.errors import UserError
from exporters.figures import large
from exporters.figures._context import FigureContext
from exporters.pairs import EmbeddingSet, Modality, PairedDataset


def clustered(n: int, d: int = 12, k: int = 5, seed: int = 0, gap: float = 0.8) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Paired unit vectors in k groups (a gap between the modalities) and captions naming the group."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, k, n)
    centres = rng.normal(size=(k, d)) * 2
    shift = np.zeros(d)
    shift[0] = gap
    x = centres[g] + rng.normal(size=(n, d)) + shift
    y = centres[g] + rng.normal(size=(n, d)) - shift
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    words = ["dog", "cat", "boat", "tree", "house", "bird", "car"]
    return unit(x), unit(y), [f"a {words[c % len(words)]} number {i}" for i, c in enumerate(g)]


def brute_level(s: np.ndarray, n: int, m: int, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Block mean and block max of s over level p's cells, the slow obvious way."""
    starts = tiles.group_starts(n, m, p)
    ends = np.append(starts[1:], m * n)
    k = len(starts)
    mean, mx = np.empty((k, k)), np.empty((k, k))
    for a in range(k):
        for b in range(k):
            blk = s[starts[a]:ends[a], starts[b]:ends[b]]
            mean[a, b], mx[a, b] = blk.mean(), blk.max()
    return mean, mx


def assemble(pyr: dict, p: int, size: int, tile: int, sc: tiles.Scale) -> list[np.ndarray]:
    """A level's planes from its upper tiles, mirroring (i, j) into (j, i) as the page does."""
    planes = [np.full((size, size), np.nan) for _ in range(1 if p == 1 else 2)]
    nt = math.ceil(size / tile)
    for i in range(nt):
        for j in range(i, nt):
            for k, pl in enumerate(tiles.decode_tile(pyr[(p, i, j)], size, i, j, p, sc, tile)):
                planes[k][i * tile:i * tile + pl.shape[0], j * tile:j * tile + pl.shape[1]] = pl
                planes[k][j * tile:j * tile + pl.shape[1], i * tile:i * tile + pl.shape[0]] = pl.T
    return planes


def test_cross_row_distances_are_pdist_of_the_cross_block():
    x, y, _ = clustered(60)
    assert np.allclose(tiles.cross_row_distances(y, x), pdist(1.0 - y @ x.T), atol=1e-9)


def test_order_is_the_explorers_clustering_with_leaf_order_inside():
    x, y, texts = clustered(150, seed=3)
    ref = cluster_order(y @ x.T, 10, texts)
    got = tiles.leaf_cluster_order(y, x, 10, texts)
    assert got.sizes == ref.sizes and got.labels == ref.labels and got.assignment == ref.assignment
    assert sorted(got.order) == list(range(150))
    # cluster by cluster, in the explorer's cluster order; only the order inside a cluster differs
    start = 0
    for size, want in zip(ref.sizes, np.split(np.asarray(ref.order), np.cumsum(ref.sizes)[:-1])):
        assert sorted(got.order[start:start + size]) == sorted(want.tolist())
        start += size
    assert got.order != ref.order   # leaf order inside clusters: not the original order


def test_pool_factors_stop_at_the_overview():
    assert tiles.pool_factors(5000, 2) == [1, 4, 8, 16, 32]
    assert 2 * math.ceil(5000 / 32) <= tiles.OVERVIEW < 2 * math.ceil(5000 / 16)
    assert tiles.pool_factors(100, 2) == [1]
    with pytest.raises(UserError, match="cannot fit"):
        tiles.pool_factors(10, 3, overview=2)


@pytest.mark.parametrize("n,m,tile", [(37, 2, 8), (40, 2, 16), (21, 3, 8)])
def test_every_cell_of_every_level_within_the_stated_bound(n, m, tile):
    rng = np.random.default_rng(n)
    e = rng.normal(size=(m * n, 6))
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    s = np.clip(e @ e.T, -1, 1)
    sc = tiles.value_scale(*tiles.similarity_range(e))
    assert sc.offset <= s.min() and sc.offset + 255 * sc.scale >= s.max() - 1e-12
    factors = tiles.pool_factors(n, m, overview=2 * m)
    assert len(factors) >= 3
    pyr = {}
    for p, i, j, data in tiles.pyramid(e, n, factors, sc, tile):
        assert i <= j and (p, i, j) not in pyr     # each tile once, upper only
        pyr[(p, i, j)] = data
    worst = 0.0
    for p in factors:
        size = m * math.ceil(n / p)
        nt = math.ceil(size / tile)
        assert {(i, j) for (q, i, j) in pyr if q == p} == {(i, j) for i in range(nt) for j in range(i, nt)}
        got = assemble(pyr, p, size, tile, sc)
        want = [s] if p == 1 else list(brute_level(s, n, m, p))
        for g, w in zip(got, want):
            assert not np.isnan(g).any()
            err = np.abs(g - w).max()
            assert err <= sc.error + 1e-12, (p, err, sc.error)
            worst = max(worst, err)
        if p > 1:
            assert (got[1] >= got[0] - 2 * sc.error).all()   # a max is never below its mean
    assert worst > 0.5 * sc.error   # the bound is tight, not a loose promise


def test_value_scale_rounds_outwards_and_refuses_bad_tiles():
    sc = tiles.value_scale(-0.80968, 0.99991)
    assert sc.offset == -0.8097 and math.isclose(sc.offset + 255 * sc.scale, 1.0)
    assert sc.error == sc.scale / 2
    with pytest.raises(UserError, match="expected"):
        tiles.decode_tile(b"\x00" * 10, 40, 0, 0, 4, sc, 16)
    with pytest.raises(UserError, match="whole blocks"):
        next(tiles.pyramid(np.eye(5), 2, [1], sc))


def test_pyramid_is_deterministic_and_diagonal_tiles_symmetric():
    x, y, _ = clustered(90, seed=5)
    e = np.vstack([x, y])
    sc = tiles.value_scale(*tiles.similarity_range(e))
    runs = [list(tiles.pyramid(e, 90, [1, 4, 8], sc, 32)) for _ in range(2)]
    assert runs[0] == runs[1]
    for p, i, j, data in runs[0]:
        if i == j:
            r, _ = tiles.tile_shape(2 * math.ceil(90 / p), i, j, 32)
            for pl in np.frombuffer(data, np.uint8).reshape(-1, r, r):
                assert (pl == pl.T).all()


class _World:
    """What FigureContext needs of a world here: model labels."""

    def label(self, mid: str) -> str:
        return {"m": "Model <b>M</b>"}[mid]


def _heatmap(tmp_path: Path, n: int = 700):
    x, y, texts = clustered(n, seed=11)
    ds = PairedDataset("synthetic_v1", tuple(str(i) for i in range(n)),
                       (Modality("image", "image", "Image", tuple(f"{i}.png" for i in range(n))),
                        Modality("text", "text", "Text", tuple(texts))))
    emb = EmbeddingSet("m", ds.id, {"image": x, "text": y}, 30.0, {})
    ctx = FigureContext(world=_World(), out_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
    return ctx, large.heatmap(ctx, "large", ds, "m", emb), x, y, texts


def test_heatmap_files_answer_for_single_pairs(tmp_path):
    ctx, hm, x, y, texts = _heatmap(tmp_path)
    n = 700
    meta = json.loads((ctx.out_dir / hm["src"]).read_text(encoding="utf-8"))
    assert hm["levels"] == [1, 4, 8] and hm["overview"] == 8 and hm["cells"] == (2 * n) ** 2
    # the rows' order is its own file, fetched by the page with the items (not in the first view's bytes)
    order = json.loads((ctx.out_dir / meta["order"]).read_text(encoding="utf-8"))
    assert order == tiles.leaf_cluster_order(y, x, 10, texts).order
    assert hm["first_view_bytes"] == ctx.written[hm["src"]] + meta["levels"][-1]["first_bytes"]
    sc = tiles.Scale(meta["offset"], meta["scale"])
    assert meta["max_abs_error"] >= sc.error and meta["max_abs_error"] - sc.error < 1e-6
    # a cell at full resolution, read like the page: row r of the ordered image block, column c of the text block
    o = np.asarray(order)
    rng = np.random.default_rng(0)
    for r, c in rng.integers(0, n, (25, 2)):
        for (a, ra), (b, cb) in (((0, r), (1, c)), ((1, c), (0, r)), ((0, r), (0, c))):
            R, C = a * n + ra, b * n + cb
            i, j = min(R // 256, C // 256), max(R // 256, C // 256)
            data = gzip.decompress((ctx.out_dir / meta["tiles"].format(p=1, i=i, j=j)).read_bytes())
            t = tiles.decode_tile(data, 2 * n, i, j, 1, sc)[0]
            got = t[R - i * 256, C - j * 256] if R // 256 <= C // 256 else t[C - i * 256, R - j * 256]
            want = (x if a == 0 else y)[o[ra]] @ (x if b == 0 else y)[o[cb]]
            assert abs(got - want) <= meta["max_abs_error"]
    # bytes: the first view is this metadata and the overview's block-mean tiles (each tile's max plane is
    # a file of its own); the pyramid is every file
    over = [f for f in ctx.written if f.startswith("data/large/tiles/m/8/") and not f.endswith("-max.bin")]
    assert len(over) == len([f for f in ctx.written if f.startswith("data/large/tiles/m/8/") and f.endswith("-max.bin")])
    assert hm["first_view_bytes"] == ctx.written[hm["src"]] + sum(ctx.written[f] for f in over)
    assert hm["pyramid_bytes"] == sum(v for f, v in ctx.written.items() if f.endswith(".bin"))
    assert sum(lv["tiles"] for lv in meta["levels"]) == len([f for f in ctx.written if f.endswith(".bin")])
    # the pooling facts the page quotes: true pairs average higher by block max than by block mean
    assert hm["pairs"]["overview_max"] > hm["pairs"]["overview_mean"]
    assert abs(hm["pairs"]["mean"] - float(np.mean(np.sum(x * y, axis=1)))) < 1e-3


def test_heatmap_is_byte_identical_and_cached(tmp_path):
    ctx1, hm1, *_ = _heatmap(tmp_path / "a")
    ctx2, hm2, *_ = _heatmap(tmp_path / "b")
    assert hm1 == hm2 and ctx1.written == ctx2.written
    for rel in ctx1.written:
        assert (ctx1.out_dir / rel).read_bytes() == (ctx2.out_dir / rel).read_bytes(), rel
    # the second build of the same inputs reads the pyramid from the cache, not recomputed
    ctx3, hm3, *_ = _heatmap(tmp_path / "a")
    assert hm3 == hm1 and len(list((tmp_path / "a" / "cache" / "projections").glob("*.npz"))) == 1
