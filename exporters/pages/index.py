"""Facts of the opening page (article/pages/index.md.j2): the main section's models, its first model read
quadrant by quadrant, and the build's largest gap where it is starker than the first model's."""

from __future__ import annotations

from typing import Any


def facts(pages: Any) -> dict:
    main = pages.facts("explorer", "main")
    first, big = main["first"], main["largest"]
    return {
        "main": main, "first": first,
        "caption": f"The first model of this build, {first['label']}.",
        # the largest gap, when it is another model's and shows the gap in the heatmap
        "show_largest": big["id"] != first["id"] and big["gap_bright"],
        "largest": big,
    }
