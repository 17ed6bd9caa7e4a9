"""Figure 4 of the cost chapter: the shape of the space, one column per model, one row per measure.

Per model (and, where a measure belongs to one modality, per modality): alignment and uniformity
(Wang & Isola 2020), the modality distance and the relative modality gap (Schrodi et al. 2025), the
held-out linear separability of the two modalities, the effective rank of the centred embeddings
(Roy & Vetterli 2007) and the mean in-modal cosine (the cone effect of Liang et al. 2022); all from
exporters.analysis.geometry, the same functions `inspect --measures` (analysis/measures.py) prints.
Every one of these depends only on inner products, so it is defined for embeddings recovered from a
similarity matrix too. One row that reads single coordinates (the top gap dimension's share of the
squared gap, geometry.dimension_gap) is "not defined" (None, no number) for those models, as the
gapdims figure explains. Each cell is coloured by where its value lies in the measure's possible range.
"""

from __future__ import annotations

from typing import Any

from exporters.analysis import geometry as geo
from exporters.analysis.gap import modality_distance
from exporters.figures._context import FigureContext
from exporters.figures._encoding import r4
from exporters.figures._sections import load_section, model_label
from exporters.training.records import training_record

ID = "geometry"
SEPARABLE = 0.95      # held-out accuracy from which the prose calls the modalities linearly separable
CONE = 0.2            # mean in-modal cosine above which the prose speaks of a cone (random unit vectors: ~0)

# key, label, "pair" (one value per model) or "modality" (one per modality), definition, source
MEASURES: list[tuple[str, str, str, str, str]] = [
    ("distance", "modality distance", "pair",
     "‖mean image − mean text‖, the distance between the two modalities' centroids (0 to 2)",
     "Liang et al., NeurIPS 2022"),
    ("rmg", "relative modality gap", "pair",
     "m / (m + a): m the mean dissimilarity (1 − cos)/2 of matched pairs, a the mean dissimilarity between "
     "different items of one modality (both modalities); 0 when pairs coincide, near 1 when pairs lie far apart "
     "for the spread of each modality",
     "Schrodi et al., ICLR 2025"),
    ("alignment", "alignment", "pair",
     "mean ‖xᵢ − yᵢ‖² over matched pairs (α = 2): 0 when every pair coincides, at most 4; lower is better aligned",
     "Wang & Isola, ICML 2020"),
    ("separability", "linear separability", "pair",
     "held-out accuracy of a logistic regression (L2, C = 1, no feature scaling) telling image from text items, "
     "trained on 70 % of the pairs and tested on the other 30 %; chance is 0.5",
     "a linear probe of modality membership (ours)"),
    ("uniformity", "uniformity", "modality",
     "log of the mean of exp(−2 ‖uᵢ − uⱼ‖²) over pairs of items of one modality (t = 2): 0 when all points "
     "coincide, lower is more uniform on the sphere (never below −4·n/(n − 1))",
     "Wang & Isola, ICML 2020"),
    ("erank", "effective rank", "modality",
     "exp of the entropy of the singular values of the modality's embeddings, centred on their mean and "
     "normalised to sum to 1: how many directions the items use (1 to min(n − 1, d))",
     "Roy & Vetterli, EUSIPCO 2007"),
    ("cos", "mean in-modal cosine", "modality",
     "mean cosine between different items of one modality: near 0 for directions spread over the sphere, "
     "near 1 inside a narrow cone",
     "the cone effect, Liang et al., NeurIPS 2022"),
    ("top_share", "top gap dimension's share", "pair",
     "share of the squared gap ‖mean image − mean text‖² carried by the single dimension with the largest gap; "
     "reads single coordinates",
     "Schrodi et al., ICLR 2025"),
]
COORDINATE_DEPENDENT = ("top_share",)


def _values(x, y, coords: bool) -> dict[str, float | None]:
    sep = geo.linear_separability(x, y)
    return {
        "distance": modality_distance(x, y), "rmg": geo.relative_modality_gap(x, y), "alignment": geo.alignment(x, y),
        "separability": sep["accuracy"], "separability_test_pairs": sep["test_pairs"],
        "uniformity_x": geo.uniformity(x), "uniformity_y": geo.uniformity(y),
        "erank_x": geo.effective_rank(x), "erank_y": geo.effective_rank(y),
        "cos_x": geo.mean_inmodal_cosine(x), "cos_y": geo.mean_inmodal_cosine(y),
        "top_share": float(geo.dimension_gap(x, y)["share"][0]) if coords else None,
    }


def _ranges(n: int, dims: int) -> dict[str, list[float]]:
    """The range each measure can take on n pairs of d dimensions (the cells' colour runs over it); the
    mean in-modal cosine of n unit vectors is at least -1/(n - 1) (their sum's squared norm is >= 0)."""
    return {"distance": [0.0, 2.0], "rmg": [0.0, 1.0], "alignment": [0.0, 4.0], "separability": [0.5, 1.0],
            "uniformity": [r4(-2 * geo.UNIFORMITY_T * n / (n - 1)), 0.0], "erank": [1.0, float(min(n - 1, dims))],
            "cos": [r4(-1.0 / (n - 1)), 1.0], "top_share": [0.0, 1.0]}


def build(ctx: FigureContext, section: str = "main", **_: object) -> dict | None:
    sec = load_section(ctx, section)
    if sec is None:
        return None
    ds, models = sec
    a, b = ds.names[0], ds.names[1]
    cols, dims = [], 1
    for mid, emb in models.items():
        x, y = emb.blocks[a], emb.blocks[b]
        coords = geo.coordinates_defined(emb)
        rec = training_record(ctx, mid)
        dims = max(dims, int(x.shape[1]))
        cols.append({"id": mid, "label": model_label(ctx, mid), "coordinates": coords,
                     "untrained": bool(rec is not None and rec.get("steps") == 0),
                     "values": {k: (None if v is None else (int(v) if isinstance(v, int) else r4(v)))
                                for k, v in _values(x, y, coords).items()}})
    la, lb = ds.modality(a).label, ds.modality(b).label
    rows = []
    ranges = _ranges(len(ds), dims)
    for key, label, kind, definition, source in MEASURES:
        keys = [(key, label, None)] if kind == "pair" else [(f"{key}_x", f"{label} ({la.lower()})", la),
                                                           (f"{key}_y", f"{label} ({lb.lower()})", lb)]
        for k, lab, modality in keys:
            rows.append({"key": k, "measure": key, "label": lab, "modality": modality, "definition": definition,
                         "source": source, "range": ranges[key], "coordinate_dependent": key in COORDINATE_DEPENDENT,
                         "values": [c["values"][k] for c in cols],
                         "cells": [cell(c["values"][k], key) for c in cols],
                         "range_text": f"{cell(ranges[key][0], key)} to {cell(ranges[key][1], key)}"})
    return {"section": section, "dataset": ds.id, "n": len(ds), "modalities": [la, lb],
            "models": [{k: c[k] for k in ("id", "label", "coordinates", "untrained")} for c in cols],
            "rows": rows, "separability_test_pairs": cols[0]["values"]["separability_test_pairs"] if cols else 0,
            "not_defined": "not defined: the embeddings were recovered from a similarity matrix, which fixes them "
                           "only up to a rotation"}


# -- words and facts --------------------------------------------------------------------------------------------
def cell(v: float | None, measure: str) -> str:
    """A value as the figure and its tables print it."""
    if v is None:
        return "not defined"
    if measure in ("separability", "top_share"):
        return f"{round(100 * v) + 0:.0f} %"
    if measure == "erank":
        return f"{round(v, 1) + 0.0:.1f}"
    return f"{round(v, 2) + 0.0:.2f}"           # + 0.0: no "-0.00"


def _row(data: dict, key: str) -> list:
    return next(r for r in data["rows"] if r["key"] == key)["values"]


def _extreme(data: dict, key: str, pick) -> tuple[str, float]:
    vals = [(v, i) for i, v in enumerate(_row(data, key)) if v is not None]
    v, i = pick(vals, key=lambda t: (t[0], -t[1]))
    return data["models"][i]["label"], v


def facts(data: dict) -> dict:
    """Per model the numbers the prose quotes, the extremes of the RMG, the separability and the cone,
    and what the untrained model (if the section has one) looks like beside the trained ones."""
    ms = data["models"]
    if not ms:
        return {"models": 0, "rows": []}
    per = []
    for i, m in enumerate(ms):
        v = {r["key"]: r["values"][i] for r in data["rows"]}
        per.append({"label": m["label"], "untrained": m["untrained"], "coordinates": m["coordinates"],
                    **{k: cell(v[k], next(r["measure"] for r in data["rows"] if r["key"] == k)) for k in v}})
    seps = [v for v in _row(data, "separability")]
    cones = [min(cx, cy) for cx, cy in zip(_row(data, "cos_x"), _row(data, "cos_y"))]
    rmg_hi, rmg_lo = _extreme(data, "rmg", max), _extreme(data, "rmg", min)
    sep_lo = _extreme(data, "separability", min)
    out: dict[str, Any] = {
        "models": len(ms), "rows": per, "test_items": data["separability_test_pairs"] * 2,
        "a": data["modalities"][0].lower(), "b": data["modalities"][1].lower(),
        "erank_max": cell(next(r for r in data["rows"] if r["key"] == "erank_x")["range"][1], "erank"),
        "rmg_max_label": rmg_hi[0], "rmg_max": cell(rmg_hi[1], "rmg"),
        "rmg_min_label": rmg_lo[0], "rmg_min": cell(rmg_lo[1], "rmg"),
        "sep_min_label": sep_lo[0], "sep_min": cell(sep_lo[1], "separability"),
        "all_separable": all(s >= SEPARABLE for s in seps), "n_separable": sum(s >= SEPARABLE for s in seps),
        "none_separable": not any(s >= SEPARABLE for s in seps),
        "separable_threshold": cell(SEPARABLE, "separability"),
        "all_cones": all(c > CONE for c in cones), "cone_threshold": f"{CONE:.1f}",
        "cos_min": cell(min(min(_row(data, "cos_x")), min(_row(data, "cos_y"))), "cos"),
        "cos_max": cell(max(max(_row(data, "cos_x")), max(_row(data, "cos_y"))), "cos"),
        "any_not_defined": not all(m["coordinates"] for m in ms),
        "none_defined": not any(m["coordinates"] for m in ms),
        "has_untrained": any(m["untrained"] for m in ms),
    }
    if out["has_untrained"]:
        u = next(i for i, m in enumerate(ms) if m["untrained"])
        trained = [i for i, m in enumerate(ms) if not m["untrained"]]
        rmg = _row(data, "rmg")
        out.update({"untrained_label": ms[u]["label"], "untrained": per[u],
                    "untrained_largest_rmg": bool(trained) and all(rmg[u] > rmg[i] for i in trained),
                    "untrained_separable": seps[u] >= SEPARABLE,
                    "untrained_cone": cones[u] > CONE})
    return out


def describe(data: dict, opts: dict) -> dict:
    a, b = data["modalities"]
    label = (f"The shape of the {a.lower()}–{b.lower()} space: a grid of geometry measures, one column per model, "
             "one row per measure and modality")
    caption = ("Each cell gives one measure of one model; its colour shows where the value lies in the range the "
               "measure can take (the range is in the hover text). Hover a cell for its definition and source. ")
    if any(not m["coordinates"] for m in data["models"]):
        caption += ("The top gap dimension's share reads single coordinates, so it is not defined for models whose "
                    "embeddings were recovered from a similarity matrix (known only up to a rotation); every other "
                    "row depends only on inner products.")
    head = ["measure"] + [m["label"] for m in data["models"]] + ["range", "source"]
    rows = [[r["label"]] + r["cells"]
            + [r["range_text"], r["source"]]
            for r in data["rows"]]
    seen: dict[str, list[str]] = {}
    for r in data["rows"]:
        name = next(m[1] for m in MEASURES if m[0] == r["measure"])
        seen.setdefault(r["measure"], [name, r["definition"], r["source"]])
    defs = list(seen.values())
    return {"label": label, "caption": caption,
            "tables": [{"summary": "Text alternative: every measure of every model", "head": head, "rows": rows},
                       {"summary": "Definitions of the measures", "head": ["measure", "definition", "source"],
                        "rows": defs}]}
