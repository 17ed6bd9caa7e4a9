"""Figure exporters: one module per figure, `build(ctx, section=..., **options) -> dict | None`.

Each module names the Jinja template that renders it (`TEMPLATE`, in templates/<TEMPLATE>.html.j2)
and the JS view that draws it (the template's `data-figure`). `None` means the figure's section is
absent from the configuration; the page then shows a short note instead.
"""

from __future__ import annotations

from exporters.figures import augmentations, comparison, explorer, inmodal, landscape, large
from exporters.figures._common import FigureContext

REGISTRY = [explorer, comparison, landscape, inmodal, augmentations, large]
FIGURES = {m.ID: m for m in REGISTRY}

__all__ = ["FIGURES", "REGISTRY", "FigureContext"]
