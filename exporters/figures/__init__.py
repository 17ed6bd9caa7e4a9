"""Figure exporters: one module per figure, found here by name; the module's name is the figure's id.

A figure `<id>` is three files (plus its test):
- `exporters/figures/<id>.py`: `build(ctx, section=..., **options) -> dict | None`, the JSON-able
  data of the figure (`None` when the configuration has no such section: the page then shows a note);
  `describe(data, opts) -> dict`, the figure's label, caption and text-alternative tables, worded in
  Python from the data (templates/figure.html.j2 renders them); optionally `facts(data) -> dict`, the
  numbers and booleans a page's prose states or branches on (pages call `facts("<id>", section)`);
- `article/views/<id>.js`: the browser view that draws the data (registered as `F.views["<id>"]`);
- its place in a page (`article/pages/*.md.j2`: `{{ figure("<id>", "<section>") }}`).
A module may name its own Jinja template (`TEMPLATE`, templates/<TEMPLATE>.html.j2) instead of
`describe`. Modules whose name starts with "_" hold shared code and are not figures.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from exporters.figures._context import FigureContext


def _discover() -> dict[str, ModuleType]:
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if getattr(mod, "ID", info.name) != info.name:
            raise RuntimeError(f"{mod.__file__}: ID {mod.ID!r} is not the module's name {info.name!r}")
        if not callable(getattr(mod, "build", None)):
            raise RuntimeError(f"{mod.__file__}: a figure module needs build(ctx, section=...)")
        if not (hasattr(mod, "TEMPLATE") or callable(getattr(mod, "describe", None))):
            raise RuntimeError(f"{mod.__file__}: a figure module needs describe(data, opts) or TEMPLATE")
        found[info.name] = mod
    return found


FIGURES: dict[str, ModuleType] = _discover()
REGISTRY = list(FIGURES.values())

__all__ = ["FIGURES", "REGISTRY", "FigureContext"]
