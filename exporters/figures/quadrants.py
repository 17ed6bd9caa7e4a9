"""Figure 5 of the cost chapter: what lies behind the heatmap's quadrants, per model, gap open or closed.

Three views of one model's similarities (exporters/analysis/quadrants.py):
- the distributions of in-modal similarities (pairs of different items within each modality) and of
  cross-modal ones, matched pairs against the rest, on fixed 0.05-wide bins as shares of each kind's
  pairs (a heatmap shows where the numbers sit, not how they spread);
- for every item, the rank of its true partner in both directions and the margin to its hardest negative
  (partner's similarity minus that of the most similar item of other content), with that negative's index,
  so a reader can see which caption beats an image's own;
- hubness: N_1, how often each item is some other modality's item's nearest cross-modal neighbour, and the
  skewness of N_1 (Radovanović et al., JMLR 2010).
All of it depends on similarities only, so it is defined for models recovered from a similarity matrix
too. Duplicate content (equal captions, equal image files) is one answer, as in R@k. The closed state is
the explorer's (gap.close_gap: each modality moved by half the gap vector, re-normalised).
"""

from __future__ import annotations

import numpy as np

from exporters.analysis.gap import close_gap
from exporters.analysis.quadrants import hubness, partner_ranks, similarity_histograms
from exporters.figures._context import FigureContext
from exporters.figures._encoding import r4
from exporters.figures._sections import items_file, load_section, model_label

ID = "quadrants"
STATES = ("open", "closed")
HUB_SKEW = 2.0   # the prose speaks of hubs when the skewness of N1 exceeds this (a long right tail)


def _ints(a) -> list[int]:
    return [int(v) for v in a]


def _floats(a) -> list[float | None]:
    return [None if not np.isfinite(v) else r4(float(v)) for v in np.asarray(a, float)]


def _state(x: np.ndarray, y: np.ndarray, groups: tuple) -> dict:
    hist = similarity_histograms(x, y, groups=groups)
    pr = partner_ranks(x, y, groups=groups)
    hub = hubness(x, y, k=1)
    n = len(x)
    summary = {}
    for d in ("x2y", "y2x"):
        rank, margin = pr[f"{d}_rank"], pr[f"{d}_margin"]
        fin = margin[np.isfinite(margin)]
        summary[d] = {"r1": r4(float(np.mean(rank == 0))), "median_rank": r4(float(np.median(rank))),
                      "mean_rank": r4(float(np.mean(rank))), "max_rank": int(rank.max()),
                      "mean_margin": r4(float(fin.mean())) if fin.size else None,
                      "negative_margin": r4(float(np.mean(fin < 0))) if fin.size else None,
                      "skewness": r4(hub[f"{d}_skewness"]), "hub_max": hub[f"{d}_max"],
                      "never": hub[f"{d}_never"], "never_share": r4(hub[f"{d}_never"] / n)}
    return {"hist": {"edges": [r4(e) for e in hist["edges"]],
                     **{k: hist[k] for k in ("in_x", "in_y", "cross_matched", "cross_other")}},
            "means": {k: r4(v) for k, v in hist["means"].items()},
            "items": {f"{d}_{what}": (_ints if what in ("rank", "hardest") else _floats)(pr[f"{d}_{what}"])
                      for d in ("x2y", "y2x") for what in ("rank", "margin", "hardest")},
            "occurrence": {"x2y": _ints(hub["x2y_occurrence"]), "y2x": _ints(hub["y2x_occurrence"])},
            "summary": summary}


def build(ctx: FigureContext, section: str = "main", **_: object) -> dict | None:
    sec = load_section(ctx, section)
    if sec is None:
        return None
    ds, models = sec
    # the section's items file, the one the explorer writes (same path, same bytes); not the explorer's payload
    items = items_file(ctx, section, ds)
    a, b = ds.names[0], ds.names[1]
    groups = (ds.content_groups(a), ds.content_groups(b))
    out = []
    for mid, emb in models.items():
        x, y = emb.blocks[a], emb.blocks[b]
        xc, yc = close_gap(x, y)
        label = model_label(ctx, mid)
        out.append({"id": mid, "label": label,
                    "states": {"open": _state(x, y, groups), "closed": _state(xc, yc, groups)}})
    return {"section": section, "items": items, "n": len(ds), "dataset": ds.id, "models": out,
            "modalities": [ds.modality(a).label, ds.modality(b).label], "states": list(STATES),
            "more_modalities": len(ds.names) > 2}


def _and(labels: list[str]) -> str:
    """'A', 'A and B', 'A, B and C': a list of names as a sentence writes it."""
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1] if labels else ""


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.0f}%"


def _num(v: float | None, d: int = 2) -> str:
    return "n/a" if v is None else f"{v:.{d}f}"


def describe(data: dict, opts: dict) -> dict:
    ma, mb = data["modalities"]
    label = (f"Quadrant statistics of {len(data['models'])} models on {data['n']} pairs: similarity distributions, "
             f"partner ranks and margins per item, and hubness")
    caption = (f"Similarities behind the heatmap's quadrants ({data['n']} pairs). First row: how in-modal "
               f"similarities and cross-modal ones (true pairs against the rest) are spread. Second row: for every "
               f"pair, the margin of its true partner over the hardest other item, {ma.lower()}→{mb.lower()} "
               f"against {mb.lower()}→{ma.lower()} (above zero in both: retrieved first both ways), and the "
               f"partner's position in both directions; hover a point for the items. Last: how often each item is "
               f"another's nearest cross-modal neighbour (hubness). Choose a model, and close the gap to compare.")
    head = ["Model", "Gap", f"mean {ma.lower()}–{ma.lower()}", f"mean {mb.lower()}–{mb.lower()}",
            "mean true pair", "mean other cross pair"]
    rows_sim, rows_items = [], []
    for m in data["models"]:
        for st in data["states"]:
            s = m["states"][st]
            mm = s["means"]
            rows_sim.append([m["label"], st, _num(mm["in_x"]), _num(mm["in_y"]), _num(mm["cross_matched"]),
                             _num(mm["cross_other"])])
            row = [m["label"], st]
            for d in ("x2y", "y2x"):
                q = s["summary"][d]
                row += [_pct(q["r1"]), _num(q["median_rank"], 1), _num(q["mean_margin"], 3),
                        _pct(q["negative_margin"]), _num(q["skewness"]), str(q["hub_max"]), str(q["never"])]
            rows_items.append(row)
    dirs = [f"{ma.lower()}→{mb.lower()}", f"{mb.lower()}→{ma.lower()}"]
    head_items = ["Model", "Gap"] + [f"{d}: {c}" for d in dirs for c in (
        "partner first (R@1)", "median partner rank", "mean margin", "negative margins",
        "hubness skew (N1)", "largest N1", "never nearest")]
    return {"label": label, "caption": caption, "tables": [
        {"summary": "Text alternative: mean similarity of each kind of pair, per model, gap open and closed",
         "head": head, "rows": rows_sim},
        {"summary": "Text alternative: partner ranks, margins and hubness, per model, gap open and closed "
                    "(ranks count the items of other content more similar than the partner; 0 is first)",
         "head": head_items, "rows": rows_items}]}


def facts(data: dict) -> dict:
    """Per model (in the figure's order) and across models, what the prose says.

    `matched_below_inmodal`: the mean similarity of a true cross-modal pair is below the mean similarity of
    two unrelated items of either modality (a picture is closer to an unrelated picture than to its own
    caption: the gap's signature in the quadrants). `closing_raises_matched`: closing the gap raises the
    mean true-pair similarity. Skews and hubs refer to the first direction's N1 (the second modality's
    items as the answers) and to the second's."""
    models = []
    for m in data["models"]:
        o, c = m["states"]["open"], m["states"]["closed"]
        mo, mc = o["means"], c["means"]
        below = mo["cross_matched"] < min(mo["in_x"], mo["in_y"])
        models.append({"id": m["id"], "label": m["label"],
                       "in_x": mo["in_x"], "in_y": mo["in_y"], "matched": mo["cross_matched"],
                       "other": mo["cross_other"], "matched_closed": mc["cross_matched"],
                       "other_closed": mc["cross_other"],
                       "matched_below_inmodal": bool(below),
                       "closing_raises_matched": bool(mc["cross_matched"] > mo["cross_matched"]),
                       "r1": [o["summary"]["x2y"]["r1"], o["summary"]["y2x"]["r1"]],
                       "r1_closed": [c["summary"]["x2y"]["r1"], c["summary"]["y2x"]["r1"]],
                       "negative_margin": [o["summary"]["x2y"]["negative_margin"],
                                           o["summary"]["y2x"]["negative_margin"]],
                       "skewness": [o["summary"]["x2y"]["skewness"], o["summary"]["y2x"]["skewness"]],
                       "hub_max": [o["summary"]["x2y"]["hub_max"], o["summary"]["y2x"]["hub_max"]],
                       "never": [o["summary"]["x2y"]["never"], o["summary"]["y2x"]["never"]],
                       "never_share": [o["summary"]["x2y"]["never_share"], o["summary"]["y2x"]["never_share"]]})
    skews = [(s, m, d) for m in models for d, s in enumerate(m["skewness"]) if s is not None]
    top = max(skews, key=lambda t: t[0]) if skews else None   # the first model wins a tie
    hubs = [(h, m, d) for m in models for d, h in enumerate(m["hub_max"])]
    big = max(hubs, key=lambda t: t[0]) if hubs else None     # the first model wins a tie
    below = [m for m in models if m["matched_below_inmodal"]]
    return {"n": data["n"], "modalities": data["modalities"], "models": models,
            "all_matched_below_inmodal": bool(models) and len(below) == len(models),
            "some_matched_below_inmodal": bool(below),
            "matched_below_labels": _and([m["label"] for m in below]),
            "matched_above_labels": _and([m["label"] for m in models if not m["matched_below_inmodal"]]),
            # every model not below both in-modal means is above both (not between them)
            "rest_above_both": all(m["matched"] > max(m["in_x"], m["in_y"]) for m in models
                                   if not m["matched_below_inmodal"]),
            "all_closing_raises_matched": bool(models) and all(m["closing_raises_matched"] for m in models),
            "all_closing_raises_other": bool(models) and all(m["other_closed"] > m["other"] for m in models),
            "most_skewed": None if top is None else {
                "label": top[1]["label"], "skewness": top[0], "hub_max": top[1]["hub_max"][top[2]],
                "never": top[1]["never"][top[2]], "most_never": top[1]["never"][top[2]] > data["n"] / 2,
                "answers": data["modalities"][1 - top[2]], "queries": data["modalities"][top[2]]},
            "largest_hub": None if big is None else {
                "label": big[1]["label"], "hub_max": big[0], "answers": data["modalities"][1 - big[2]],
                "queries": data["modalities"][big[2]]},
            # skewness above HUB_SKEW: a long right tail, a few items answer far more queries than the rest
            "hubs": top is not None and top[0] > HUB_SKEW}
