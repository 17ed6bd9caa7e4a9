"""Figure 2 of the cost chapter: temperature. Two parts.

(a) The loss landscape at several logit scales (inverse temperatures): the symmetric InfoNCE while both
    modalities slide along the gap vector (exporters/analysis/landscape.py, the same shifts as the
    `landscape` figure), at the common scales SCALES and at each model's own scale, one curve per model;
    the page's slider picks the scale and marks each model's own. Liang et al. (2022, sec. 4.2, Fig. 3b-d)
    found that at CLIP's learned scale 100 the trained gap sits at the loss's minimum, and that at higher
    temperatures (smaller scales) "closing the gap becomes more optimal": this lets a reader see both.
(b) The temperature series: the models of the `temperature` section (in the default build, our CLIP trained
    on the shapes world with the same seed, data and steps at several fixed inverse temperatures and with
    a learned one; models/README.md), their modality gap and R@k measured here on the section's dataset
    and plotted against the temperature 1/scale; the 5000-pair values of each training record beside them.
    Liang et al.'s experiment (sec. 4.2, "Additional evidence from fine-tuning"): CLIP fine-tuned on MSCOCO at
    six temperatures, the gap "decreases monotonically with increasing temperature".
"""

from __future__ import annotations

from typing import Any

from exporters.analysis.gap import modality_distance
from exporters.analysis.landscape import landscapes_by_scale, monotone, rank_correlation
from exporters.analysis.retrieval import recall_at_k
from exporters.figures._context import FigureContext
from exporters.figures._encoding import r4
from exporters.figures._sections import load_section
from exporters.figures.landscape import DELTAS
from exporters.training.records import training_record

ID = "temperature"
SCALES = (1.0, 5.0, 10.0, 20.0, 30.0, 50.0, 100.0)   # common logit scales of the slider
SERIES = "temperature"                               # the section holding the temperature series
KS = (1, 5, 10)


def _scales(own: list[float | None]) -> list[float]:
    """The common scales and each model's own (4 significant digits), sorted, without repeats."""
    return sorted({r4(s) for s in SCALES} | {r4(s) for s in own if s is not None})


def _landscapes(ctx: FigureContext, ds, models) -> tuple[list[float], list[dict]]:
    a, b = ds.names[0], ds.names[1]
    scales = _scales([e.logit_scale for e in models.values()])
    rows = []
    for mid, emb in models.items():
        lands = landscapes_by_scale(emb.blocks[a], emb.blocks[b], scales, DELTAS, batch_size=ctx.batch_size)
        own = r4(emb.logit_scale) if emb.logit_scale is not None else None
        rows.append({
            "id": mid, "label": str(ctx.world.label(mid)), "logit_scale": own,
            "own_index": scales.index(own) if own is not None else None,
            "distances": [r4(v) for v in lands[0]["distances"]],
            "original_distance": r4(lands[0]["original_distance"]), "closed_distance": r4(lands[0]["closed_distance"]),
            "losses": [[r4(v) for v in land["losses"]] for land in lands],
            "original_loss": [r4(land["original_loss"]) for land in lands],
            "closed_loss": [r4(land["closed_loss"]) for land in lands],
            "best_distance": [r4(land["best_distance"]) for land in lands],
        })
    return scales, rows


def _series(ctx: FigureContext) -> dict | None:
    sec = load_section(ctx, SERIES)
    if sec is None:
        return None
    ds, models = sec
    a, b = ds.names[0], ds.names[1]
    runs = []
    for mid, emb in models.items():
        if emb.logit_scale is None:
            continue   # no temperature to place it at
        x, y = emb.blocks[a], emb.blocks[b]
        rec = training_record(ctx, mid)
        r = recall_at_k(x, y, KS, ds.content_groups(a), ds.content_groups(b))
        runs.append({
            "id": mid, "label": str(ctx.world.label(mid)),
            "mode": (rec or {}).get("temperature") or "given",      # fixed / learned; given: from the configuration
            "scale": r4(emb.logit_scale), "temperature": r4(1.0 / emb.logit_scale),
            "init_scale": (rec or {}).get("init_scale"),
            "gap": r4(modality_distance(x, y)),
            "recall": {f"{d}@{k}": r4(r[f"{d}@{k}"]) for d in ("x2y", "y2x") for k in KS},
            "recall_mean": {str(k): r4((r[f"x2y@{k}"] + r[f"y2x@{k}"]) / 2) for k in KS},
            "eval_pairs": (rec or {}).get("eval_pairs"), "eval_gap": (rec or {}).get("eval_distance"),
            "eval_r1": (rec or {}).get("eval_r1"),
        })
    runs.sort(key=lambda r: (r["temperature"], r["id"]))
    fixed = [r for r in runs if r["mode"] != "learned"]
    temps = [r["temperature"] for r in fixed]
    gaps = [r["gap"] for r in fixed]
    rec_gaps = [r["eval_gap"] for r in fixed]
    trend = {"fixed": len(fixed), "gap_falls": monotone(gaps, increasing=False),
             "gap_rises": monotone(gaps, increasing=True), "spearman": r4(rank_correlation(temps, gaps))}
    if fixed and all(g is not None for g in rec_gaps):
        trend.update({"eval_gap_falls": monotone(rec_gaps, increasing=False),
                      "eval_gap_rises": monotone(rec_gaps, increasing=True),
                      "eval_spearman": r4(rank_correlation(temps, rec_gaps))})
    return {"section": SERIES, "dataset": ds.id, "n": len(ds), "modalities": [ds.modality(a).label,
                                                                            ds.modality(b).label],
            "runs": runs, "trend": trend}


def build(ctx: FigureContext, section: str = "main", **_: object) -> dict | None:
    sec = load_section(ctx, section)
    if sec is None:
        return None
    ds, models = sec
    scales, rows = _landscapes(ctx, ds, models)
    return {"section": section, "n": len(ds), "batch_size": min(ctx.batch_size, len(ds)), "scales": scales,
            "modalities": [ds.modality(ds.names[0]).label, ds.modality(ds.names[1]).label],
            "models": rows, "series": _series(ctx)}


# -- words ---------------------------------------------------------------------------------------
def _num(v: float | None, digits: int = 3) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def _scale(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.4g}"


def _and(words: list[str]) -> str:
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _r1(run: dict) -> float:
    return (run["recall"]["x2y@1"] + run["recall"]["y2x@1"]) / 2


def _at(m: dict, i: int) -> dict:
    return {"original": m["original_loss"][i], "closed": m["closed_loss"][i], "best": m["best_distance"][i]}


def facts(data: dict) -> dict:
    scales, models = data["scales"], data["models"]
    lo, hi = 0, len(scales) - 1
    own = [m for m in models if m["own_index"] is not None]
    raise_own = [m["label"] for m in own if _at(m, m["own_index"])["closed"] > _at(m, m["own_index"])["original"]]
    lower_lo = [m["label"] for m in models if _at(m, lo)["closed"] < _at(m, lo)["original"]]
    raise_hi = [m["label"] for m in models if _at(m, hi)["closed"] > _at(m, hi)["original"]]
    out: dict[str, Any] = {
        "n_models": len(models), "batch_size": data["batch_size"], "scales_text": _and([_scale(s) for s in scales]),
        "smallest_scale": _scale(scales[lo]), "largest_scale": _scale(scales[hi]),
        "own_text": _and([f"{m['label']}: {_scale(m['logit_scale'])}" for m in own]),
        "has_own": bool(own), "n_without_own": len(models) - len(own),
        "own_raise": _and(raise_own), "n_own_raise": len(raise_own), "all_own_raise": bool(own) and len(raise_own) == len(own),
        "lowest_lower": _and(lower_lo), "n_lowest_lower": len(lower_lo), "all_lowest_lower": len(lower_lo) == len(models),
        "highest_raise": _and(raise_hi), "n_highest_raise": len(raise_hi),
        "all_highest_raise": len(raise_hi) == len(models),
        "at_min_own": _and([m["label"] for m in own if _at(m, m["own_index"])["best"] == m["original_distance"]]),
        "n_at_min_own": sum(1 for m in own if _at(m, m["own_index"])["best"] == m["original_distance"]),
        "unit_scale": _and([m["label"] for m in own if m["logit_scale"] == 1.0]),
        "n_unit_scale": sum(1 for m in own if m["logit_scale"] == 1.0),
        # the first model with its own scale: where its loss is lowest at its own and at the smallest scale
        "lead": None if not own else {
            "label": own[0]["label"], "scale": _scale(own[0]["logit_scale"]),
            "distance": _num(own[0]["original_distance"]),
            "best_own": _num(_at(own[0], own[0]["own_index"])["best"]), "best_lowest": _num(_at(own[0], lo)["best"]),
            "at_min": _at(own[0], own[0]["own_index"])["best"] == own[0]["original_distance"],
            "at_clip_scale": own[0]["logit_scale"] == 100.0,    # OpenAI CLIP's learned scale (Liang et al.'s Fig. 3b)
            "own_is_lowest": own[0]["own_index"] == lo,
            "moves_at_lowest": _at(own[0], lo)["best"] != own[0]["original_distance"]},
        "has_series": data.get("series") is not None,
    }
    s = data.get("series")
    if s is None:
        return out
    runs, trend = s["runs"], s["trend"]
    fixed = [r for r in runs if r["mode"] != "learned"]
    learned = [r for r in runs if r["mode"] == "learned"]
    best = max(runs, key=lambda r: (_r1(r), -r["temperature"])) if runs else None

    def run_facts(r: dict) -> dict:
        return {"label": r["label"], "scale": _scale(r["scale"]), "temperature": _num(r["temperature"], 3),
                "gap": _num(r["gap"]), "r1": _num(_r1(r)), "init_scale": _scale(r["init_scale"]),
                "eval_gap": _num(r["eval_gap"]),
                "eval_r1": _num(None if r["eval_r1"] is None else sum(r["eval_r1"]) / 2)}

    out.update({
        "series_n": s["n"], "series_runs": len(runs), "series_fixed": len(fixed), "few_fixed": len(fixed) < 3,
        "series_text": _and([f"{_num(r['gap'])} at inverse temperature {_scale(r['scale'])}" +
                             (" (learned)" if r["mode"] == "learned" else "") for r in runs]),
        "coldest": run_facts(fixed[0]) if fixed else None, "warmest": run_facts(fixed[-1]) if fixed else None,
        "fixed_scales_text": _and([_scale(r["scale"]) for r in reversed(fixed)]),
        "r1_text": _and([f"{_num(_r1(r))} at inverse temperature {_scale(r['scale'])}" +
                         (" (learned)" if r["mode"] == "learned" else "") for r in runs]),
        "eval_r1_text": _and([f"{_num(sum(r['eval_r1']) / 2)} at {_scale(r['scale'])}" for r in runs
                              if r["eval_r1"] is not None]),
        "learned": run_facts(learned[0]) if learned else None, "has_learned": bool(learned),
        "learned_between": bool(learned and fixed and fixed[0]["scale"] >= learned[0]["scale"] >= fixed[-1]["scale"]),
        "best_r1": run_facts(best) if best else None,
        "gap_falls": trend["gap_falls"], "gap_rises": trend["gap_rises"],
        "gap_mixed": not trend["gap_falls"] and not trend["gap_rises"],
        "spearman": _num(trend["spearman"], 2),
        "has_eval": "eval_gap_falls" in trend,
        "eval_gap_falls": trend.get("eval_gap_falls", False), "eval_gap_rises": trend.get("eval_gap_rises", False),
        "eval_spearman": _num(trend.get("eval_spearman"), 2),
        "eval_pairs": next((r["eval_pairs"] for r in runs if r["eval_pairs"]), None),
        # Liang et al. 2022: "The gap distance decreases monotonically with increasing temperature"
        "agrees_with_liang": trend["gap_falls"],
    })
    return out


def describe(data: dict, opts: dict) -> dict:
    scales, models = data["scales"], data["models"]
    rows = []
    for m in models:
        for i, sc in enumerate(scales):
            at = _at(m, i)
            rows.append([m["label"], _scale(sc) + (" (own)" if i == m["own_index"] else ""),
                         _num(at["original"]), _num(at["closed"]), f"{at['closed'] - at['original']:+.3f}",
                         _num(at["best"])])
    tables = [{"summary": "Text alternative: the loss as trained and with the gap closed, at each logit scale",
               "head": ["model", "logit scale", "loss as trained", "loss, gap closed", "change",
                        "signed distance of the lowest loss"], "rows": rows}]
    s = data.get("series")
    show_series = s is not None and opts.get("series", True)
    if show_series:
        srows = []
        for r in s["runs"]:
            srows.append([r["label"], r["mode"], _scale(r["scale"]), _num(r["temperature"], 4), _num(r["gap"]),
                          _num(r["recall"]["x2y@1"]), _num(r["recall"]["y2x@1"]),
                          _num(r["recall"]["x2y@5"]), _num(r["recall"]["y2x@5"]),
                          _num(r["recall"]["x2y@10"]), _num(r["recall"]["y2x@10"]),
                          _num(r["eval_gap"]),
                          "n/a" if r["eval_r1"] is None else f"{_num(r['eval_r1'][0])} / {_num(r['eval_r1'][1])}"])
        a, b = s["modalities"]
        tables.append({
            "summary": "Text alternative: the modality gap and R@k of each run of the temperature series",
            "head": ["run", "temperature set", "inverse temperature", "temperature 1/scale", f"gap ({s['n']} pairs)",
                     f"R@1 {a}→{b}", f"R@1 {b}→{a}", f"R@5 {a}→{b}", f"R@5 {b}→{a}", f"R@10 {a}→{b}",
                     f"R@10 {b}→{a}", "gap (training record)", "R@1 both ways (training record)"],
            "rows": srows})
    n_own = sum(1 for m in models if m["own_index"] is not None)
    caption = (f"The symmetric InfoNCE loss over the {data['n']} pairs (in batches of {data['batch_size']}) while both "
               "modalities slide along the gap vector, one curve per model, at the logit scale the slider picks "
               f"({_and([_scale(v) for v in scales])}). A mark under the slider shows each model's own scale "
               f"({n_own} of {len(models)} models have one); circles mark the gap as trained, diamonds the gap "
               "closed.")
    if show_series:
        caption += (f" Below: {len(s['runs'])} runs of one objective trained at different temperatures, their "
                    f"modality gap and R@k measured on {s['n']} pairs, against the temperature (log axis); "
                    "a learned temperature is drawn at the value it ended at.")
    return {"label": "Loss landscape at several logit scales" + (", and the gap and retrieval of models trained "
                                                                 "at several temperatures" if show_series else ""),
            "caption": caption, "tables": tables}
