"""The built article in a real browser (Debian's Chromium via Playwright), served under a sub-path.

Synthetic build (always): every page loads without console errors, figures draw the expected number
of cells and points, hovering a known cell shows its captions, the gap toggle / model switch /
projection switch change what is drawn, linked views, URL state, hostile captions stay text.
Reference build (real models, when ../shared is present): every page loads, counts, a known caption.
Screenshots go to tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from browser_support import (PAGES, ARTIFACTS, HOSTILE, REFERENCE_CONFIG, REFERENCE_DATA, PageWatch, axe_violations, browser,
                             have_browser, serve, synthetic_site)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not have_browser(), reason="needs playwright and /usr/bin/chromium")]


CELL_XY = """([sel, r, c]) => { const gd = document.querySelector(sel); gd.scrollIntoView({block: "center"});
  const fl = gd._fullLayout;
  const b = gd.getBoundingClientRect();
  return [b.left + fl.xaxis._offset + fl.xaxis.l2p(c), b.top + fl.yaxis._offset + fl.yaxis.l2p(r)]; }"""
POINT_XY = """([sel, trace, k]) => { const gd = document.querySelector(sel); gd.scrollIntoView({block: "center"});
  const fl = gd._fullLayout;
  const b = gd.getBoundingClientRect(); const t = gd.data[trace];
  return [b.left + fl.xaxis._offset + fl.xaxis.l2p(t.x[k]), b.top + fl.yaxis._offset + fl.yaxis.l2p(t.y[k])]; }"""


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory, chromium):
    cfg, site = synthetic_site(tmp_path_factory.mktemp("browser-synthetic"))
    with serve(site) as base:
        yield base, chromium


def _open(b, url, viewport=(1280, 900)):
    page = b.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    w = PageWatch(page)
    w.dialogs = dialogs
    page.goto(url)
    w.wait_figures()
    return w


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_every_page_loads_without_errors(synthetic):
    base, b = synthetic
    for pg in PAGES:
        w = _open(b, base + pg)
        states = w.page.eval_on_selector_all("figure[data-figure]", "fs => fs.map(f => f.dataset.mounted)")
        assert all(s == "ready" for s in states), (pg, states)
        assert w.errors == [], (pg, w.errors)
        assert w.dialogs == [], (pg, w.dialogs)
        _shot(w.page, "synthetic-" + (pg.strip("/") or "index"))
        w.page.close()


def test_explorer_counts_hover_and_switches(synthetic):
    base, b = synthetic
    w = _open(b, base + "explorer/")
    p = w.page
    fig = "#explorer-main"
    z = p.evaluate(f"() => document.querySelector('{fig} .fx-heat').data[0].z.map(r => r.length)")
    assert len(z) == 48 and set(z) == {48}                      # 2 modalities x 24 pairs
    npts = p.evaluate(f"() => document.querySelector('{fig} .fx-scatter').data.slice(1, 3).map(t => t.x.length)")
    assert npts == [24, 24]
    # hover the cell (row = image 3, column = text 0): the panel shows caption 0 literally
    x, y = p.evaluate(CELL_XY, [f"{fig} .fx-heat", 3, 24 + 0])
    p.mouse.move(x, y)
    p.wait_for_function(f"() => document.querySelector('{fig} .fx-panel').textContent.includes('Column')")
    panel = p.inner_text(f"{fig} .fx-panel")
    assert HOSTILE[0] in panel and "Image #3" in panel
    assert p.evaluate(f"() => document.querySelector('{fig} .fx-panel .fx-caption').textContent") == HOSTILE[0]
    # heatmap hover -> the pair is highlighted in the scatter plot
    hl = p.evaluate(f"() => document.querySelector('{fig} .fx-scatter').data[3].x.filter(v => v !== null).length")
    assert hl == 4                                              # image 3, text 3, image 0, text 0
    _shot(p, "synthetic-explorer-hover")
    # scatter hover -> rows and columns marked in the heatmap
    p.mouse.move(5, 5)
    x, y = p.evaluate(POINT_XY, [f"{fig} .fx-scatter", 1, 5])
    p.mouse.move(x, y)
    p.wait_for_function(f"() => document.querySelector('{fig} .fx-heat').layout.shapes.length > 2")
    assert p.evaluate(f"() => document.querySelector('{fig} .fx-heat').layout.shapes.filter(s => s.type === 'rect').length") >= 4
    # gap toggle changes the matrix and the URL
    z0 = p.evaluate(f"() => document.querySelector('{fig} .fx-heat').data[0].z[0][30]")
    p.get_by_label("Close the modality gap").first.check()
    p.wait_for_function(f"() => document.querySelector('{fig}').dataset.state.split('|')[2] === '1'")
    z1 = p.evaluate(f"() => document.querySelector('{fig} .fx-heat').data[0].z[0][30]")
    assert z1 != z0
    assert "gap%3A1" in p.url or "gap:1" in p.url
    # projection switch changes the points
    x0 = p.evaluate(f"() => document.querySelector('{fig} .fx-scatter').data[1].x.slice(0, 5)")
    p.select_option(f"{fig} .fx-controls select >> nth=1", "TSNE")
    p.wait_for_function(f"() => document.querySelector('{fig}').dataset.state.split('|')[1] === 'TSNE'")
    assert p.evaluate(f"() => document.querySelector('{fig} .fx-scatter').data[1].x.slice(0, 5)") != x0
    # model switch changes the matrix
    p.select_option(f"{fig} .fx-controls select >> nth=0", "ModelB")
    p.wait_for_function(f"() => document.querySelector('{fig}').dataset.state.startsWith('ModelB')")
    assert p.evaluate(f"() => document.querySelector('{fig} .fx-heat').data[0].z[0][30]") != z1
    assert "Model B" in p.inner_text(f"{fig} .fx-meta")
    # caption filter keeps the pairs whose caption contains "dog"
    p.fill(f"{fig} input[type=search]", "dog")
    p.wait_for_function(f"() => document.querySelector('{fig}').dataset.state.split('|')[4] !== '24'")
    k = int(p.evaluate(f"() => document.querySelector('{fig}').dataset.state.split('|')[4]"))
    assert 3 <= k < 24
    assert p.evaluate(f"() => document.querySelector('{fig} .fx-heat').data[0].z.length") == 2 * k
    # clustering reorders and labels (labels come from captions: escaped, drawn as text)
    p.get_by_label("Cluster matrix by similarity").first.check()
    p.wait_for_function(f"() => document.querySelector('{fig}').dataset.state.split('|')[3] === '1'")
    _shot(p, "synthetic-explorer-switched")
    assert w.errors == [] and w.dialogs == []
    # the state is in the URL: a fresh page opens the same view
    url = p.url
    w2 = _open(b, url)
    assert w2.page.evaluate(f"() => document.querySelector('{fig}').dataset.state").startswith("ModelB|TSNE|1|1|")
    assert w2.errors == []
    w2.page.close()
    p.close()


def test_hostile_text_is_literal(synthetic):
    base, b = synthetic
    w0 = _open(b, base)
    assert "<script>alert('title')</script>" in w0.page.inner_text("h1")   # the title, as text
    w0.page.close()
    w = _open(b, base + "explorer/")
    p = w.page
    p.click("#explorer-main details.fig-alt summary")
    assert p.evaluate("() => document.querySelectorAll('img[src=\"x\"], img[src$=\"/x\"]').length") == 0
    # every hostile caption shows literally in the hover panel
    for i, cap in enumerate(HOSTILE):
        x, y = p.evaluate(CELL_XY, ["#explorer-main .fx-heat", i, 24 + i])
        p.mouse.move(x, y)
        p.wait_for_function("(i) => document.querySelector('#explorer-main .fx-panel .fx-item[data-modality=text]')"
                            "?.dataset.index === String(i)", arg=i)
        assert p.inner_text("#explorer-main .fx-panel .fx-caption") == cap
    _shot(p, "synthetic-hostile")
    assert w.dialogs == [] and w.errors == []
    p.close()


def test_other_figures(synthetic):
    base, b = synthetic
    w = _open(b, base + "modalities/")
    p = w.page
    assert p.evaluate("() => document.querySelector('#explorer-triplet .fx-heat').data[0].z.length") == 36
    x, y = p.evaluate(CELL_XY, ["#explorer-triplet .fx-heat", 0, 24 + 2])
    p.mouse.move(x, y)
    p.wait_for_selector("#explorer-triplet .fx-panel audio")
    assert p.get_attribute("#explorer-triplet .fx-panel audio", "preload") == "none"
    x, y = p.evaluate(CELL_XY, ["#explorer-molecules .fx-heat", 0, 10 + 1])
    p.mouse.move(x, y)
    p.wait_for_selector("#explorer-molecules .fx-panel .fx-smiles")
    assert p.inner_text("#explorer-molecules .fx-panel .fx-smiles") == "c1ccccc1"
    # the molecule is drawn as a structure (an RDKit SVG file of the site), and the image loads
    img = "#explorer-molecules .fx-panel img[alt='structure of c1ccccc1']"
    p.wait_for_function(f"() => {{ const i = document.querySelector(\"{img}\"); return i && i.complete && i.naturalWidth > 0; }}")
    assert p.get_attribute(img, "src").endswith(".svg")
    p.close()
    w = _open(b, base + "augmentations/")
    p = w.page
    assert p.evaluate("() => document.querySelectorAll('#augmentations-default .fx-heat-small').length") == 2
    first = p.evaluate("() => document.querySelector('#augmentations-default .fx-heat-small').data[0].z[0][5]")
    p.select_option("#augmentations-default select", "noise")
    p.wait_for_function("() => document.querySelector('#augmentations-default').dataset.state.startsWith('noise')")
    assert p.evaluate("() => document.querySelector('#augmentations-default .fx-heat-small').data[0].z[0][5]") != first
    assert w.errors == []
    p.close()
    w = _open(b, base + "gap/")
    p = w.page
    assert p.evaluate("() => document.querySelector('#landscape-main .fx-landscape').data.length") == 4
    assert p.evaluate("() => document.querySelectorAll('#comparison-main .fx-card').length") == 2
    assert p.evaluate("() => document.querySelector('#inmodal-main .fx-heat-small').data[0].zmid") == 0
    assert w.errors == []
    p.close()


def test_phone_viewport(synthetic):
    base, b = synthetic
    w = _open(b, base, viewport=(390, 844))
    p = w.page
    widths = p.evaluate("() => [...document.querySelectorAll('.fx-heat, .fx-scatter')].map(e => e.getBoundingClientRect().width)")
    assert widths and max(widths) <= 390
    assert p.evaluate("() => document.documentElement.scrollWidth") <= 400
    _shot(p, "synthetic-phone")
    assert w.errors == []
    p.close()


@pytest.mark.reference
@pytest.mark.skipif(not REFERENCE_DATA.exists(), reason="../shared/reference/amumo-article is absent")
def test_reference_site(tmp_path_factory, chromium):
    from exporters.site import build

    site = build(REFERENCE_CONFIG, tmp_path_factory.mktemp("ref") / "site")
    captions = (REFERENCE_DATA / "MSCOCO-Val_size-100" / "prompts.txt").read_text(encoding="utf-8").split("\n")
    sizes = {}
    b = chromium
    with serve(site) as base:
        # first view: the first page without scrolling (figures mount only when visible)
        page = b.new_page(viewport={"width": 1280, "height": 900})
        w = PageWatch(page)
        page.goto(base)
        page.wait_for_load_state("networkidle")
        sizes["first_view"] = {"bytes": sum(s for _, s in w.responses), "requests": len(w.responses)}
        page.close()
        total, requests, seen = 0, 0, set()
        for pg in PAGES:
            w = _open(b, base + pg)
            assert w.errors == [], (pg, w.errors)
            assert all(s == "ready" for s in w.page.eval_on_selector_all(
                "figure[data-figure]", "fs => fs.map(f => f.dataset.mounted)")), pg
            for u, s in w.responses:
                if u not in seen:
                    seen.add(u)
                    total += s
                    requests += 1
            if pg == "":
                p = w.page
                assert p.evaluate("() => document.querySelector('#explorer-main .fx-heat').data[0].z.length") == 200
                x, y = p.evaluate(CELL_XY, ["#explorer-main .fx-heat", 7, 100 + 7])
                p.mouse.move(x, y)
                p.wait_for_function("() => document.querySelector('#explorer-main .fx-panel .fx-caption')")
                assert p.inner_text("#explorer-main .fx-panel .fx-caption") == captions[7]
                _shot(p, "reference-index-hover")
            _shot(w.page, "reference-" + (pg.strip("/") or "index"))
            w.page.close()
        sizes["whole_article"] = {"bytes": total, "requests": requests,
                                  "note": "every page scrolled so every figure mounts, unique URLs, default states"}
    sizes["site_on_disk"] = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "bytes-reference.json").write_text(json.dumps(sizes, indent=1))
    assert sizes["first_view"]["bytes"] < 35_500_000 / 4
    shutil.rmtree(site, ignore_errors=True)


DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "default.toml"


def test_default_site(tmp_path_factory, chromium):
    """The README's build: real models first (the repository's copy of the seed's data), then our shapes world."""
    from exporters.site import build

    site = build(DEFAULT_CONFIG, tmp_path_factory.mktemp("default") / "site")
    # no page of the default build is a placeholder
    for html in sorted(site.rglob("*.html")):
        text = html.read_text(encoding="utf-8")
        assert "Not in this build" not in text and "fig-absent" not in text, html.relative_to(site)
    # the build records the origin and checksum of every model's weights
    from exporters.cache import file_digest
    prov = json.loads((site / "data" / "provenance.json").read_text())["embeddings"]
    clip = [r for r in prov if r["model"] == "clip" and r["dataset"] == "shapes100"][0]
    assert clip["weights"] == "sha256:" + file_digest(DEFAULT_CONFIG.parent.parent / "models" / "clip.safetensors")
    assert clip["checkpoint"] == "clip.safetensors" and clip["pairs"] == 100
    real = [r for r in prov if r["model"] == "CLIP" and r["dataset"] == "coco100"][0]
    assert real["path"] == "similarities.npz" and real["pairs"] == 100
    coco = (DEFAULT_CONFIG.parent.parent / "data" / "seed-article" / "MSCOCO-Val_size-100" / "prompts.txt")
    captions = coco.read_text(encoding="utf-8").split("\n")
    b = chromium
    with serve(site) as base:
        for pg in PAGES:
            w = _open(b, base + pg)
            assert w.errors == [] and w.dialogs == [], (pg, w.errors)
            states = w.page.eval_on_selector_all("figure[data-figure]", "fs => fs.map(f => f.dataset.mounted)")
            assert all(s == "ready" for s in states), (pg, states)
            # every page has its figures; data/ is the method page, prose only
            assert (pg == "data/") == (not states), (pg, states)
            assert axe_violations(w.page) == [], pg                     # axe-core, every figure mounted
            p = w.page
            if pg == "":
                # the first figure is real CLIP on the 100 COCO pairs, modality distance 0.8135
                sub = p.inner_text("#explorer-main")
                assert "CLIP (RN50)" in sub and "modality distance 0.814" in sub, sub[:300]
                assert p.evaluate("() => document.querySelector('#explorer-main .fx-heat').data[0].z.length") == 200
                assert p.evaluate("() => document.querySelector('#explorer-main .fx-scatter').data.slice(1, 3)"
                                  ".map(t => t.x.length)") == [100, 100]
                x, y = p.evaluate(CELL_XY, ["#explorer-main .fx-heat", 4, 100 + 4])
                p.mouse.move(x, y)
                p.wait_for_function("() => document.querySelector('#explorer-main .fx-panel .fx-caption')")
                # cells are ~2 px wide, so the pointer may land on a neighbour: read which item the
                # panel names, check it is (next to) the aimed one and that its caption is that item's
                import re
                panel = p.inner_text("#explorer-main .fx-panel")
                col = int(re.search(r"Column: Text #(\d+)", panel).group(1))
                assert abs(col - 4) <= 1
                assert p.inner_text("#explorer-main .fx-panel .fx-caption") == captions[col]
                _shot(p, "default-index-hover")
            if pg == "modalities/":
                # three modalities (ImageBind on AudioSet triplets) and molecules (CLOOME) are in the default build
                assert p.evaluate("() => document.querySelector('#explorer-triplet .fx-heat').data[0].z.length") == 300
                assert p.evaluate("() => document.querySelector('#explorer-molecules .fx-heat').data[0].z.length") == 200
            if pg == "world/":
                assert p.evaluate("() => document.querySelector('#explorer-world .fx-heat').data[0].z.length") == 200
            if pg == "cost/":
                # zero-shot accuracy on the shapes world's two class tasks, in the menu and in the prose
                from exporters.figures import gapcost
                import re
                opts = p.evaluate("() => [...document.querySelectorAll('#gapcost-world select option')].map(o => o.value)")
                assert opts[-2:] == ["zs:shape", "zs:colour"], opts
                zs = gapcost.facts(json.loads((site / "data" / "gapcost-world.json").read_text()))["zero_shot"]
                text = re.sub(r"\s+", " ", p.inner_text("article"))
                for z in zs:
                    assert f"({z['n_classes']} classes, floor {z['majority']:.2f})" in text, z
            if pg == "large/":
                sel = "figure[data-figure=large] .fx-large"
                counts = p.evaluate(f"() => document.querySelector('{sel}').data.slice(1).map(t => t.x.length)")
                assert counts == [5000, 5000]
                p.select_option("figure[data-figure=large] .fx-controls select >> nth=1", "concat")
                p.wait_for_function("() => document.querySelector('figure[data-figure=large]').dataset.state"
                                    ".endsWith('|concat')")
                assert p.evaluate(f"() => document.querySelector('{sel}').data.map(t => t.x.length)") == [5000]
            _shot(p, "default-" + (pg.strip("/") or "index"))
            p.close()
    shutil.rmtree(site, ignore_errors=True)
