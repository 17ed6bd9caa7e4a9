"""Figure (issue 10, figure 1): what closing the modality gap costs, per model.

Both modalities slide towards each other along the gap vector (analysis/gap_cost.py): the first by
-delta/2, the second by +delta/2, where delta is a fraction of the modality distance, so 0 is the
model as trained, 1 closes the gap (the seed article's closing) and values above 1 push the
modalities past each other. At every shift the figure shows R@1 and R@5 in both directions
(content-group ties count, as everywhere in the article) and, beside them, the symmetric InfoNCE
at the model's own logit scale over consecutive batches of ctx.batch_size pairs. Both variants are
exported: re-normalised onto the sphere after the shift (the seed's closing) and raw (off the
sphere). Why: the seed answers "does closing the gap cost anything?" with one loss number, while
retrieval tells the reader what a user of the embeddings would lose.

Zero-shot accuracy is added where the section's dataset has class tasks (PairedDataset.tasks: a label
per image and prompts per class; the shapes world has two) and a model's source can embed the prompts
(registry `encodes_text`): the images slide by -delta/2 and the class embeddings by +delta/2 along the
paired data's gap vector, the same shift as the captions'. COCO has no labels and the real models are
known only through their exported embeddings, so there `zero_shot` is null and the page says why.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exporters.analysis.gap import gap_vector, modality_distance
from exporters.analysis.gap_cost import FRACTIONS, RECALLS, closing_deltas, gap_cost, zero_shot_curve
from exporters.figures._context import FigureContext
from exporters.figures._encoding import r4
from exporters.figures._prose import flat_loss
from exporters.figures._sections import load_section, loss_bounds
from exporters.training.records import training_record

ID = "gapcost"
VARIANTS = ("renormalized", "raw")
CLOSED = 1.0                    # the fraction that closes the gap (must be one of the FRACTIONS)
KEEP_PAIRS = 1                  # a change of at most this many pairs (of n) counts as "keeps its retrieval"


def _arrow(a: str, b: str) -> str:
    return f"{a.lower()}\u2192{b.lower()}"


def build(ctx: FigureContext, section: str = "main", **_: object) -> dict | None:
    sec = load_section(ctx, section)
    if sec is None:
        return None
    ds, models = sec
    a, b = ds.names[0], ds.names[1]
    la, lb = ds.modality(a).label, ds.modality(b).label
    groups = (ds.content_groups(a), ds.content_groups(b))
    fractions = [float(f) for f in FRACTIONS]
    rows = []
    tasks = [t for t in ds.tasks if t.of == a]
    classes = {mid: ctx.world.class_embeddings(mid, ctx.section_opts(section)["dataset"]) for mid in models} if tasks else {}
    zs_keys = [f"zs:{t.name}" for t in tasks if any(c is not None for c in classes.values())]
    for mid, emb in models.items():
        x, y = emb.blocks[a], emb.blocks[b]
        row: dict[str, Any] = {"id": mid, "label": str(ctx.world.label(mid)), "logit_scale": emb.logit_scale,
                               "distance": r4(modality_distance(x, y))}
        rec = training_record(ctx, mid)          # our own models: the record beside the checkpoint
        row["untrained"] = rec is not None and rec["steps"] == 0
        row["loss_bounds"] = loss_bounds(emb.logit_scale, min(ctx.batch_size, len(ds)))
        if modality_distance(x, y) == 0.0:       # identical centroids: there is no gap direction to move along
            row["curves"] = None
            rows.append(row)
            continue
        cost = gap_cost(x, y, emb.logit_scale, fractions, ctx.batch_size, groups)
        row["curves"] = {v: {k: [r4(t) for t in cost[v][k]] for k in (*RECALLS, "distance")}
                         | {"loss": None if cost[v]["loss"] is None else [r4(t) for t in cost[v]["loss"]]}
                         for v in VARIANTS}
        deltas = closing_deltas(x, y, fractions)
        for t in tasks:
            key = f"zs:{t.name}"
            if key not in zs_keys:
                continue
            cls = classes.get(mid)
            for v in VARIANTS:
                row["curves"][v][key] = None if cls is None else [
                    r4(q) for q in zero_shot_curve(x, np.asarray(t.labels), cls[t.name], deltas, gap_vector(x, y),
                                                   renormalize=v == "renormalized")]
        rows.append(row)
    return {"section": section, "dataset": ds.id, "n": len(ds), "batch_size": min(ctx.batch_size, len(ds)),
            "fractions": fractions, "closed": fractions.index(CLOSED), "variants": list(VARIANTS),
            "modalities": [la, lb],
            "metrics": [{"key": k, "label": f"{_arrow(la, lb) if k.startswith('x2y') else _arrow(lb, la)} R@{k[-1]}"}
                        for k in ("x2y@1", "y2x@1", "x2y@5", "y2x@5")]
                       + [{"key": f"zs:{t.name}", "label": f"zero-shot: {t.name} ({len(t.classes)} classes)"}
                          for t in tasks if f"zs:{t.name}" in zs_keys],
            "models": rows, "zero_shot": _zero_shot_meta(tasks, zs_keys, classes)}


def _zero_shot_meta(tasks: list, keys: list[str], classes: dict) -> dict | None:
    """What the zero-shot curves are: per task its classes, prompts and the majority-class rate (the accuracy of
    always answering the commonest class, the floor a classifier must beat); None where none was computed."""
    if not keys:
        return None
    out = []
    for t in tasks:
        if f"zs:{t.name}" not in keys:
            continue
        counts = np.bincount(np.asarray(t.labels), minlength=len(t.classes))
        out.append({"key": f"zs:{t.name}", "name": t.name, "label": t.label, "classes": list(t.classes),
                    "prompts": [list(p) for p in t.prompts], "majority": r4(counts.max() / counts.sum()),
                    "counts": [int(c) for c in counts]})
    return {"tasks": out, "without": sorted(m for m, c in classes.items() if c is None)}


# -- words and numbers for the page ----------------------------------------------------------------------
def _join(labels: list[str]) -> str:
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def _direction(data: dict, key: str) -> dict:
    """Who loses, keeps or gains R@1 in one direction when the (re-normalised) gap is closed."""
    c, tol = data["closed"], (KEEP_PAIRS + 0.5) / data["n"]
    per, lose, keep, gain = [], [], [], []
    for m in data["models"]:
        if m["curves"] is None:
            continue
        curve = m["curves"]["renormalized"][key]
        before, after = curve[0], curve[c]
        change = after - before
        per.append({"label": m["label"], "before": before, "after": after, "change": r4(change)})
        (lose if change < -tol else gain if change > tol else keep).append(m["label"])
    worst = min(per, key=lambda p: p["change"]) if per else None
    best = max(per, key=lambda p: p["change"]) if per else None
    metric = next(x["label"] for x in data["metrics"] if x["key"] == key)
    return {"metric": metric, "models": per, "worst": worst, "best": best,
            "losers": _join(lose), "keepers": _join(keep), "gainers": _join(gain),
            "any_lose": bool(lose), "any_keep": bool(keep), "any_gain": bool(gain),
            "all_lose": bool(per) and len(lose) == len(per),
            "one_loser": len(lose) == 1, "one_keeper": len(keep) == 1, "one_gainer": len(gain) == 1}


def _zero_shot_facts(data: dict) -> list[dict]:
    """Per zero-shot task: the trained models' accuracy as trained and with the gap closed (re-normalised), the
    majority-class floor, and who beats it by more than two binomial standard errors at n images."""
    if data["zero_shot"] is None:
        return []
    c, n, out = data["closed"], data["n"], []
    for t in data["zero_shot"]["tasks"]:
        floor = t["majority"]
        bar = floor + 2.0 * (floor * (1.0 - floor) / n) ** 0.5
        per, untrained = [], None
        for m in data["models"]:
            curve = (m["curves"] or {}).get("renormalized", {}).get(t["key"])
            if curve is None:
                continue
            row = {"label": m["label"], "before": curve[0], "after": curve[c], "change": r4(curve[c] - curve[0])}
            if m["untrained"]:
                untrained = row
            else:
                per.append(row)
        beat = [p["label"] for p in per if p["before"] > bar]
        out.append({"key": t["key"], "name": t["name"], "label": t["label"], "n_classes": len(t["classes"]), "majority": floor,
                    "bar": r4(bar), "models": per, "untrained": untrained,
                    "example": t["prompts"][0][0], "ensemble": max(len(p) for p in t["prompts"]),
                    "lo_before": min((p["before"] for p in per), default=None),
                    "hi_before": max((p["before"] for p in per), default=None),
                    "lo_after": min((p["after"] for p in per), default=None),
                    "hi_after": max((p["after"] for p in per), default=None),
                    "largest_change": max(per, key=lambda p: abs(p["change"])) if per else None,
                    "beaters": _join(beat), "any_beat": bool(beat), "all_beat": bool(per) and len(beat) == len(per)})
    return out


def facts(data: dict) -> dict:
    """The numbers and booleans cost.md states: per direction of R@1, which models lose, keep or gain
    retrieval when the gap is closed (re-normalised; "keeps" = changes by at most KEEP_PAIRS pair of n),
    the largest drop, and how the loss moves."""
    c = data["closed"]
    with_loss = [m for m in data["models"] if m["curves"] is not None and m["curves"]["renormalized"]["loss"] is not None]
    # at logit scale <= 1 the loss carries no information (_prose.flat_loss): said so, and left out of the ranking
    flat = [f for f in (flat_loss(m["label"], m["logit_scale"], m.get("loss_bounds"),
                                  m["curves"]["renormalized"]["loss"][0]) for m in with_loss) if f]
    flat_labels = {f["label"] for f in flat}
    losses = [{"label": m["label"], "before": m["curves"]["renormalized"]["loss"][0],
               "after": m["curves"]["renormalized"]["loss"][c]}
              for m in with_loss if m["label"] not in flat_labels]
    rise = [x for x in losses if x["after"] > x["before"]]
    most = max(rise, key=lambda x: x["after"] - x["before"]) if rise else None     # the largest rise
    no_scale = [m["label"] for m in data["models"] if m["logit_scale"] is None]
    a, b = (s.lower() for s in data["modalities"])
    untrained = None
    for m in data["models"]:
        if m["untrained"] and m["curves"] is not None:
            cur = m["curves"]["renormalized"]
            untrained = {"label": m["label"], "before": cur["x2y@1"][0], "after": cur["x2y@1"][c],
                         "chance": r4(1.0 / data["n"]), "distance": m["distance"]}
            untrained["no_gain"] = untrained["after"] - untrained["before"] <= (KEEP_PAIRS + 0.5) / data["n"]
            break
    zs = _zero_shot_facts(data)
    return {"n": data["n"], "batch_size": data["batch_size"], "a": a, "b": b,
            "keep_pairs": KEEP_PAIRS, "max_fraction": data["fractions"][-1],
            "x2y": _direction(data, "x2y@1"), "y2x": _direction(data, "y2x@1"),
            "loss_models": losses, "loss_rises": _join([x["label"] for x in rise]),
            "loss_falls": _join([x["label"] for x in losses if x["after"] < x["before"]]),
            "any_loss": bool(losses), "any_loss_rises": bool(rise), "all_loss_rise": bool(losses) and len(rise) == len(losses),
            "loss_most": most, "flat": flat, "any_no_scale": bool(no_scale), "no_scale": _join(no_scale),
            "no_scale_one": len(no_scale) == 1,
            "has_zero_shot": data["zero_shot"] is not None, "zero_shot": zs,
            "zs_learned": _join([z["name"] for z in zs if z["all_beat"]]),
            "zs_not_learned": _join([z["name"] for z in zs if not z["any_beat"]]),
            "zs_contrast": any(z["all_beat"] for z in zs) and any(not z["any_beat"] for z in zs),
            "zs_max_change": max((dict(p, task=z["label"], size=r4(abs(p["change"]))) for z in zs for p in z["models"]),
                                 key=lambda p: p["size"], default=None),
            "zero_shot_without": _join([m["label"] for m in data["models"] if data["zero_shot"] is not None
                                        and m["id"] in data["zero_shot"]["without"]]),
            "untrained": untrained,
            "no_direction": _join([m["label"] for m in data["models"] if m["curves"] is None])}


def _f(v: float | None, d: int = 2) -> str:
    return "n/a" if v is None else f"{v:.{d}f}"


def _at(curves: dict, key: str, i: int) -> float | None:
    """One point of a curve; None where the model has no such curve (zero-shot for a model that cannot embed text)."""
    curve = curves.get(key)
    return None if curve is None else curve[i]


def describe(data: dict, opts: dict) -> dict:
    c = data["closed"]
    la, lb = data["modalities"]
    mets = data["metrics"]
    head = ["Model"] + [f"{x['label']}: trained \u2192 closed" for x in mets] + ["loss: trained \u2192 closed"]
    summary = []
    for m in data["models"]:
        if m["curves"] is None:
            summary.append([m["label"]] + ["not defined (no gap to close)"] * (len(mets) + 1))
            continue
        cur = m["curves"]["renormalized"]
        loss = cur["loss"]
        summary.append([m["label"]] + [f"{_f(_at(cur, x['key'], 0))} \u2192 {_f(_at(cur, x['key'], c))}" for x in mets]
                       + ["no logit scale" if loss is None else f"{_f(loss[0], 3)} \u2192 {_f(loss[c], 3)}"])
    tables = [{"summary": "Text alternative: each model's retrieval and loss as trained and with the gap closed "
                          "(re-normalised)", "head": head, "rows": summary}]
    for v, words in (("renormalized", "re-normalised onto the sphere"), ("raw", "not re-normalised")):
        rows = []
        for m in data["models"]:
            if m["curves"] is None:
                continue
            cur = m["curves"][v]
            for i, f in enumerate(data["fractions"]):
                rows.append([m["label"], f"{f:.1f}", _f(cur["distance"][i], 3)]
                            + [_f(_at(cur, x["key"], i)) for x in mets]
                            + ["n/a" if cur["loss"] is None else _f(cur["loss"][i], 3)])
        tables.append({"summary": f"Text alternative: the curves, shifted along the gap and {words}",
                       "head": ["Model", "shift (fraction of the closing shift)", "signed modality distance"]
                               + [x["label"] for x in mets] + ["loss (symmetric InfoNCE)"], "rows": rows})
    zs = (f" Zero-shot accuracy (in the metric menu): each image is given the class whose prompt embedding is "
          f"most similar; the images shift like the {la.lower()} embeddings, the class prompts like the "
          f"{lb.lower()} embeddings." if data["zero_shot"] is not None else
          f" No zero-shot accuracy: this build has no class labels with embedded class prompts for "
          f"{data['dataset']}.")
    return {"label": f"Retrieval and loss of each model while the {la.lower()} and {lb.lower()} embeddings "
                     f"slide towards each other along the gap vector ({data['dataset']}, {data['n']} pairs)",
            "caption": f"Left: the metric chosen above against the shift along the gap vector, as a "
                       f"fraction of the shift that closes the gap (0: as trained, circle; 1: gap closed, "
                       f"diamond; beyond 1 the modalities pass each other). Right: the symmetric InfoNCE loss "
                       f"at each model's own logit scale, batches of {data['batch_size']} pairs. One curve per "
                       f"model; hover a point for its model, shift and value. Ties between identical items "
                       f"count as retrieved.{zs}",
            "tables": tables}
