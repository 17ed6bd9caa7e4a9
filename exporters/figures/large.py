"""Figure 10: the large set (e.g. 5000 pairs) projected with pair lines, interactive.

Views per model: UMAP of all items after closing the gap; UMAP fitted on the first modality with the
second placed out of sample (closes the gap visually only); UMAP of the concatenated pair vectors
(one point per pair). The gap-open picture is the 100-pair explorer's; at this size each UMAP costs
tens of seconds on two cores, so the build computes only the views that answer the section's
question. Coordinates in [-1, 1] at 3 decimals.
"""

from __future__ import annotations

import numpy as np

from exporters.analysis.gap import close_gap
from exporters.analysis.projection import SEED, concat_pairs, umap_out_of_sample
from exporters.cache import cached_arrays
from exporters.figures._common import (FigureContext, _digest, cached_projection, items_payload, load_section,
                                       slug, unit_box)

ID = "large"
TEMPLATE = "large"


def build(ctx: FigureContext, section: str = "large", **_: object) -> dict | None:
    sec = load_section(ctx, section)
    if sec is None:
        return None
    ds, models = sec
    a, b = ds.names[0], ds.names[1]
    items = ctx.write_json(f"data/{slug(section)}/items.json", items_payload(ctx, ds))
    out = []
    for mid, emb in models.items():
        x, y = emb.blocks[a], emb.blocks[b]
        xc, yc = close_gap(x, y)
        views = {"closed": unit_box(cached_projection(ctx, np.vstack([xc, yc]), "UMAP"))}
        parts = {"what": "umap_oos", "seed": SEED, "data": _digest([x, y]), "v": 1}
        arr, _ = cached_arrays(parts, lambda: dict(zip(("fit", "proj"), umap_out_of_sample(x, y))),
                               ctx.cache_dir / "projections")
        views["oos"] = unit_box(np.vstack([arr["fit"], arr["proj"]]))
        views["concat"] = unit_box(cached_projection(ctx, concat_pairs([x, y]), "UMAP"))
        url = ctx.write_json(f"data/{slug(section)}/{slug(mid)}.json", {"views": views})
        out.append({"id": mid, "label": str(ctx.world.label(mid)), "src": url})
    return {"section": section, "n": len(ds), "dataset": ds.id, "items": items, "models": out,
            "modalities": [ds.modality(a).label, ds.modality(b).label],
            "views": ["closed", "oos", "concat"]}
