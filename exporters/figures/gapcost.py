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

Zero-shot accuracy needs a class label per image and an embedded prompt per class; a section's
PairedDataset carries neither (COCO has no labels; the shapes world's generator knows each scene's
shapes, but the build embeds no class prompts), so the data says `zero_shot: null` and the page
says so rather than show a number.
"""

from __future__ import annotations

from typing import Any

from exporters.analysis.gap import modality_distance
from exporters.analysis.gap_cost import FRACTIONS, RECALLS, gap_cost
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
        rows.append(row)
    return {"section": section, "dataset": ds.id, "n": len(ds), "batch_size": min(ctx.batch_size, len(ds)),
            "fractions": fractions, "closed": fractions.index(CLOSED), "variants": list(VARIANTS),
            "modalities": [la, lb],
            "metrics": [{"key": k, "label": f"{_arrow(la, lb) if k.startswith('x2y') else _arrow(lb, la)} R@{k[-1]}"}
                        for k in ("x2y@1", "y2x@1", "x2y@5", "y2x@5")],
            "models": rows, "zero_shot": None}


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
    return {"n": data["n"], "batch_size": data["batch_size"], "a": a, "b": b,
            "keep_pairs": KEEP_PAIRS, "max_fraction": data["fractions"][-1],
            "x2y": _direction(data, "x2y@1"), "y2x": _direction(data, "y2x@1"),
            "loss_models": losses, "loss_rises": _join([x["label"] for x in rise]),
            "loss_falls": _join([x["label"] for x in losses if x["after"] < x["before"]]),
            "any_loss": bool(losses), "any_loss_rises": bool(rise), "all_loss_rise": bool(losses) and len(rise) == len(losses),
            "loss_most": most, "flat": flat, "any_no_scale": bool(no_scale), "no_scale": _join(no_scale),
            "no_scale_one": len(no_scale) == 1,
            "has_zero_shot": data["zero_shot"] is not None, "untrained": untrained,
            "no_direction": _join([m["label"] for m in data["models"] if m["curves"] is None])}


def _f(v: float | None, d: int = 2) -> str:
    return "n/a" if v is None else f"{v:.{d}f}"


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
        summary.append([m["label"]] + [f"{_f(cur[x['key']][0])} \u2192 {_f(cur[x['key']][c])}" for x in mets]
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
                            + [_f(cur[x["key"]][i]) for x in mets]
                            + ["n/a" if cur["loss"] is None else _f(cur["loss"][i], 3)])
        tables.append({"summary": f"Text alternative: the curves, shifted along the gap and {words}",
                       "head": ["Model", "shift (fraction of the closing shift)", "signed modality distance"]
                               + [x["label"] for x in mets] + ["loss (symmetric InfoNCE)"], "rows": rows})
    zs = ("" if data["zero_shot"] is not None else
          f" No zero-shot accuracy: this build has no class labels with embedded class prompts for "
          f"{data['dataset']}.")
    return {"label": f"Retrieval and loss of each model while the {la.lower()} and {lb.lower()} embeddings "
                     f"slide towards each other along the gap vector ({data['dataset']}, {data['n']} pairs)",
            "caption": f"Left: the retrieval metric chosen above against the shift along the gap vector, as a "
                       f"fraction of the shift that closes the gap (0: as trained, circle; 1: gap closed, "
                       f"diamond; beyond 1 the modalities pass each other). Right: the symmetric InfoNCE loss "
                       f"at each model's own logit scale, batches of {data['batch_size']} pairs. One curve per "
                       f"model; hover a point for its model, shift and value. Ties between identical items "
                       f"count as retrieved.{zs}",
            "tables": tables}
