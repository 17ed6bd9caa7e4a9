"""Figure 8: one image augmented in steps (rotation, noise, blur, shift), heatmaps per model.

The configuration maps each augmentation to one dataset id (one source image) or a list of them
(several source images to pick from). Each (augmentation, image, model) matrix is its own file, so
the browser only downloads what the reader picks.
"""

from __future__ import annotations

from exporters.analysis.similarity import similarity_matrix
from exporters.errors import UserError
from exporters.figures._context import FigureContext
from exporters.figures._encoding import slug
from exporters.figures._sections import items_payload

ID = "augmentations"
TEMPLATE = "augmentations"


def build(ctx: FigureContext, section: str = "augmentations", **_: object) -> dict | None:
    opts = ctx.section_opts(section)
    if opts is None:
        return None
    augs = []
    for aug, ids in dict(opts["datasets"]).items():
        ids = [ids] if isinstance(ids, str) else list(ids)
        sources = []
        for did in ids:
            ds = ctx.world.dataset(did)
            first_image = next((m for m in ds.modalities if m.kind == "image"), None)
            if first_image is None:
                raise UserError(f"[sections.{section}] dataset {did!r} has no image modality to augment")
            items = ctx.write_json(f"data/{slug(section)}/{slug(did)}/items.json", items_payload(ctx, ds))
            models = []
            for mid in opts["models"]:
                emb = ctx.world.embeddings(mid, did)
                s = similarity_matrix([emb.blocks[n] for n in ds.names])
                sim = ctx.write_matrix(f"data/{slug(section)}/{slug(did)}/{slug(mid)}.bin", s)
                models.append({"id": mid, "label": str(ctx.world.label(mid)), "sim": sim})
            thumb = ctx.item_file(first_image.items[0], "image", ds.id, 0)
            sources.append({"dataset": did, "items": items, "thumb": thumb, "n": len(ds), "models": models})
        augs.append({"name": str(aug), "sources": sources})
    return {"section": section, "augmentations": augs, "zrange": [0.0, 1.0]}
