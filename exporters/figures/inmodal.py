"""Figure 5: image in-modal similarities minus text in-modal similarities, per model.

Drawn on a diverging scale centred at zero with one symmetric range for all models, so a model with
symmetric in-modal geometry (CyCLIP's aim) shows up pale, not clamped to one colour.
"""

from __future__ import annotations

import numpy as np

from exporters.analysis.similarity import inmodal_difference, similarity_matrix
from exporters.figures import _prose
from exporters.figures._context import FigureContext
from exporters.figures._encoding import r4, slug
from exporters.figures._sections import load_section, section_payload

ID = "inmodal"
TEMPLATE = "inmodal"


def build(ctx: FigureContext, section: str = "main", **_: object) -> dict | None:
    sec = load_section(ctx, section)
    if sec is None:
        return None
    ds, models = sec
    p = section_payload(ctx, section)
    a, b = ds.names[0], ds.names[1]
    out, vmax = [], 0.0
    for mid, emb in models.items():
        s = similarity_matrix([emb.blocks[a], emb.blocks[b]])
        d = inmodal_difference(s, len(ds))
        vmax = max(vmax, float(np.abs(d).max()))
        off = ~np.eye(len(ds), dtype=bool)
        label = next(m["label"] for m in p["models"] if m["id"] == mid)
        diff = ctx.write_matrix(f"data/{slug(section)}/{slug(mid)}-inmodal.bin", d)
        out.append({"id": mid, "label": label, "diff": diff,
                    "mean_abs": r4(float(np.abs(d[off]).mean())), "max_abs": r4(float(np.abs(d).max()))})
    return {"section": section, "items": p["items"], "n": len(ds), "models": out,
            "zmax": float(np.ceil(vmax * 20) / 20), "rows": ds.modality(a).label, "cols": ds.modality(b).label,
            "key": slug(section)}


def facts(data: dict) -> dict:
    """The models by the mean absolute difference of their two in-modal blocks (most symmetric first,
    ties in the section's order), and each model's row by id."""
    ordered = sorted(data["models"], key=lambda m: m["mean_abs"])
    return {"by_symmetry": ordered, "most_symmetric": ordered[0] if ordered else None,
            "least_symmetric": ordered[-1] if ordered else None, "by_id": _prose.by_id(data["models"])}
