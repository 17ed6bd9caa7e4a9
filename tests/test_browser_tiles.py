"""The large page's tiled heatmap in a real browser (Debian's Chromium via Playwright, served under a
sub-path): the overview loads only the coarsest tiles, zooming fetches the finer tiles in view, hover at
full zoom names both items as the exporter's data says (hostile captions stay text), and the heatmap and
the scatter link both ways. A synthetic build: 700 pairs in clusters, so the pyramid has three levels
(1, 4, 8) and several tiles a level. Hover latency is measured by benchmarks/tiles.py, not asserted.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from browser_support import ARTIFACTS, HOSTILE, PageWatch, browser, have_browser, serve
from exporters.figures._encoding import unpack_points

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not have_browser(), reason="needs playwright and /usr/bin/chromium")]

N_PAIRS = 700
WORDS = ["dog", "cat", "boat", "tree", "house", "bird", "car"]
FIG = "figure[data-figure=large]"

# pixel position of full-resolution cell (row r, column c) of the heatmap
CELL_XY = """([r, c]) => { const gd = document.querySelector('figure[data-figure=large] .fx-tiles');
  const fl = gd._fullLayout, b = gd.getBoundingClientRect();
  return [b.left + fl.xaxis._offset + fl.xaxis.l2p(c), b.top + fl.yaxis._offset + fl.yaxis.l2p(r)]; }"""
# pixel position of point k of trace t of the scatter
POINT_XY = """([t, k]) => { const gd = document.querySelector('figure[data-figure=large] .fx-large');
  const fl = gd._fullLayout, b = gd.getBoundingClientRect(), tr = gd.data[t];
  return [b.left + fl.xaxis._offset + fl.xaxis.l2p(tr.x[k]), b.top + fl.yaxis._offset + fl.yaxis.l2p(tr.y[k])]; }"""


def write_large(root: Path, n: int = N_PAIRS) -> Path:
    """An image folder of n pairs in 7 clusters (the first captions hostile), embeddings for it and for a
    24-pair folder (the required main section), and a configuration with a large section."""
    from PIL import Image

    rng = np.random.default_rng(7)
    groups = rng.integers(0, len(WORDS), n)
    centres = rng.normal(size=(len(WORDS), 16)) * 2
    shift = np.zeros(16)
    shift[0] = 1.0
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    x = unit(centres[groups] + rng.normal(size=(n, 16)) + shift).astype(np.float32)
    y = unit(centres[groups] + rng.normal(size=(n, 16)) - shift).astype(np.float32)
    captions = [HOSTILE[i] if i < len(HOSTILE) else f"a {WORDS[g]} number {i}" for i, g in enumerate(groups)]
    for name, k in (("big", n), ("small", 24)):
        (root / name / "images").mkdir(parents=True)
        with open(root / name / "captions.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["image", "caption"])
            for i in range(k):
                Image.new("RGB", (24, 24), (37 * i % 256, 91 * i % 256, 255 - groups[i] * 30)).save(root / name / "images" / f"{i:04d}.png")
                w.writerow([f"{i:04d}.png", captions[i]])
        np.savez(root / f"emb_{name}.npz", image=x[:k], text=y[:k])
    cfg = root / "large.toml"
    cfg.write_text("""title = "Large heatmap test"
[options]
projections = ["PCA"]
[datasets.big]
source = "image_folder"
images = "big/images"
captions = "big/captions.csv"
[datasets.small]
source = "image_folder"
images = "small/images"
captions = "small/captions.csv"
[models.M]
source = "arrays"
path = "emb_{dataset}.npz"
label = "Model <b>M</b> & co"
logit_scale = 30
[sections.main]
dataset = "small"
models = ["M"]
[sections.large]
dataset = "big"
models = ["M"]
""", encoding="utf-8")
    return cfg


@pytest.fixture(scope="module")
def large_site(tmp_path_factory):
    from exporters.site import build

    root = tmp_path_factory.mktemp("browser-tiles")
    cfg = write_large(root / "data")
    site = build(cfg, root / "site")
    z = np.load(root / "data" / "emb_big.npz")
    x, y = (a / np.linalg.norm(a, axis=1, keepdims=True) for a in (z["image"].astype(float), z["text"].astype(float)))
    fig = json.loads((site / "data" / "large-default.json").read_text(encoding="utf-8"))
    meta = json.loads((site / fig["heatmap"]["src"]).read_text(encoding="utf-8"))
    # the rows' order is a file of its own (fetched with the items on the first hover): read it here
    meta = {**meta, "order_src": meta["order"], "order": json.loads((site / meta["order"]).read_text(encoding="utf-8"))}
    items = json.loads((site / fig["items"]).read_text(encoding="utf-8"))
    with browser() as b, serve(site) as base:
        yield {"base": base, "browser": b, "site": site, "fig": fig, "meta": meta, "items": items, "emb": (x, y)}


# (url, bytes as fetched) of every resource the page loaded so far, from the page's own resource timing
# (PageWatch's response events may arrive after a wait_for_function has returned)
RESOURCES = "() => performance.getEntriesByType('resource').map(e => [e.name, e.encodedBodySize])"


def _bins(page) -> list[str]:
    return [re.search(r"/tiles/[^/]+/(\d+/\d+-\d+(?:-max)?)\.bin$", u).group(1) for u, _ in page.evaluate(RESOURCES)
            if "/tiles/" in u]


def _level(p) -> str:
    return p.eval_on_selector(f"{FIG} .fx-tiles", "d => d.dataset.level")


def _zoom(p, r, c, half):
    """Zoom the heatmap (as a drag would: a relayout) to rows r +- half, columns c +- half."""
    p.evaluate("""([r, c, h]) => Plotly.relayout(document.querySelector('figure[data-figure=large] .fx-tiles'),
        {'xaxis.range': [c - h, c + h], 'yaxis.range': [r + h, r - h]})""", [r, c, half])


def test_overview_then_tiles_on_zoom(large_site):
    s, meta = large_site, large_site["meta"]
    n = meta["n"]
    assert [lv["p"] for lv in meta["levels"]] == [1, 4, 8]
    page = s["browser"].new_page(viewport={"width": 1400, "height": 1000})
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    w = PageWatch(page)
    page.goto(s["base"] + "large/")
    w.wait_figures()
    assert page.eval_on_selector(FIG, "f => f.dataset.mounted") == "ready"
    # first view: the overview's tiles (their block-mean plane: the max is another file) and nothing finer
    over = meta["levels"][-1]
    assert _level(page) == "8"
    nt = -(-over["size"] // meta["tile"])
    assert sorted(_bins(page)) == sorted(f"8/{i}-{j}" for i in range(nt) for j in range(i, nt))
    first = sum(b for u, b in page.evaluate(RESOURCES) if "/tiles/" in u or u.endswith(s["fig"]["heatmap"]["src"]))
    assert first == s["fig"]["heatmap"]["first_view_bytes"]
    # the items (captions, thumbnail URLs) and the rows' order wait for the reader's pointer: not part of the first view
    assert not any(u.endswith(s["fig"]["items"]) or u.endswith(meta["order_src"]) for u, _ in page.evaluate(RESOURCES))
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(FIG).screenshot(path=str(ARTIFACTS / "tiles-overview.png"))

    # zoom to ~60 x 60 cells: single pairs, only the level-1 tiles in view are fetched
    item = 0                                   # a hostile caption
    pos = meta["order"].index(item)
    row, col = pos, n + pos                    # image `item` x text `item`: its true pair
    _zoom(page, row, col, 30)
    page.wait_for_function(f"() => document.querySelector('{FIG} .fx-tiles').dataset.level === '1'")
    fine = [b for b in _bins(page) if b.startswith("1/")]
    # the tiles of the cells in view (plotly may widen one range to keep the cells square)
    xr, yr = page.evaluate(f"() => {{ const l = document.querySelector('{FIG} .fx-tiles')._fullLayout; "
                           "return [l.xaxis.range, l.yaxis.range]; }")
    cells = [[max(0, math.floor(min(a) + 0.5)), min(2 * n - 1, math.floor(max(a) + 0.5))] for a in (yr, xr)]
    t = meta["tile"]
    want = {f"1/{min(i, j)}-{max(i, j)}" for i in range(cells[0][0] // t, cells[0][1] // t + 1)
            for j in range(cells[1][0] // t, cells[1][1] // t + 1)}
    assert set(fine) == want, (fine, want)
    assert len(fine) == len(set(fine))         # each tile fetched once

    # hover at full zoom: both items, as the exporter's order and items say, and their similarity
    x, y = s["emb"]
    assert not any(u.endswith(s["fig"]["items"]) for u, _ in page.evaluate(RESOURCES))   # still not before a hover
    for dr, dc in ((0, 0), (3, -5), (-7, 11)):
        r, c = row + dr, col + dc
        page.mouse.move(*page.evaluate(CELL_XY, [r, c]))
        page.wait_for_function(f"() => document.querySelector('{FIG}').dataset.cell === '{0},{meta['order'][r]},{1},{meta['order'][c - n]}'")
        heads = page.eval_on_selector_all(f"{FIG} .fx-panel .fx-item", "es => es.map(e => [e.dataset.modality, +e.dataset.index])")
        i, j = meta["order"][r], meta["order"][c - n]
        assert heads == [["image", i], ["text", j]]
        assert page.inner_text(f"{FIG} .fx-panel .fx-caption") == s["items"]["modalities"][1]["items"][j]
        note = page.inner_text(f"{FIG} .fx-panel .fx-note")
        shown = float(re.search(r"Cosine similarity (-?[\d.]+)", note).group(1))
        assert abs(shown - float(x[i] @ y[j])) <= meta["max_abs_error"] + 5e-4   # 3 decimals shown
    assert sum(u.endswith(s["fig"]["items"]) for u, _ in page.evaluate(RESOURCES)) == 1   # fetched on hover, once
    assert sum(u.endswith(meta["order_src"]) for u, _ in page.evaluate(RESOURCES)) == 1
    assert page.eval_on_selector(f"{FIG} .fx-panel .fx-caption", "e => e.children.length") == 0   # text, not HTML
    # the keyboard moves the same cell cursor: one to the right of the last hovered cell
    page.focus(f"{FIG} .fx-tiles")
    page.keyboard.press("ArrowRight")
    r, c = row - 7, col + 12
    page.wait_for_function(f"() => document.querySelector('{FIG}').dataset.cell === '0,{meta['order'][r]},1,{meta['order'][c - n]}'")
    page.locator(FIG).screenshot(path=str(ARTIFACTS / "tiles-zoomed-hover.png"))

    # click a cell: the scatter marks both items where the current view draws them
    r, c = row + 3, col - 5
    i, j = meta["order"][r], meta["order"][c - n]
    # as a reader does: the pointer rests on the cell before the click (plotly takes a click's point from
    # its last hover, which it throttles: a click in the same millisecond as the move hits the old cell)
    xy = page.evaluate(CELL_XY, [r, c])
    page.mouse.move(*xy)
    page.wait_for_function(f"() => document.querySelector('{FIG}').dataset.cell === '0,{i},1,{j}'")
    page.mouse.click(*xy)
    page.wait_for_function(f"() => document.querySelector('{FIG}').dataset.scatterMarked")
    assert page.eval_on_selector(FIG, "f => f.dataset.scatterMarked") == f"0:{i},1:{j}"
    rings = page.evaluate(f"() => document.querySelector('{FIG} .fx-large').layout.shapes"
                          ".filter(s => s.type === 'circle').map(s => [s.xanchor, s.yanchor])")
    vmeta = s["fig"]["models"][0]["views"][s["fig"]["views"][0]]
    view = unpack_points(vmeta, gzip.decompress((s["site"] / vmeta["src"]).read_bytes()))
    assert rings == [[view["x"][i], view["y"][i]], [view["x"][n + j], view["y"][n + j]]]

    # scatter -> heatmap: hovering a point marks its rows, clicking it zooms the heatmap to its pair
    _zoom(page, n, n, n)    # back to the whole matrix
    page.wait_for_function(f"() => document.querySelector('{FIG} .fx-tiles').dataset.level === '8'")
    k = int(np.argmax(view["x"][:n]))   # the rightmost image: clear of the legend at the top left
    page.mouse.move(*page.evaluate(POINT_XY, [1, k]))
    page.wait_for_function(f"() => document.querySelector('{FIG}').dataset.rowsMarked")
    hovered = int(page.eval_on_selector(f"{FIG} .fx-panel .fx-item", "e => e.dataset.index"))
    pk = meta["order"].index(hovered)
    assert page.eval_on_selector(FIG, "f => f.dataset.rowsMarked") == f"{pk},{n + pk}"
    lines = page.evaluate(f"() => document.querySelector('{FIG} .fx-tiles').layout.shapes"
                          ".filter(s => s.line.color === '#ff2d2d').map(s => s.y0)")
    assert lines == [pk, n + pk]
    page.mouse.click(*page.evaluate(POINT_XY, [1, k]))
    page.wait_for_function(f"() => document.querySelector('{FIG}').dataset.centred === '{hovered}'")
    page.wait_for_function(f"() => document.querySelector('{FIG} .fx-tiles').dataset.level === '1'")
    xr, yr = page.evaluate(f"() => {{ const l = document.querySelector('{FIG} .fx-tiles')._fullLayout; "
                           "return [l.xaxis.range, l.yaxis.range]; }")
    assert min(xr) < n + pk < max(xr) and min(yr) < pk < max(yr)
    page.locator(FIG).screenshot(path=str(ARTIFACTS / "tiles-centred.png"))
    assert w.errors == [] and dialogs == [], (w.errors, dialogs)
    page.close()


def test_block_max_shows_what_the_mean_hides(large_site):
    """The colour switch draws the max plane: on the cross-modal diagonal (the true pairs) it is higher."""
    s, meta = large_site, large_site["meta"]
    page = s["browser"].new_page(viewport={"width": 1400, "height": 1000})
    w = PageWatch(page)
    z = {}
    for colour in ("mean", "max"):
        page.goto(s["base"] + f"large/?large-default=colour:{colour}")
        w.wait_figures()
        z[colour] = page.evaluate(f"() => document.querySelector('{FIG} .fx-tiles').data[0].z")
    size = meta["levels"][-1]["size"]
    half = size // 2
    diag = lambda m: np.array([m[k][half + k] for k in range(half)], float)  # noqa: E731
    assert (diag(z["max"]) >= diag(z["mean"]) - 1e-9).all() and diag(z["max"]).mean() > diag(z["mean"]).mean() + 0.05
    # the max view fetches the overview's max plane (a file of its own), nothing finer and no mean plane
    nt = -(-size // meta["tile"])
    assert sorted(_bins(page)) == sorted(f"8/{i}-{j}-max" for i in range(nt) for j in range(i, nt))
    for t in (meta["tiles"], meta["tiles_max"]):
        raw = gzip.decompress((s["site"] / t.format(p=8, i=0, j=0)).read_bytes())
        assert len(raw) == min(256, size) ** 2
    assert w.errors == []
    page.close()


def test_coarse_cell_panel_fetches_its_block_max(large_site):
    """Hovering a coarse cell while the mean plane is drawn: the panel waits for the cell's max-plane file (fetched
    then, once), and states the block's mean and maximum as the embeddings give them."""
    s, meta = large_site, large_site["meta"]
    n, (x, y) = meta["n"], s["emb"]
    page = s["browser"].new_page(viewport={"width": 1400, "height": 1000})
    w = PageWatch(page)
    page.goto(s["base"] + "large/")
    w.wait_figures()
    assert _level(page) == "8" and not [b for b in _bins(page) if b.endswith("-max")]
    r, c = 300, n + 420                        # an image row against a text column (the overview is one tile here)
    page.locator(f"{FIG} .fx-tiles").scroll_into_view_if_needed()
    page.mouse.move(*page.evaluate(CELL_XY, [r, c]))
    page.wait_for_function(f"() => /Block mean/.test(document.querySelector('{FIG} .fx-panel').innerText)")
    text = page.inner_text(f"{FIG} .fx-panel")
    got = re.search(r"rows (\d+)–(\d+) × \S+ columns (\d+)–(\d+) of the ordered matrix\. "
                    r"Block mean (-?\d+\.\d+), block maximum (-?\d+\.\d+)", text)
    assert got, text
    r0, r1, c0, c1 = (int(v) for v in got.groups()[:4])
    assert (r0 - 1, r1, c0 - 1, c1) == (296, 304, 416, 424)   # the hovered cell's 8 x 8 block (1-based in the panel)
    o = np.asarray(meta["order"])
    block = x[o][r0 - 1:r1] @ y[o][c0 - 1:c1].T
    tol = meta["max_abs_error"] + 5e-4   # the stored step, and 3 decimals shown
    assert abs(float(got.group(5)) - block.mean()) <= tol and abs(float(got.group(6)) - block.max()) <= tol
    maxes = [b for b in _bins(page) if b.endswith("-max")]
    assert maxes == ["8/0-0-max"], maxes       # that cell's tile, its max plane only, once
    assert w.errors == []
    page.close()
