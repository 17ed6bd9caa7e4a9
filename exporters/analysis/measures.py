"""Every measure of issue 10 for one model on one dataset, as scalars, and a plain-text table of them.

This gathers geometry, gap_cost, quadrants, neighbours and honesty into the numbers `inspect --measures`
prints (and that a closing note quotes). Coordinate-dependent numbers are None, printed 'n/def', where
the embeddings' coordinates are not defined (geometry.coordinates_defined).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from exporters.analysis import geometry as geo
from exporters.analysis.gap import close_gap, modality_distance
from exporters.analysis.honesty import projection_honesty
from exporters.analysis.losses import infonce
from exporters.analysis.neighbours import neighbour_mixing
from exporters.analysis.quadrants import hubness, partner_ranks
from exporters.analysis.retrieval import recall_at_k

ABLATE_K = 10            # the ablation row reports dropping this many top gap dimensions
NEIGHBOURS = 10          # k of the neighbour mixing and of kNN recall
PROJECTIONS = ("PCA", "UMAP", "TSNE")


def _state(x, y, logit_scale, batch_size, groups) -> dict:
    row = dict(recall_at_k(x, y, (1, 5), *(groups or (None, None))))
    row["infonce"] = None if logit_scale is None else infonce(x, y, logit_scale, batch_size)
    row["distance"] = modality_distance(x, y)
    return row


def model_measures(x: np.ndarray, y: np.ndarray, logit_scale: float | None, coordinates: bool = True,
                   groups: tuple | None = None, batch_size: int = 50,
                   projections: Sequence[str] = PROJECTIONS, seed: int = 0) -> dict:
    """All scalars for paired unit embeddings x, y (image, text): keys as in `format_measures`."""
    n, d = x.shape
    sep = geo.linear_separability(x, y, seed=seed)
    out: dict = {
        "pairs": int(n), "dims": int(d), "coordinates": bool(coordinates), "logit_scale": logit_scale,
        "geometry": {
            "distance": modality_distance(x, y), "rmg": geo.relative_modality_gap(x, y),
            "alignment": geo.alignment(x, y), "uniformity_x": geo.uniformity(x), "uniformity_y": geo.uniformity(y),
            "separability": sep["accuracy"], "separability_test_pairs": sep["test_pairs"],
            "erank_x": geo.effective_rank(x), "erank_y": geo.effective_rank(y),
            "cos_x": geo.mean_inmodal_cosine(x), "cos_y": geo.mean_inmodal_cosine(y),
        },
    }
    where: dict = {"ablated": None, "top_dimension": None, "top_share": None, "dims_for_half": None,
                   "distance_ablated": None, "x2y@1_ablated": None, "y2x@1_ablated": None}
    if coordinates:
        g = geo.dimension_gap(x, y)
        k = min(ABLATE_K, d - 1)
        ab = geo.ablate_gap_dimensions(x, y, [k], groups)
        where.update({"ablated": int(k), "top_dimension": int(g["dimension"][0]), "top_share": float(g["share"][0]),
                      "dims_for_half": int(np.searchsorted(g["share"], 0.5) + 1),
                      "distance_ablated": ab["distance"][0], "x2y@1_ablated": ab["x2y@1"][0],
                      "y2x@1_ablated": ab["y2x@1"][0]})
    out["where"] = where
    xc, yc = close_gap(x, y)
    xr, yr = close_gap(x, y, renormalize=False)
    out["cost"] = {"original": _state(x, y, logit_scale, batch_size, groups),
                   "closed": _state(xc, yc, logit_scale, batch_size, groups),
                   "closed_raw": _state(xr, yr, logit_scale, batch_size, groups)}
    pr, hub, mix = partner_ranks(x, y, groups), hubness(x, y), neighbour_mixing(x, y, min(NEIGHBOURS, 2 * n - 1))
    out["quadrants"] = {
        "mean_rank_x2y": float(np.mean(pr["x2y_rank"])), "mean_rank_y2x": float(np.mean(pr["y2x_rank"])),
        "mean_margin_x2y": float(np.nanmean(pr["x2y_margin"])), "mean_margin_y2x": float(np.nanmean(pr["y2x_margin"])),
        "hub_skew_x2y": hub["x2y_skewness"], "hub_skew_y2x": hub["y2x_skewness"],
        "hub_max_x2y": hub["x2y_max"], "hub_max_y2x": hub["y2x_max"],
        "same_x_open": mix["open"]["x"], "same_y_open": mix["open"]["y"],
        "same_x_closed": mix["closed"]["x"], "same_y_closed": mix["closed"]["y"], "same_chance": mix["open"]["chance"],
    }
    out["honesty"] = {}
    if projections:
        from exporters.analysis.projection import project

        e = np.vstack([x, y])
        for m in projections:
            p = project(e, m)
            h = projection_honesty(x, y, p[:n], p[n:], min(NEIGHBOURS, 2 * n - 1))
            out["honesty"][m] = {"exaggeration": h["exaggeration"], "knn_recall": h["knn_recall"],
                                 "full_ratio": h["full_ratio"], "plot_ratio": h["plot_ratio"]}
    return out


# -- the table ---------------------------------------------------------------------------------------------------
def _cell(v, width: int = 8, digits: int = 3) -> str:
    if v is None:
        return f"{'n/def':>{width}}"
    if isinstance(v, (bool, np.bool_)):
        return f"{'yes' if v else 'no':>{width}}"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):>{width}d}"
    return f"{float(v):>{width}.{digits}f}"


def _block(title: str, rows: dict[str, dict], cols: list[tuple[str, str]], get) -> list[str]:
    widths = [max(8, len(c[1])) for c in cols]
    head = f"{'model':<18} " + " ".join(f"{c[1]:>{w}}" for c, w in zip(cols, widths))
    lines = ["", title, head, "-" * len(head)]
    for model, m in rows.items():
        lines.append(f"{model:<18} " + " ".join(_cell(get(m, c[0]), w) for c, w in zip(cols, widths)))
    return lines


def format_measures(rows: dict[str, dict]) -> str:
    """Plain-text tables of `model_measures` results keyed by model (x: image, y: text)."""
    lines: list[str] = []
    lines += _block("Geometry (coordinate-free): modality distance, relative modality gap, alignment (alpha=2), "
                    "uniformity (t=2), held-out separability (chance 0.5), effective rank (centred), "
                    "mean in-modal cosine",
                    rows, [("distance", "dist"), ("rmg", "RMG"), ("alignment", "align"), ("uniformity_x", "unif i"),
                           ("uniformity_y", "unif t"), ("separability", "sep.acc"), ("erank_x", "erank i"),
                           ("erank_y", "erank t"), ("cos_x", "cos i"), ("cos_y", "cos t")],
                    lambda m, k: m["geometry"][k])
    lines += _block(f"Where the gap lives (coordinate-dependent; n/def for embeddings recovered from a similarity "
                    f"matrix): top dimension, its share of the squared gap, dimensions for half of it; dropping "
                    f"the top {ABLATE_K} (at most d - 1): distance, R@1",
                    rows, [("coordinates", "coords"), ("top_dimension", "top dim"), ("top_share", "share"),
                           ("dims_for_half", "dims 50%"), ("distance_ablated", f"dist-{ABLATE_K}"),
                           ("x2y@1_ablated", f"i→t-{ABLATE_K}"), ("y2x@1_ablated", f"t→i-{ABLATE_K}")],
                    lambda m, k: m["coordinates"] if k == "coordinates" else m["where"][k])
    cost_cols = [(f"{state}:{key}", f"{short} {label}")
                 for state, short in (("original", "open"), ("closed", "clsd"), ("closed_raw", "raw"))
                 for key, label in (("x2y@1", "i→t1"), ("y2x@1", "t→i1"), ("x2y@5", "i→t5"), ("y2x@5", "t→i5"),
                                    ("infonce", "loss"))]
    lines += _block("Cost of closing the gap: R@1, R@5 both ways and symmetric InfoNCE (own logit scale, batches "
                    "of 50); gap open, closed and re-normalized (clsd), closed without re-normalizing (raw)",
                    rows, cost_cols, lambda m, k: m["cost"][k.split(":")[0]][k.split(":")[1]])
    lines += _block("Quadrants: mean partner rank (0 = first), mean margin to the hardest negative, hubness skew (k=1), "
                    f"share of an item's {NEIGHBOURS} nearest items in its own modality, gap open / closed",
                    rows, [("mean_rank_x2y", "rank i→t"), ("mean_rank_y2x", "rank t→i"),
                           ("mean_margin_x2y", "marg i→t"), ("mean_margin_y2x", "marg t→i"),
                           ("hub_skew_x2y", "skew i→t"), ("hub_skew_y2x", "skew t→i"),
                           ("same_x_open", "img open"), ("same_y_open", "txt open"),
                           ("same_x_closed", "img clsd"), ("same_y_closed", "txt clsd")],
                    lambda m, k: m["quadrants"][k])
    methods = sorted({p for m in rows.values() for p in m["honesty"]}, key=lambda p: PROJECTIONS.index(p)
                     if p in PROJECTIONS else 99)
    if methods:
        lines += _block("Honest projections: exaggeration of the gap (2-D centroid distance / mean distance, over "
                        f"the same in full dimension; 1 = faithful) and kNN recall (k={NEIGHBOURS})",
                        rows, [(f"{p}:{q}", f"{p[:4]} {'exag' if q == 'exaggeration' else 'knn'}")
                               for p in methods for q in ("exaggeration", "knn_recall")],
                        lambda m, k: m["honesty"].get(k.split(":")[0], {}).get(k.split(":")[1]))
    return "\n".join(lines[1:])
