"""Issue 11 in a real browser: plotly.js loaded once across pages (instant navigation), only the
trace types the vendored partial bundle has, and similarity values read from the .bin files within
the bound the exporter states.

The site is built with its site_url set to the address it is served from (as the Pages workflow
does): mkdocs-material's instant navigation only follows the links its sitemap.xml lists.
"""

from __future__ import annotations

import json
import re
import socket

import numpy as np
import pytest

from browser_support import PageWatch, SUBPATH, browser, have_browser, serve, write_synthetic

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not have_browser(), reason="needs playwright and /usr/bin/chromium")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from exporters.site import build

    root = tmp_path_factory.mktemp("instant")
    cfg = write_synthetic(root / "data")
    port = _free_port()
    base = f"http://127.0.0.1:{port}{SUBPATH}"
    mp = pytest.MonkeyPatch()
    mp.setenv("ARTICLE_SITE_URL", base)
    try:
        site = build(cfg, root / "site")
    finally:
        mp.undo()
    with serve(site, port) as url, browser() as b:
        assert url == base
        yield cfg, site, base, b


def _nav_click(page, title: str) -> None:
    page.locator(".md-sidebar--primary a.md-nav__link", has_text=title).first.click()


def test_navigation_keeps_plotly_loaded_and_mounts_the_next_pages_figures(served):
    _, site, base, b = served
    assert "<loc>" in (site / "sitemap.xml").read_text()     # what instant navigation follows
    page = b.new_page(viewport={"width": 1280, "height": 900})
    requests: list[tuple[str, str]] = []
    page.on("request", lambda r: requests.append((r.url, r.resource_type)))
    w = PageWatch(page)
    page.goto(base)
    w.wait_figures()
    assert page.evaluate("() => document.querySelectorAll('figure[data-figure]').length") > 0
    page.evaluate("() => { window.__sameDocument = true; }")
    for title, path in (("The explorer", "explorer/"), ("Closing the gap", "gap/")):
        _nav_click(page, title)
        page.wait_for_function(f"() => location.pathname.endsWith('{SUBPATH}{path}')")
        page.wait_for_function(f"() => document.querySelector('.md-content h1') && "
                               f"document.querySelectorAll('figure[data-figure]').length > 0")
        w.wait_figures()
        assert page.evaluate("() => window.__sameDocument === true"), f"{path}: a full page load"
        states = page.evaluate("() => [...document.querySelectorAll('figure[data-figure]')].map(f => f.dataset.mounted)")
        assert states and set(states) == {"ready"}, (path, states)
        # the page itself came by XHR, not as a new document
        assert [t for u, t in requests if u == base + path] == ["xhr"], path
    bundles = [u for u, _ in requests if re.search(r"/assets/plotly[^/]*\.js$", u)]
    assert len(bundles) == 1 and re.search(r"/assets/plotly-[0-9a-f]{8}\.min\.js$", bundles[0]), bundles
    assert [u for u, t in requests if t == "document"] == [base]
    assert w.errors == []
    page.close()


def test_pages_draw_only_trace_types_of_the_bundle(served):
    _, _, base, b = served
    from exporters.resources import resource_path

    record = json.loads(resource_path("article", "vendor", "plotly", "VENDOR.json").read_text())
    page = b.new_page(viewport={"width": 1280, "height": 900})
    w = PageWatch(page)
    drawn: set[str] = set()
    for path in ("", "gap/", "explorer/", "modalities/", "augmentations/", "world/", "large/", "data/"):
        page.goto(base + path)
        w.wait_figures()
        registered = page.evaluate("() => window.Plotly ? Object.keys(Plotly.PlotSchema.get().traces) : null")
        drawn |= set(page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')]"
                                   ".flatMap(gd => gd.data.map(t => t.type || 'scatter'))"))
        if registered is not None:    # what VENDOR.json says the bundle holds, and nothing else
            assert set(registered) == set(record["traces"]), registered
    # plotly draws an unregistered type as nothing: every trace drawn must be one the bundle has
    assert {"heatmap", "scatter"} <= drawn <= set(record["traces"]), drawn
    assert w.errors == []
    page.close()


def test_hovered_similarity_is_the_exporters_within_the_stated_bound(served):
    from exporters.analysis.similarity import similarity_matrix
    from exporters.config import load_config
    from exporters.figures._encoding import dequantize
    from exporters.world import World

    cfg, site, base, b = served
    meta = json.loads((site / "data" / "main" / "ModelA-open.json").read_text())["sim"]
    assert meta["encoding"] == "u8-upper" and meta["src"].endswith(".bin") and "b64" not in meta
    world = World(load_config(cfg))
    ds, emb = world.dataset("main"), world.embeddings("ModelA", "main")
    exact = similarity_matrix([emb.blocks[k] for k in ds.names])
    decoded = dequantize(meta, site)
    page = b.new_page(viewport={"width": 1280, "height": 900})
    requests: list[tuple[str, str]] = []
    page.on("request", lambda r: requests.append((r.url, r.resource_type)))
    w = PageWatch(page)
    page.goto(base + "explorer/")
    w.wait_figures()
    assert (base + meta["src"], "fetch") in requests
    fig = "#explorer-main"
    n = len(ds)
    for r, c in ((3, n + 0), (n + 5, 7), (10, 10), (2 * n - 1, 0)):
        page.evaluate(f"() => document.querySelector('{fig}').fx.showCell({r}, {c})")
        note = page.inner_text(f"{fig} .fx-panel .fx-note")
        shown = float(re.search(r"Cosine similarity (-?[0-9.]+)", note).group(1))
        # three decimals on the page: the stated bound plus half a unit of the last digit shown
        assert abs(shown - exact[r, c]) <= meta["max_abs_error"] + 5e-4 + 1e-9, (r, c, shown, exact[r, c])
        assert abs(shown - decoded[r, c]) <= 5e-4 + 1e-6, (r, c)
    assert np.abs(decoded - exact).max() <= meta["max_abs_error"]
    assert w.errors == []
    page.close()
