"""Figure 3: the same views side by side for every model of a section, with distance and loss."""

from __future__ import annotations

from exporters.figures._context import FigureContext

from exporters.figures._sections import section_payload

ID = "comparison"
TEMPLATE = "comparison"


def build(ctx: FigureContext, section: str = "main", **_: object) -> dict | None:
    p = section_payload(ctx, section)
    return None if p is None else {**p, "view": "grid"}
