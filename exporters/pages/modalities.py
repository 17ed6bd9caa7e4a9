"""Facts of the page on more than images and text (article/pages/modalities.md.j2): the triplet and the
molecule sections, and the molecules' largest gap against the main section's."""

from __future__ import annotations

from typing import Any

from exporters.figures import _prose


def facts(pages: Any) -> dict:
    triplet = pages.facts("explorer", "triplet") if pages.has("triplet") else None
    molecules = pages.facts("explorer", "molecules") if pages.has("molecules") else None
    compare = None
    if molecules is not None:
        main = pages.facts("explorer", "main")
        main_max = _prose.largest(m["distance"] for m in main["models"])
        mol_max = _prose.largest(m["distance"] for m in molecules["models"])
        compare = {"main_max": main_max, "molecules_max": mol_max,
                   "smaller": main_max is not None and mol_max is not None and mol_max < main_max}
    return {"triplet": triplet, "molecules": molecules, "compare": compare}
