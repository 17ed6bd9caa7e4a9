"""The generator: staging, mkdocs --strict, atomic swap, self-contained relative site, escaping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from browser_support import synthetic_site
from exporters.errors import UserError
from exporters.site import build

pytestmark = pytest.mark.build   # every test here reads a built site


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    return synthetic_site(tmp_path_factory.mktemp("synthetic-site"))


def test_site_is_self_contained_and_relative(site):
    _, site_dir = site
    html = {p: p.read_text(encoding="utf-8") for p in site_dir.rglob("*.html")}
    assert len(html) >= 7
    for p, text in html.items():
        for ref in re.findall(r'(?:src|href)="([^"]+)"', text):
            # MkDocs writes 404.html with root-absolute URLs unless site_url is set (it can be
            # served at any depth); every real page must be relative
            assert p.name == "404.html" or not ref.startswith("/"), f"{p}: absolute URL {ref}"
        for ref in re.findall(r'<script[^>]*src="([^"]+)"', text) + re.findall(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', text):
            assert not ref.startswith(("http:", "https:", "//")), f"{p}: external asset {ref}"
        assert "fonts.googleapis" not in text
        assert "plotly" not in text, "plotly is loaded once by figures.js, not linked or inlined per page"
    # the vendored partial bundle, once, under its content-hashed name, which figures.js is given
    import hashlib
    import json

    from exporters.resources import resource_path

    vendor = resource_path("article", "vendor", "plotly")
    record = json.loads((vendor / "VENDOR.json").read_text())
    bundles = list(site_dir.rglob("plotly*.js"))
    assert [p.name for p in bundles] == [f"plotly-{record['sha256'][:8]}.min.js"]
    assert bundles[0].read_bytes() == (vendor / record["file"]).read_bytes()
    assert hashlib.sha256(bundles[0].read_bytes()).hexdigest() == record["sha256"]
    js = (site_dir / "assets" / "figures.js").read_text(encoding="utf-8")
    assert f'var PLOTLY_SRC = "assets/{bundles[0].name}";' in js and "plotly.min.js" not in js


def test_hostile_captions_are_escaped(site):
    _, site_dir = site
    for p in site_dir.rglob("*.html"):
        text = p.read_text(encoding="utf-8")
        assert "<script>alert" not in text, p
        assert "onerror=alert" not in text.replace("onerror=alert(1)&gt;", ""), p
    idx = (site_dir / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in idx or "&lt;script&gt;alert(&#x27;title&#x27;)" in idx


def test_failed_build_leaves_previous_site(site, tmp_path):
    cfg, site_dir = site
    before = sorted(str(p.relative_to(site_dir)) for p in site_dir.rglob("*"))
    marker = (site_dir / "index.html").read_bytes()
    bad = tmp_path / "bad.toml"
    bad.write_text(cfg.read_text().replace('path = "main"', 'path = "does-not-exist"'))
    # relative paths resolve from the file's folder: put it beside the data
    bad_beside = cfg.parent / "bad.toml"
    bad_beside.write_text(bad.read_text())
    with pytest.raises(UserError):
        build(bad_beside, site_dir)
    assert sorted(str(p.relative_to(site_dir)) for p in site_dir.rglob("*")) == before
    assert (site_dir / "index.html").read_bytes() == marker
    assert not list(site_dir.parent.glob(".build-*")), "temporary build dir left behind"


def test_workflow_and_mkdocs_config():
    root = Path(__file__).resolve().parent.parent
    wf = (root / ".github" / "workflows" / "pages.yml").read_text()
    assert "actions/deploy-pages" in wf and "upload-pages-artifact" in wf
    yml = (root / "mkdocs.yml").read_text()
    # issue 11: pages replace each other in place, plotly.js stays loaded (tests/test_browser.py checks it)
    assert "font: false" in yml and "    - navigation.instant\n" in yml


def test_figures_js_keeps_code_lines_whole_and_drops_comments():
    """figures.js is the views without comments, blank lines and indentation (site._lean): every code line of
    every view is in it, whole, and no view continues a string over a line break (which _lean would break)."""
    from exporters.site import _lean, figures_js

    views = Path(__file__).resolve().parent.parent / "article" / "views"
    js = figures_js()
    lines = set(js.split("\n"))
    for f in sorted(views.glob("*.js")):
        src = f.read_text(encoding="utf-8")
        kept = _lean(src).split("\n")
        assert not any("`" in line or line.endswith("\\") for line in kept), f.name
        assert all(line in lines for line in kept), f.name
        assert not any(line.startswith(("//", "/*", " ")) for line in kept), f.name
    assert _lean("  /* a\n  b */\nvar x = 1;   \n\n  // c\n  f('//');\n") == "var x = 1;\nf('//');\n"
    assert "F.views.gapcost" in js and len(js) < sum(len(f.read_text()) for f in views.glob("*.js"))
