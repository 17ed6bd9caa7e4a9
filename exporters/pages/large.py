"""Facts of the large-scale page (article/pages/large.md.j2): the large figure's models and heatmap, and
whether they are all models of the shapes world (then no real model's embeddings of thousands of pairs
ship with this build)."""

from __future__ import annotations

from typing import Any


def facts(pages: Any) -> dict:
    large = pages.facts("large")
    if large is None:
        return {"large": None, "only_world": False}
    world = pages.ctx.world.config.sections.get("world") if pages.has("world") else None
    world_ids = set((world or {}).get("models") or [])
    return {"large": large, "only_world": all(mid in world_ids for mid in large["model_ids"])}
