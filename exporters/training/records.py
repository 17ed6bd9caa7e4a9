"""How a model of this project was trained: the record `python -m exporters train` writes beside
each checkpoint (models/<name>.json), read for the pages that state it."""

from __future__ import annotations

import json
from typing import Any

from exporters.figures._encoding import r4


def training_record(ctx: Any, mid: str) -> dict | None:
    """How a model of this project was trained, from the record beside its checkpoint (models/<name>.json,
    written by `python -m exporters train`); None for models trained elsewhere."""
    try:
        entry = ctx.world.config.models[mid]
        ckpt = entry.options.get("checkpoint")
    except (AttributeError, KeyError):
        return None
    if not ckpt:
        return None
    rec_path = ctx.world.config.resolve(str(ckpt)).with_suffix(".json")
    if not rec_path.is_file():
        return None
    try:
        rec = json.loads(rec_path.read_text(encoding="utf-8"))
        cfg, temp = rec["config"], rec["temperature"]
    except (ValueError, KeyError, TypeError):
        return None
    val = rec.get("val") or {}
    return {"objective": rec.get("objective"), "steps": int(rec.get("steps") or 0),
            "batch_size": cfg.get("batch_size"), "train_pairs": cfg.get("train_pairs"),
            "temperature": temp.get("mode"), "scale": r4(temp.get("final_scale")),
            "init_scale": r4(temp.get("init_scale")),
            "hopfield_beta": cfg.get("hopfield_beta") if rec.get("objective") == "cloob" else None,
            "notes": str(cfg.get("notes") or ""),
            "eval_pairs": val.get("pairs"),
            "eval_r1": [r4(val.get("image_to_text_R@1")), r4(val.get("text_to_image_R@1"))]
            if "image_to_text_R@1" in val else None,
            "eval_chance_r1": r4(val.get("chance_R@1")), "eval_distance": r4(val.get("modality_distance"))}
