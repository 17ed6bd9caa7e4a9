"""Facts of the page on where the gap comes from (article/pages/gap.md.j2): the main section, its loss
along the gap, and its most symmetric model (in-modal figure) set against the modality distances and
the loss landscape."""

from __future__ import annotations

from typing import Any


def facts(pages: Any) -> dict:
    main = pages.facts("explorer", "main")
    land = pages.facts("landscape", "main")
    inm = pages.facts("inmodal", "main")
    sym = inm["most_symmetric"]
    symmetry = None
    if sym is not None:
        smallest = main["smallest"]
        sym_distance = main["by_id"][sym["id"]]["distance"]
        row = land["by_id"].get(sym["id"])
        symmetry = {
            "most": sym, "least": inm["least_symmetric"], "distance": sym_distance, "smallest": smallest,
            # symmetry alone did not give the smallest gap
            "not_smallest": sym_distance > smallest["distance"],
            # its loss along the gap, where the landscape has it (a model with a logit scale)
            "loss_difference": row["loss_difference"] if row else None, "has_loss": row is not None,
            "loss_lower": row is not None and row["loss_difference"] < 0,
        }
    return {"main": main, "first": main["first"], "landscape": land, "symmetry": symmetry}
