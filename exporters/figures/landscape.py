"""Figure 4: the loss while both modalities slide along the gap vector, per model, with the table.

Computed on the section the page names (`main`, `world`), or on `large` when the configuration has
one and none is named, else on `main`. The loss is the
symmetric InfoNCE with the model's logit scale over consecutive batches (ctx.batch_size pairs).
When `options.seed_landscapes` names a folder of the seed article's `*_loss_landscape.json`, their
rows are shown beside ours for comparison (their loss is the one-directional reference loss).
"""

from __future__ import annotations

import json

import numpy as np

from exporters.analysis.landscape import loss_landscape
from exporters.errors import UserError
from exporters.figures import _prose
from exporters.figures._context import FigureContext
from exporters.figures._encoding import r4
from exporters.figures._sections import load_section, loss_bounds

ID = "landscape"
TEMPLATE = "landscape"
DELTAS = tuple(float(d) for d in np.arange(-5.0, 5.0, 0.25))


def build(ctx: FigureContext, section: str | None = None, **_: object) -> dict | None:
    role = section or ("large" if ctx.section_opts("large") else "main")
    sec = load_section(ctx, role)
    if sec is None:
        return None
    ds, models = sec
    a, b = ds.names[0], ds.names[1]
    rows = []
    for mid, emb in models.items():
        label = str(ctx.world.label(mid))
        if emb.logit_scale is None:
            rows.append({"id": mid, "label": label, "logit_scale": None})
            continue
        land = loss_landscape(emb.blocks[a], emb.blocks[b], emb.logit_scale, DELTAS, batch_size=ctx.batch_size)
        rows.append({"id": mid, "label": label, "logit_scale": emb.logit_scale,
                     "loss_bounds": loss_bounds(emb.logit_scale, min(ctx.batch_size, len(ds))),
                     "distances": [r4(v) for v in land["distances"]], "losses": [r4(v) for v in land["losses"]],
                     **{k: r4(land[k]) for k in ("original_distance", "original_loss", "closed_distance",
                                                 "closed_loss", "loss_difference")}})
    seed_rows = []
    folder = ctx.options.get("seed_landscapes")
    if folder and role != "world":  # the seed's COCO table belongs beside real models, not our shapes world
        root = ctx.world.config.resolve(str(folder))
        found = sorted(root.glob("*_loss_landscape.json"))
        if not found:
            raise UserError(f"{root}: options.seed_landscapes names a folder without *_loss_landscape.json files; "
                            "point it at the seed's MSCOCO-Val_size-5000 folder or remove the option")
        for f in found:
            d = json.loads(f.read_text())
            seed_rows.append({"label": f.name.replace("_loss_landscape.json", ""),
                              **{k: r4(d[k]) for k in ("original_distance", "original_loss", "closed_distance",
                                                       "closed_loss", "loss_difference")}})
    return {"section": role, "n": len(ds), "batch_size": ctx.batch_size, "models": rows, "seed": seed_rows,
            "modalities": [ds.modality(a).label, ds.modality(b).label]}


def facts(data: dict) -> dict:
    """What the pages say about the loss along the gap: the models whose loss closing the gap raises
    (`dearer`, largest rise first) or lowers (`cheaper`, largest fall first), and the same two in the
    table's order (`raises`, `lowers`). A model evaluated at logit scale <= 1 is in none of them: its loss
    stays near ln B whatever the embeddings, so its rise or fall says nothing (`flat`: the sentences that
    say so, templates/_macros.html.j2 flat_loss). `by_id`: the rows with a logit scale."""
    rows = [m for m in data["models"] if m.get("logit_scale")]
    flat = [m for m in rows if m.get("loss_bounds") and m["logit_scale"] <= 1]
    flat_ids = {m["id"] for m in flat}
    informative = [m for m in rows if m["id"] not in flat_ids]
    raises = [m for m in informative if m["loss_difference"] > 0]
    lowers = [m for m in informative if m["loss_difference"] < 0]
    dearer = sorted(raises, key=lambda m: m["loss_difference"], reverse=True)
    cheaper = sorted(lowers, key=lambda m: m["loss_difference"])
    return {"n": data["n"], "evaluated": bool(rows), "by_id": _prose.by_id(rows),
            "dearer": dearer, "cheaper": cheaper, "one_dearer": len(dearer) == 1, "one_cheaper": len(cheaper) == 1,
            "raises": [m["label"] for m in raises], "lowers": [m["label"] for m in lowers],
            "flat": [_prose.flat_loss(m["label"], m["logit_scale"], m["loss_bounds"], m["original_loss"])
                     for m in flat]}
