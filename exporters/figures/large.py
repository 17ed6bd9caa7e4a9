"""Figure 10: the large set (e.g. 5000 pairs): projections with pair lines, and the full similarity
matrix (10,000 x 10,000 cells at 5,000 pairs) as a tile pyramid the page explores down to single cells.

Views per model: UMAP of all items after closing the gap; UMAP fitted on the first modality with the
second placed out of sample (closes the gap visually only); UMAP of the concatenated pair vectors
(one point per pair). The gap-open picture is the 100-pair explorer's; at this size each UMAP costs
tens of seconds on two cores, so the build computes only the views that answer the section's
question. Coordinates in [-1, 1] at 3 decimals, as int16 thousandths (_encoding.pack_points).

The heatmap is the section's first model only: its pyramid is tens of MB (a few kB per tile, fetched on
demand), and the scatter of any model links to it by pair. Gap open, rows in the clustered order of
the explorer's heatmap (exporters/analysis/tiles.py).
"""

from __future__ import annotations

import gzip
import hashlib
import math

import numpy as np

from exporters.analysis import tiles
from exporters.analysis.gap import close_gap
from exporters.analysis.projection import SEED, concat_pairs, umap_out_of_sample
from exporters.analysis.projection import VERSION as PROJECTION_VERSION
from exporters.cache import cached_arrays
from exporters.figures._context import FigureContext
from exporters.figures._encoding import r4, slug, unit_box
from exporters.figures._sections import _digest, _texts, cached_projection, items_file, load_section
from exporters.pairs import EmbeddingSet, PairedDataset

ID = "large"
TEMPLATE = "large"
PYRAMID_VERSION = 3   # 2: tiles gzipped; 3: one file per plane (the block max apart from the mean)


def build(ctx: FigureContext, section: str = "large", **_: object) -> dict | None:
    sec = load_section(ctx, section)
    if sec is None:
        return None
    ds, models = sec
    items = items_file(ctx, section, ds)
    out = []
    for mid, emb in models.items():
        views = _views(ctx, ds, emb)
        # one file a view: a reader fetches the view they open, not all three
        files = {v: ctx.write_points(f"data/{slug(section)}/{slug(mid)}-{v}.bin", xy) for v, xy in views.items()}
        out.append({"id": mid, "label": str(ctx.world.label(mid)), "views": files})
    first = next(iter(models))
    return {"section": section, "n": len(ds), "dataset": ds.id, "items": items, "models": out,
            "modalities": [ds.modality(k).label for k in ds.names[:2]],
            "views": ["closed", "oos", "concat"],
            "heatmap": heatmap(ctx, section, ds, first, models[first])}


def _views(ctx: FigureContext, ds: PairedDataset, emb: EmbeddingSet) -> dict[str, np.ndarray]:
    """The three UMAP views of one model (cached by content): gap closed, out of sample, concatenated pairs."""
    a, b = ds.names[0], ds.names[1]
    x, y = emb.blocks[a], emb.blocks[b]
    xc, yc = close_gap(x, y)
    views = {"closed": unit_box(cached_projection(ctx, np.vstack([xc, yc]), "UMAP"))}
    parts = {"what": "umap_oos", "seed": SEED, "data": _digest([x, y]), "v": 1, "settings": PROJECTION_VERSION}
    arr, _ = cached_arrays(parts, lambda: dict(zip(("fit", "proj"), umap_out_of_sample(x, y))),
                           ctx.cache_dir / "projections")
    views["oos"] = unit_box(np.vstack([arr["fit"], arr["proj"]]))
    views["concat"] = unit_box(cached_projection(ctx, concat_pairs([x, y]), "UMAP"))
    return views


# -- shared work (exporters/parallel.py): pieces that only fill the cache, so two processes can split them ----
def units(ctx: FigureContext, section: str = "large") -> list[str]:
    """This figure's slow work in independent pieces, the heaviest first: the first model's tile pyramid, then
    each model's embeddings and views. Both processes of a build take pieces from this list until it is
    empty; `build` then finds everything in the cache."""
    opts = ctx.section_opts(section)
    if opts is None:
        return []
    return ["heatmap"] + [f"views:{m}" for m in opts["models"]]


def warm(ctx: FigureContext, unit: str, section: str = "large") -> None:
    """Compute one piece of `units` into the cache (embeddings, projections, the pyramid); writes no file of
    the export."""
    opts = ctx.section_opts(section)
    kind, _, mid = unit.partition(":")
    if kind == "heatmap":
        mid = opts["models"][0]
    elif kind != "views" or mid not in opts["models"]:
        raise ValueError(f"large: unknown unit {unit!r}")
    ds = ctx.world.dataset(opts["dataset"])
    emb = ctx.world.embeddings(mid, opts["dataset"])
    if kind == "heatmap":
        _pyramid(ctx, ds, emb)
    else:
        _views(ctx, ds, emb)


def _pyramid_arrays(e: np.ndarray, n: int, texts: list[str] | None, rows: np.ndarray, cols: np.ndarray) -> dict:
    """Everything the heatmap needs, as arrays for the cache: the order, the tiles in one blob with an
    index (p, ti, tj, plane, start, length), the scale and the overview's diagonal summary. Each plane of a
    coarse tile is its own file (tiles.tile_files: the page fetches the block max only when shown). Gzipped
    here (mtime 0: byte-identical), as the explorer's matrices: hosts seldom compress octet-stream."""
    c = tiles.leaf_cluster_order(rows, cols, 10, texts)
    order = np.asarray(c.order)
    m = e.shape[0] // n
    eo = np.vstack([e[k * n:(k + 1) * n][order] for k in range(m)])
    sc = tiles.value_scale(*tiles.similarity_range(eo))
    factors = tiles.pool_factors(n, m)
    index, chunks, start = [], [], 0
    for p, ti, tj, raw in tiles.pyramid(eo, n, factors, sc):
        for plane, part in tiles.tile_files(p, raw):
            data = gzip.compress(part, compresslevel=9, mtime=0)
            index.append((p, ti, tj, plane, start, len(data)))
            chunks.append(data)
            start += len(data)
    s = tiles.diagonal_summary(eo, n, factors[-1])
    return {"order": order, "sizes": np.asarray(c.sizes), "labels": np.asarray(c.labels, dtype=str),
            "blob": np.frombuffer(b"".join(chunks), np.uint8), "index": np.asarray(index, np.int64),
            "scale": np.asarray([sc.offset, sc.scale]),
            "summary": np.asarray([s["pair_mean"], s["block_mean"], s["block_max"]])}


def _pyramid(ctx: FigureContext, ds: PairedDataset, emb: EmbeddingSet) -> dict:
    """The pyramid's arrays (_pyramid_arrays), cached by content."""
    names = ds.names[:2]
    x, y = emb.blocks[names[0]], emb.blocks[names[1]]
    texts = _texts(ds)
    text_key = hashlib.sha256("\n".join(texts or []).encode("utf-8")).hexdigest()
    parts = {"what": "tile_pyramid", "data": _digest([x, y]), "texts": text_key, "tile": tiles.TILE,
             "overview": tiles.OVERVIEW, "v": PYRAMID_VERSION}
    # rows of text x image, as the explorer clusters its heatmap (its cluster key names[1]_names[0])
    arr, _ = cached_arrays(parts, lambda: _pyramid_arrays(np.vstack([x, y]), len(ds), texts, y, x),
                           ctx.cache_dir / "projections")
    return arr


def heatmap(ctx: FigureContext, section: str, ds: PairedDataset, mid: str, emb: EmbeddingSet) -> dict:
    """Write the tile pyramid of one model's similarity matrix (all modalities, gap open) and its
    metadata; return what the page and its prose need (URLs, bytes, the pooling facts)."""
    names = ds.names[:2]
    n, m = len(ds), len(names)
    arr = _pyramid(ctx, ds, emb)
    base = f"data/{slug(section)}/tiles/{slug(mid)}"
    blob = arr["blob"].tobytes()
    levels: dict[int, dict] = {}
    for p, ti, tj, plane, start, length in arr["index"].tolist():
        ctx.write_bytes(f"{base}/{p}/{ti}-{tj}{tiles.PLANE_SUFFIX[plane]}.bin", blob[start:start + length])
        lv = levels.setdefault(p, {"p": p, "size": m * math.ceil(n / p), "planes": ["value"] if p == 1 else
                                   ["mean", "max"], "tiles": 0, "bytes": 0, "first_bytes": 0})
        lv["tiles"] += 1   # files: one per plane
        lv["bytes"] += length
        lv["first_bytes"] += length if plane == 0 else 0   # the value or block-mean plane
    offset, scale = (float(v) for v in arr["scale"])
    pair_mean, block_mean, block_max = (float(v) for v in arr["summary"])
    overview = max(levels)
    # the order maps a row to its item: needed by hover and the links only, so fetched with the items
    # (on the reader's first pointer or focus), not with the first view (5,000 pairs: 11 kB gzipped)
    order = ctx.write_json(f"data/{slug(section)}/heatmap-{slug(mid)}-order.json", arr["order"].tolist())
    meta = {"model": mid, "label": str(ctx.world.label(mid)), "n": n, "names": names,
            "modalities": [ds.modality(k).label for k in names], "order": order,
            "clusters": {"key": f"{names[1]}_{names[0]}", "sizes": arr["sizes"].tolist(),
                         "labels": [str(v) for v in arr["labels"]]},
            "tile": tiles.TILE, "levels": [levels[p] for p in sorted(levels)], "overview": overview,
            "view_cells": tiles.OVERVIEW,   # cells across a view, at most (the page picks its level by it)
            "offset": offset, "scale": scale, "max_abs_error": math.ceil(scale / 2 * 1e6) / 1e6,
            "tiles": base + "/{p}/{i}-{j}.bin", "tiles_max": base + "/{p}/{i}-{j}" + tiles.PLANE_SUFFIX[1] + ".bin",
            "gzip": True}
    src = ctx.write_json(f"data/{slug(section)}/heatmap-{slug(mid)}.json", meta)
    return {"model": mid, "label": meta["label"], "src": src, "side": m * n, "cells": (m * n) ** 2,
            "levels": sorted(levels), "overview": overview, "max_abs_error": meta["max_abs_error"],
            "zrange": [offset, round(offset + 255 * scale, 6)],
            "pyramid_bytes": sum(v["bytes"] for v in levels.values()),
            "first_view_bytes": ctx.written[src] + levels[overview]["first_bytes"],   # block means only
            "pairs": {"mean": r4(pair_mean), "overview_mean": r4(block_mean), "overview_max": r4(block_max)}}


def facts(data: dict) -> dict:
    """The models and the heatmap's numbers the large page states (the cells it has, the block size of its
    overview, the true pairs' mean similarity against what the overview's mean and maximum cells show)."""
    return {"n": data["n"], "dataset": data["dataset"], "labels": [m["label"] for m in data["models"]],
            "model_ids": [m["id"] for m in data["models"]], "heatmap": data["heatmap"]}
