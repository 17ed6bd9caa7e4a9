"""Facts of the data-and-method page (article/pages/data.md.j2): the main section's models, the largest
quantisation error of its similarity matrices (as exported), and the reference copy this build reads."""

from __future__ import annotations

from typing import Any

MB = 1e6


def facts(pages: Any) -> dict:
    from exporters.site import _copies

    main = pages.facts("explorer", "main")
    c = _copies(pages.ctx.world.config)
    copies = None
    if c:
        copies = {**c, "megabytes": c["bytes"] / MB,
                  "parts_megabytes": [{"name": k, "megabytes": v / MB} for k, v in c["parts"].items()]}
    return {"main": main, "copies": copies}
