"""Figures 1, 2, 6, 7, 9, 11: the linked explorer (similarity heatmap + scatter + hover panel).

Per model and per state (gap open / closed): the stacked cosine-similarity matrix (uint8), the 2-D
projections (PCA / UMAP / t-SNE of all items of all modalities together), the modality distance,
the loss, and the hierarchical-clustering order with caption labels. The browser switches between
these precomputed states and filters pairs by caption substring.
"""

from __future__ import annotations

from exporters.figures._context import FigureContext

from exporters.figures._sections import section_payload

ID = "explorer"
TEMPLATE = "explorer"


def build(ctx: FigureContext, section: str = "main", **_: object) -> dict | None:
    return section_payload(ctx, section)
