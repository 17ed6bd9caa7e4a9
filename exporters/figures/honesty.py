"""Figure 7 of issue 10: how honest each 2-D picture is about the gap and about neighbourhoods.

For every model and every projection of the build (PCA, UMAP, t-SNE: `ctx.projections`) it sets the
gap the picture draws beside the gap in the full space, and says how many of each point's nearest
neighbours the picture keeps (`exporters.analysis.honesty.projection_honesty`, definitions in
docs/analysis.md). A gap is compared in each space's own unit, the mean distance between all its
points, because UMAP and t-SNE rescale freely: `exaggeration` = plot ratio / full ratio (above 1 the
picture enlarges the gap, below 1 it hides it). kNN recall has a chance level, k / (2n - 1), which a
layout that ignored the data would score.

The projections are the explorer's own (`_sections.cached_projection` of exactly the array
`state_payload` projects: all modalities stacked in the dataset's order), so a build computes no
UMAP or t-SNE twice; the closed state is the explorer's closed state (`gap.close_gap`). The measures
use distances only, never single coordinates, so they are defined for embeddings recovered from a
similarity matrix too (the seed article's models): a rotation of the embeddings changes no distance,
and a rotated or mirrored picture has the same centroid distance and the same neighbours.
"""

from __future__ import annotations

import numpy as np

from exporters.analysis.gap import close_gap
from exporters.analysis.honesty import K, projection_honesty
from exporters.figures._context import FigureContext
from exporters.figures._encoding import r4
from exporters.figures._sections import cached_projection, load_section, model_label

ID = "honesty"
METHOD_LABELS = {"PCA": "PCA", "UMAP": "UMAP", "TSNE": "t-SNE"}
STATE_LABELS = {"open": "gap as trained", "closed": "gap closed"}
VALUES = ("full_distance", "plot_distance", "full_ratio", "plot_ratio", "exaggeration", "knn_recall")


def build(ctx: FigureContext, section: str = "main", **_: object) -> dict | None:
    sec = load_section(ctx, section)
    if sec is None:
        return None
    ds, models = sec
    names = list(ds.names)
    n = len(ds)
    k = min(K, 2 * n - 1)
    methods = ctx.projections
    states = ["open", "closed"] if len(names) == 2 else ["open"]   # the explorer's states
    rows = []
    for mid, emb in models.items():
        blocks = [np.asarray(emb.blocks[m], float) for m in names]
        per_state = {}
        for st in states:
            arrs = blocks if st == "open" else list(close_gap(blocks[0], blocks[1]))
            e = np.vstack(arrs)       # what the explorer projects for this state: a cache hit
            x, y = arrs[0], arrs[1]
            per_method = {}
            for m in methods:
                p = cached_projection(ctx, e, m)
                h = projection_honesty(x, y, p[:n], p[n:2 * n], k)
                per_method[m] = {v: r4(h[v]) for v in VALUES}
            per_state[st] = per_method
        rows.append({"id": mid, "label": model_label(ctx, mid), "states": per_state})
    return {"section": section, "dataset": ds.id, "n": n, "k": k, "chance": r4(k / (2 * n - 1)),
            "points": (2 * n), "modalities": [ds.modality(names[0]).label, ds.modality(names[1]).label],
            "projections": methods, "method_labels": {m: METHOD_LABELS[m] for m in methods},
            "states": states, "state_labels": {s: STATE_LABELS[s] for s in states}, "models": rows}


# -- words and numbers for the page -------------------------------------------------------------------
def _f(v: float | None, d: int = 2) -> str:
    return "n/a" if v is None else f"{float(v):.{d}f}"


def _join(labels: list[str]) -> str:
    """'A', 'A and B', 'A, B and C' (empty string for none)."""
    if len(labels) <= 2:
        return " and ".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def facts(data: dict) -> dict:
    """Per projection method (gap as trained; `methods` by id and `method_list` in the build's order):
    the smallest and largest exaggeration over the models and who has them, which models' pictures
    enlarge (exaggeration > 1) or hide (< 1) the gap (labels joined in words) and whether all do, the
    mean, smallest and largest kNN recall and the mean over chance; the method that keeps most
    neighbours on average; whether UMAP and t-SNE keep more than PCA for every model; the chance recall;
    the largest change of a kNN recall when the gap is closed, and whether it stays under 0.1."""
    out: dict = {"k": data["k"], "chance": data["chance"], "n": data["n"], "models": len(data["models"]),
                 "methods": {}, "first": data["models"][0]["label"] if data["models"] else None}
    best, best_recall = None, -1.0
    for m in data["projections"]:
        ex = [(r["states"]["open"][m]["exaggeration"], r["label"]) for r in data["models"]
              if r["states"]["open"][m]["exaggeration"] is not None]
        rec = [r["states"]["open"][m]["knn_recall"] for r in data["models"]]
        lo, hi = min(ex) if ex else (None, None), max(ex) if ex else (None, None)
        mean_rec = float(np.mean(rec)) if rec else None
        closed = [r["states"]["closed"][m]["plot_ratio"] for r in data["models"] if "closed" in r["states"]]
        enlarge = [lab for v, lab in ex if v > 1]
        hide = [lab for v, lab in ex if v < 1]
        out["methods"][m] = {
            "id": m, "label": data["method_labels"][m],
            "enlarge_labels": _join(enlarge), "hide_labels": _join(hide),
            "some_enlarge": bool(enlarge), "some_hide": bool(hide),
            "exaggeration_min": lo[0], "exaggeration_min_model": lo[1],
            "exaggeration_max": hi[0], "exaggeration_max_model": hi[1],
            "all_enlarge": bool(ex) and all(v > 1 for v, _ in ex),
            "all_hide": bool(ex) and all(v < 1 for v, _ in ex),
            "recall_mean": r4(mean_rec), "recall_min": r4(min(rec)) if rec else None,
            "recall_max": r4(max(rec)) if rec else None,
            "recall_over_chance": r4(mean_rec / data["chance"]) if rec else None,
            "closed_plot_ratio_max": r4(max(closed)) if closed else None,
        }
        if mean_rec is not None and mean_rec > best_recall:
            best, best_recall = m, mean_rec
    out["method_list"] = [out["methods"][m] for m in data["projections"]]
    # closing the gap (the explorer's closed state): how much the neighbours kept change, at most
    changes = [abs(r["states"]["closed"][m]["knn_recall"] - r["states"]["open"][m]["knn_recall"])
               for r in data["models"] if "closed" in r["states"] for m in data["projections"]]
    out["closed_recall_change_max"] = r4(max(changes)) if changes else None
    out["closed_recall_stable"] = bool(changes) and max(changes) < 0.1
    out["best_recall_method"] = best
    out["best_recall_label"] = data["method_labels"].get(best) if best else None
    has = set(data["projections"])
    out["has_pca"], out["has_umap"], out["has_tsne"] = "PCA" in has, "UMAP" in has, "TSNE" in has
    out["has_closed"] = "closed" in data["states"]
    # the neighbour-embedding methods keep more neighbours than PCA (on every model)
    out["nonlinear_keep_more"] = bool("PCA" in has and len(has) > 1 and all(
        r["states"]["open"][m]["knn_recall"] > r["states"]["open"]["PCA"]["knn_recall"]
        for r in data["models"] for m in has - {"PCA"}))
    return out


def describe(data: dict, opts: dict) -> dict:
    a, b = data["modalities"]
    methods = [data["method_labels"][m] for m in data["projections"]]
    label = (f"Honest projections: for {len(data['models'])} models and the projections {', '.join(methods)}, "
             f"the gap between the {a.lower()} and {b.lower()} centroids in the picture against the gap in the full "
             f"space, and the share of each point's {data['k']} nearest neighbours the picture keeps.")
    caption = (f"Left: each marker is one model drawn by one projection; across, the gap in the full space, up, the "
               f"gap in the picture, each as the centroid distance divided by that space's mean distance between "
               f"points. On the diagonal the picture is faithful; above it, it enlarges the gap, below it hides it. "
               f"Right: kNN recall, the share of each point's {data['k']} nearest neighbours in the full space that "
               f"are also its nearest in the picture (chance: {_f(data['chance'])}). Computed on {data['points']} "
               f"points ({data['n']} pairs); a distance, not a coordinate, so it is defined for every model.")
    tables = []
    for st in data["states"]:
        rows = []
        for r in data["models"]:
            for m in data["projections"]:
                v = r["states"][st][m]
                rows.append([r["label"], data["method_labels"][m], _f(v["full_distance"], 3), _f(v["plot_distance"], 3),
                             _f(v["full_ratio"], 3), _f(v["plot_ratio"], 3), _f(v["exaggeration"]),
                             _f(v["knn_recall"])])
        tables.append({"summary": f"Text alternative: every model and projection, {data['state_labels'][st]}",
                       "head": ["model", "projection", "centroid distance (full space)",
                                "centroid distance (picture, its own units)", "gap / mean distance (full)",
                                "gap / mean distance (picture)", "exaggeration (picture / full)",
                                f"kNN recall (k = {data['k']})"],
                       "rows": rows})
    return {"label": label, "caption": caption, "tables": tables}
