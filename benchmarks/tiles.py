"""The large page's tiled heatmap (issue 11, target 1): bytes of its first view and of the whole tile
pyramid, tiles fetched by one zoom to single pairs, and how fast a hover answers, measured in headless
Chromium over localhost on a built site.

    python benchmarks/tiles.py [--site site] [--out F.json]

- bytes: the first heatmap view is the heatmap's metadata and the overview's tiles (what the page
  fetches before any zoom, counted from the browser's responses and checked against the exporter's
  own count); the baseline is the full matrix at one byte per cell of its upper triangle, the least
  any one-file encoding at this precision ships before gzip;
- hover: a script moves the pointer over 40 cells (synthetic mousemove on the plot, 120 ms apart, past
  plotly's 50 ms hover throttle) and times the handler (until the panel names the cell) and the next
  animation frame, at single pairs and at the overview; the baseline is the 100-pair explorer's
  heatmap hover (index page) timed the same way in the same run. Target: <= 50 ms (not asserted in
  tests: timings depend on the machine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

TARGET_FIRST_VIEW = 300_000     # bytes
TARGET_HOVER_MS = 50.0
FIG = "figure[data-figure=large]"
# (url, bytes as fetched) of every resource the page loaded, from its resource timing (complete when read)
RESOURCES = "() => performance.getEntriesByType('resource').map(e => [e.name, e.encodedBodySize])"

# time synthetic hovers over cells [[row, col], ...] of the heatmap `sel` (full-resolution coordinates)
HOVER = """async ([sel, cells, pause]) => {
  const gd = document.querySelector(sel), fig = gd.closest('figure'), panel = fig.querySelector('.fx-panel');
  gd.scrollIntoView({block: 'center'});
  await new Promise(res => setTimeout(res, 300));
  const out = [];
  for (const [r, c] of cells) {
    const fl = gd._fullLayout, b = gd.getBoundingClientRect();
    const x = b.left + fl.xaxis._offset + fl.xaxis.l2p(c), y = b.top + fl.yaxis._offset + fl.yaxis.l2p(r);
    const el = document.elementFromPoint(x, y);
    await new Promise(res => setTimeout(res, pause));
    let changed = null;
    const mo = new MutationObserver(() => { if (changed === null) changed = performance.now(); });
    mo.observe(panel, {childList: true, subtree: true, characterData: true});
    const t0 = performance.now();
    el.dispatchEvent(new MouseEvent('mousemove', {clientX: x, clientY: y, bubbles: true, cancelable: true, view: window}));
    await Promise.resolve();
    await new Promise(res => requestAnimationFrame(() => res()));
    const t2 = performance.now();
    mo.disconnect();
    out.push({panel: changed === null ? null : changed - t0, frame: t2 - t0});
  }
  return out;
}"""


def _stats(rows: list[dict]) -> dict:
    answered = [r["panel"] for r in rows if r["panel"] is not None]
    frames = sorted(r["frame"] for r in rows)
    ans = sorted(answered)
    pick = lambda v, q: round(v[min(len(v) - 1, int(q * len(v)))], 2) if v else None  # noqa: E731
    return {"hovers": len(rows), "answered": len(answered),
            "panel_ms": {"median": round(statistics.median(ans), 2) if ans else None, "p95": pick(ans, 0.95),
                         "max": round(max(ans), 2) if ans else None},
            "frame_ms": {"median": round(statistics.median(frames), 2), "p95": pick(frames, 0.95),
                         "max": round(max(frames), 2)}}


def _large_figure(site: Path) -> dict:
    manifest = json.loads((site / "data" / "manifest.json").read_text(encoding="utf-8"))
    srcs = [f["src"] for f in manifest["figures"] if f["figure"] == "large"]
    if not srcs:
        raise SystemExit(f"{site}: no large figure in this build (its configuration has no [sections.large])")
    fig = json.loads((site / srcs[0]).read_text(encoding="utf-8"))
    if "heatmap" not in fig:
        raise SystemExit(f"{site}: the large figure has no heatmap (a build before the tiled heatmap); rebuild it")
    return fig


def measure(site: Path | None = None, cells: int = 40) -> dict:
    """Issue 11's heatmap figures for a built site (default: the published site/)."""
    from browser_support import PageWatch, browser, serve

    site = Path(site or ROOT / "site").resolve()
    if not (site / "index.html").is_file():
        raise SystemExit(f"{site}: no index.html; build the site first (make site)")
    fig = _large_figure(site)
    hm = fig["heatmap"]
    meta = json.loads((site / hm["src"]).read_text(encoding="utf-8"))
    n, N = meta["n"], 2 * meta["n"]
    pyramid_files = sorted((site / meta["tiles"].split("{p}")[0]).rglob("*.bin"))
    pyramid = sum(f.stat().st_size for f in pyramid_files)
    naive = N * (N + 1) // 2
    res: dict = {"site": str(site), "model": hm["model"], "pairs": n, "cells": N * N, "levels": hm["levels"],
                 "max_abs_error": hm["max_abs_error"]}
    with serve(site) as base, browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        w = PageWatch(page)
        page.goto(base + "large/")
        w.wait_figures()
        first = [(u, k) for u, k in page.evaluate(RESOURCES) if u.endswith(".bin") or u.endswith(hm["src"])]
        first_bytes = sum(k for _, k in first)
        res["first_view"] = {"bytes": first_bytes, "requests": len(first), "exporter_count": hm["first_view_bytes"],
                             "items_json_bytes": (site / fig["items"]).stat().st_size}
        # one zoom to single pairs around a true pair: what it fetches
        k0 = len(page.evaluate(RESOURCES))
        page.evaluate(f"() => document.querySelector('{FIG}').fx.centre({n // 3})")
        page.wait_for_function(f"() => document.querySelector('{FIG} .fx-tiles').dataset.level === '1' && "
                               f"document.querySelector('{FIG} .fx-tiles').getAttribute('aria-busy') === 'false'")
        zoom = [(u, k) for u, k in page.evaluate(RESOURCES)[k0:] if u.endswith(".bin")]
        res["zoom_to_pairs"] = {"tiles": len(zoom), "bytes": sum(k for _, k in zoom)}
        # hover at full zoom: cells around the centred pair
        xr, yr = page.evaluate(f"() => {{ const l = document.querySelector('{FIG} .fx-tiles')._fullLayout; "
                               "return [l.xaxis.range, l.yaxis.range]; }")
        lo_r, hi_r = int(min(yr)) + 2, int(max(yr)) - 2
        lo_c, hi_c = int(min(xr)) + 2, int(max(xr)) - 2
        grid = [[lo_r + (k * 7) % (hi_r - lo_r), lo_c + (k * 13) % (hi_c - lo_c)] for k in range(cells)]
        sel = f"{FIG} .fx-tiles"
        # the items arrive when the pointer first enters the figure: not part of the hover timed below
        page.hover(sel)
        page.wait_for_function(f"() => document.querySelector('{FIG}').dataset.items === 'loaded'")
        res["hover_pairs"] = _stats(page.evaluate(HOVER, [sel, grid, 120]))
        # hover at the overview (double-click's whole matrix)
        page.evaluate(f"() => Plotly.relayout(document.querySelector('{sel}'), "
                      "{'xaxis.autorange': true, 'yaxis.autorange': true})")
        page.wait_for_function(f"() => document.querySelector('{sel}').dataset.level === '{hm['overview']}'")
        grid = [[(k * 997) % N, (k * 1999 + 500) % N] for k in range(cells)]
        res["hover_overview"] = _stats(page.evaluate(HOVER, [sel, grid, 120]))
        res["errors"] = w.errors[:5]
        page.close()
        # baseline: the 100-pair explorer's heatmap on the first page, timed the same way
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        w = PageWatch(page)
        page.goto(base)
        w.wait_figures()
        hsel = "figure[data-figure=explorer] .fx-heat"
        size = page.evaluate(f"() => document.querySelector('{hsel}').data[0].z.length")
        grid = [[(k * 7) % size, (k * 13 + 3) % size] for k in range(cells)]
        res["baseline_explorer_hover"] = {"cells_a_side": size, **_stats(page.evaluate(HOVER, [hsel, grid, 120]))}
        page.close()
    hp, ho, bl = res["hover_pairs"], res["hover_overview"], res["baseline_explorer_hover"]
    res["pyramid"] = {"bytes": pyramid, "tiles": len(pyramid_files), "exporter_count": hm["pyramid_bytes"]}
    res["baseline"] = {"full_matrix_upper_uint8_bytes": naive}
    res["ratios"] = {"first_view_over_target": round(first_bytes / TARGET_FIRST_VIEW, 3),
                     "first_view_over_full_matrix": round(first_bytes / naive, 5),
                     "pyramid_over_full_matrix": round(pyramid / naive, 3),
                     "hover_frame_median_over_target": round(hp["frame_ms"]["median"] / TARGET_HOVER_MS, 3),
                     "hover_frame_median_over_explorer": round(hp["frame_ms"]["median"] / bl["frame_ms"]["median"], 3)}
    res["figures"] = [
        {"figure": f"first heatmap view of the {n}-pair heatmap", "value": first_bytes, "unit": "B",
         "target": f"<= {TARGET_FIRST_VIEW}", "meets": first_bytes <= TARGET_FIRST_VIEW,
         "baseline": {"full matrix, uint8 upper triangle, B": naive}, "ratio": res["ratios"]["first_view_over_full_matrix"]},
        {"figure": "tile pyramid on disk (every level, gzipped tiles)", "value": pyramid, "unit": "B", "target": "reported",
         "baseline": {"full matrix, uint8 upper triangle, B": naive}, "ratio": res["ratios"]["pyramid_over_full_matrix"]},
        {"figure": "hover at single pairs, to the next frame (median)", "value": hp["frame_ms"]["median"], "unit": "ms",
         "target": f"<= {TARGET_HOVER_MS:g}", "meets": hp["frame_ms"]["median"] <= TARGET_HOVER_MS,
         "p95": hp["frame_ms"]["p95"], "panel_median_ms": hp["panel_ms"]["median"],
         "baseline": {"100-pair explorer hover, ms": bl["frame_ms"]["median"]},
         "ratio": res["ratios"]["hover_frame_median_over_explorer"]},
        {"figure": "hover at the overview, to the next frame (median)", "value": ho["frame_ms"]["median"], "unit": "ms",
         "target": f"<= {TARGET_HOVER_MS:g}", "meets": ho["frame_ms"]["median"] <= TARGET_HOVER_MS,
         "p95": ho["frame_ms"]["p95"], "baseline": {"100-pair explorer hover, ms": bl["frame_ms"]["median"]},
         "ratio": round(ho["frame_ms"]["median"] / bl["frame_ms"]["median"], 3)},
    ]
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", type=Path, default=ROOT / "site", help="a built site (default: %(default)s)")
    ap.add_argument("--out", type=Path, help="also write the result to this JSON file")
    args = ap.parse_args(argv)
    res = measure(args.site)
    text = json.dumps(res, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
