"""Figure 3 of the cost chapter: where the gap lives, dimension by dimension, and what dropping those
dimensions does (the ablation of Schrodi et al., "Two Effects, One Trigger", ICLR 2025).

Per model: |mean image - mean text| for every embedding dimension, largest first, with the cumulative
share of the squared gap ||delta||^2 (geometry.dimension_gap); then, for k = 0, 1, 2, ... the top-k gap
dimensions (ranked once, on the full embeddings) dropped from both modalities, the rows re-normalised,
and the modality distance, the relative modality gap and R@1 both ways measured again
(geometry.ablate_gap_dimensions). Both read single coordinates, so for a model whose embeddings were
recovered from a similarity matrix (known only up to a rotation: geometry.coordinates_defined) the
figure says the measure is not defined and carries no number for it.
"""

from __future__ import annotations

from typing import Any

from exporters.analysis import geometry as geo
from exporters.analysis.measures import ABLATE_K
from exporters.figures._context import FigureContext
from exporters.figures._encoding import r4
from exporters.figures._sections import load_section, model_label
from exporters.training.records import training_record

ID = "gapdims"
DENSE_K = 32                                  # every k up to here (at most d/2) ...
SPARSE_K = (48, 64, 96, 128, 192, 256, 384, 512)   # ... then these, while at most d/2
R1_STABLE = 0.1                               # |change of R@1| up to which the prose calls retrieval unchanged
NOT_DEFINED = ("their embeddings were recovered from a similarity matrix, which fixes them only up to a "
               "rotation, so a single coordinate of them means nothing")


def ablation_ks(d: int) -> list[int]:
    """The k of the ablation for d dimensions: 0 ... min(DENSE_K, d // 2), then SPARSE_K up to d // 2."""
    top = max(d // 2, 0)
    return sorted({*range(0, min(DENSE_K, top) + 1), *(k for k in SPARSE_K if k <= top)})


def _model(ctx: FigureContext, ds, mid: str, emb) -> dict:
    a, b = ds.names[0], ds.names[1]
    x, y = emb.blocks[a], emb.blocks[b]
    rec = training_record(ctx, mid)
    row: dict[str, Any] = {"id": mid, "label": model_label(ctx, mid), "coordinates": geo.coordinates_defined(emb),
                           "untrained": bool(rec is not None and rec.get("steps") == 0)}
    if not row["coordinates"]:     # no dimension count either: a recovered set's is the Gram matrix's rank
        row["source"] = (emb.provenance or {}).get("source")
        return row
    g = geo.dimension_gap(x, y)
    ks = ablation_ks(x.shape[1])
    ab = geo.ablate_gap_dimensions(x, y, ks, (ds.content_groups(a), ds.content_groups(b)))
    k10 = min(ABLATE_K, ks[-1])
    row.update({
        "dims": int(x.shape[1]),
        "dimension": [int(v) for v in g["dimension"]],
        "abs_gap": [r4(v) for v in g["abs_gap"]],
        "share": [r4(v) for v in g["share"]],
        "dims_for_half": int((g["share"] < 0.5).sum() + 1),
        "ablation": {"k": ab["k"], "distance": [r4(v) for v in ab["distance"]], "rmg": [r4(v) for v in ab["rmg"]],
                     "r1_x2y": [r4(v) for v in ab["x2y@1"]], "r1_y2x": [r4(v) for v in ab["y2x@1"]]},
        "k_quoted": int(k10),
    })
    return row


def build(ctx: FigureContext, section: str = "main", **_: object) -> dict | None:
    sec = load_section(ctx, section)
    if sec is None:
        return None
    ds, models = sec
    rows = [_model(ctx, ds, mid, emb) for mid, emb in models.items()]
    undefined = [m for m in rows if not m["coordinates"]]
    return {"section": section, "dataset": ds.id, "n": len(ds),
            "modalities": [ds.modality(ds.names[0]).label, ds.modality(ds.names[1]).label],
            "models": rows, "not_defined": NOT_DEFINED, "ablate_k": ABLATE_K,
            "note": f"Not defined for {_labels(undefined)}: {NOT_DEFINED}." if undefined else None}


# -- words and facts ------------------------------------------------------------------------------------------
def _at(m: dict, key: str, k: int) -> float:
    return m["ablation"][key][m["ablation"]["k"].index(k)]


def _pct(v: float) -> str:
    return f"{100 * v:.0f} %"


def _span(lo: str, hi: str) -> str:
    return lo if lo == hi else f"{lo} to {hi}"


def _labels(rows: list[dict]) -> str:
    names = [m["label"] for m in rows]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def facts(data: dict) -> dict:
    """What the prose states: for which models the measures are defined, how concentrated the gap is,
    and what dropping the top `k_quoted` dimensions does to the gap and to R@1."""
    defined = [m for m in data["models"] if m["coordinates"]]
    undefined = [m for m in data["models"] if not m["coordinates"]]
    out: dict[str, Any] = {
        "any_defined": bool(defined), "all_defined": not undefined, "none_defined": not defined,
        "defined_labels": _labels(defined) if defined else "", "undefined_labels": _labels(undefined) if undefined else "",
        "n_defined": len(defined), "n_undefined": len(undefined), "reason": data["not_defined"], "rows": [],
    }
    if not defined:
        return out
    rows = []
    for m in defined:
        k = m["k_quoted"]
        d0, dk = _at(m, "distance", 0), _at(m, "distance", k)
        r0 = (_at(m, "r1_x2y", 0), _at(m, "r1_y2x", 0))
        rk = (_at(m, "r1_x2y", k), _at(m, "r1_y2x", k))
        rows.append({"label": m["label"], "untrained": m["untrained"], "dims": m["dims"], "k": k,
                     "top_dimension": m["dimension"][0],
                     "top_share": m["share"][0], "dims_for_half": m["dims_for_half"],
                     "even_half": (m["dims"] + 1) // 2, "distance": d0, "distance_k": dk,
                     "distance_drop": r4((d0 - dk) / d0) if d0 > 0 else 0.0,
                     "r1": r0, "r1_k": rk, "r1_change": r4(max(abs(rk[0] - r0[0]), abs(rk[1] - r0[1])))})
    drops = [r["distance_drop"] for r in rows]
    halves = [r["dims_for_half"] for r in rows]
    shares = [r["top_share"] for r in rows]
    change = max(r["r1_change"] for r in rows)
    dims = sorted({r["dims"] for r in rows})
    ks = sorted({r["k"] for r in rows})
    out.update({
        "rows": rows, "k": ks[0] if len(ks) == 1 else None, "dims": dims[0] if len(dims) == 1 else None,
        "one_dims": len(dims) == 1 and len(ks) == 1,
        "half_min": min(halves), "half_max": max(halves), "even_half": (dims[0] + 1) // 2 if len(dims) == 1 else None,
        "concentrated": all(r["dims_for_half"] < r["even_half"] for r in rows),
        "half_range": _span(str(min(halves)), str(max(halves))),
        "top_share_min": _pct(min(shares)), "top_share_max": _pct(max(shares)),
        "top_share_range": _span(_pct(min(shares)), _pct(max(shares))),
        "drop_min": _pct(min(drops)), "drop_max": _pct(max(drops)), "drop_range": _span(_pct(min(drops)), _pct(max(drops))),
        "gap_shrinks": all(dr > 0 for dr in drops),
        "r1_change_max": f"{change:.2f}", "r1_stable": change <= R1_STABLE,
        "has_untrained": any(r["untrained"] for r in rows),
    })
    if out["has_untrained"]:
        u = next(r for r in rows if r["untrained"])
        out.update({"untrained_label": u["label"], "untrained_half": u["dims_for_half"],
                    "untrained_even_half": u["even_half"], "untrained_concentrated": u["dims_for_half"] < u["even_half"],
                    "untrained_top_share": _pct(u["top_share"])})
    return out


def describe(data: dict, opts: dict) -> dict:
    f = facts(data)
    a, b = data["modalities"]
    label = (f"Where the gap between {a.lower()} and {b.lower()} lives: the gap per embedding dimension and "
             "the effect of dropping the largest gap dimensions, per model")
    if f["none_defined"]:
        caption = (f"Not defined for {f['undefined_labels']}: {data['not_defined']}. The per-dimension gap and "
                   "its ablation read single coordinates, so no number is shown for these models.")
    else:
        caption = (f"The gap, dimension by dimension: |mean {a.lower()} − mean {b.lower()}| in each dimension, "
                   "largest first (or the cumulative share of the squared gap ‖Δ‖²). Dropping the top k gap "
                   "dimensions: those dimensions removed from both modalities and the rows re-normalised (Schrodi "
                   "et al., ICLR 2025), then the gap and R@1 measured again, for each k. ")
        if f["n_undefined"]:
            caption += f"Not defined for {f['undefined_labels']}: {data['not_defined']}."
    tables = []
    if f["any_defined"]:
        head = ["model", "dimensions", "top gap dimension", "its share of ‖Δ‖²", "dimensions for half of ‖Δ‖²",
                "k dropped", "modality distance", "after dropping k", f"R@1 {a}→{b}", "after", f"R@1 {b}→{a}",
                "after"]
        rows = [[r["label"], str(r["dims"]), str(r["top_dimension"]), _pct(r["top_share"]), str(r["dims_for_half"]),
                 str(r["k"]), f"{r['distance']:.3f}", f"{r['distance_k']:.3f}", f"{r['r1'][0]:.2f}",
                 f"{r['r1_k'][0]:.2f}", f"{r['r1'][1]:.2f}", f"{r['r1_k'][1]:.2f}"] for r in f["rows"]]
        rows += [[m["label"]] + ["not defined"] * 11 for m in data["models"] if not m["coordinates"]]
        tables.append({"summary": "Text alternative: the gap per dimension and the ablation, per model",
                       "head": head, "rows": rows})
        for m in data["models"]:
            if not m["coordinates"]:
                continue
            ab = m["ablation"]
            tables.append({"summary": f"Text alternative: the ablation of {m['label']}, every k",
                           "head": ["k dropped", "modality distance", "relative modality gap",
                                    f"R@1 {a}→{b}", f"R@1 {b}→{a}"],
                           "rows": [[str(k), f"{ab['distance'][i]:.3f}", f"{ab['rmg'][i]:.3f}",
                                     f"{ab['r1_x2y'][i]:.2f}", f"{ab['r1_y2x'][i]:.2f}"]
                                    for i, k in enumerate(ab["k"])]})
    else:
        tables.append({"summary": "Text alternative: per model, whether the measure is defined",
                       "head": ["model", "per-dimension gap and its ablation"],
                       "rows": [[m["label"], "not defined"] for m in data["models"]]})
    return {"label": label, "caption": caption, "tables": tables}
