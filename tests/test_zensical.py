"""`build --builder zensical`: the staged pages assembled by `zensical build --strict` instead of MkDocs.

The same synthetic article as tests/test_site.py: every page and every figure element of the MkDocs
build is in the Zensical build, the configuration Zensical needs is written into the staging folder
(never the repository's mkdocs.yml), Zensical's `.cache/` goes with the staging folder, a Zensical
warning fails the build with one line, and in a browser every figure mounts without console errors.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from browser_support import PageWatch, browser, have_browser, serve, synthetic_site, write_synthetic
from exporters.errors import UserError

pytest.importorskip("zensical", reason="zensical is not installed (pip install '.[zensical]')")

ROOT = Path(__file__).resolve().parent.parent


def _figures(site: Path) -> dict[str, list[tuple[str, str]]]:
    """page html path -> [(dom id, figure kind)] of the <figure data-figure> elements on it."""
    out = {}
    for p in sorted(site.rglob("*.html")):
        text = p.read_text(encoding="utf-8")
        found = re.findall(r'<figure class="[^"]*" id="([^"]+)" data-figure="([^"]+)"', text)
        out[str(p.relative_to(site))] = found
    return out


@pytest.fixture(scope="module")
def zensical_site(tmp_path_factory):
    import os

    from exporters.site import build

    tmp = tmp_path_factory.mktemp("zensical")
    cfg = write_synthetic(tmp / "data")
    yml = (ROOT / "mkdocs.yml").read_bytes()
    cwd = tmp / "cwd"
    cwd.mkdir()
    before = os.getcwd()
    os.chdir(cwd)
    try:
        site = build(cfg, tmp / "site", builder="zensical")
    finally:
        os.chdir(before)
    assert (ROOT / "mkdocs.yml").read_bytes() == yml, "the repository's mkdocs.yml was changed"
    assert list(cwd.iterdir()) == [], "zensical wrote into the working directory (.cache?)"
    return site


@pytest.mark.build
def test_zensical_build_has_every_page_and_figure(zensical_site, tmp_path_factory):
    site = zensical_site
    _, mk_site = synthetic_site(tmp_path_factory.mktemp("synthetic-site"))
    manifest = json.loads((site / "data" / "manifest.json").read_text())
    assert manifest == json.loads((mk_site / "data" / "manifest.json").read_text())
    figs = _figures(site)
    for f in manifest["figures"]:
        stem = f["page"].removesuffix(".md.j2")
        page = "index.html" if stem == "index" else f"{stem}/index.html"
        assert (f["id"], f["figure"]) in figs.get(page, []), (page, f)
        assert (site / f["src"]).is_file(), f["src"]
    for page in manifest["pages"]:
        stem = page.removesuffix(".md")
        assert (site / ("index.html" if stem == "index" else f"{stem}/index.html")).is_file(), page
    # the same figure elements, page by page, as the MkDocs build
    mk = _figures(mk_site)
    assert {k: v for k, v in figs.items() if v} == {k: v for k, v in mk.items() if v}
    # assets: the article's own and plotly once, the data byte-identical
    (bundle,) = (site / "assets").glob("plotly-*.min.js")
    for rel in ("assets/figures.js", "assets/figures.css", f"assets/{bundle.name}", "data/explorer-main.json"):
        assert hashlib.sha256((site / rel).read_bytes()).digest() == hashlib.sha256((mk_site / rel).read_bytes()).digest(), rel
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "assets/figures.js" in index and "fonts.googleapis" not in index
    assert "&lt;script&gt;alert(" in index and "<script>alert" not in index


@pytest.mark.build
def test_staging_config_and_cache_are_left_with_the_staging_folder(zensical_site):
    builds = zensical_site.parent / f".{zensical_site.name}-builds"
    assert sorted(p.name for p in builds.iterdir() if p.name != "lock") == [zensical_site.resolve().name]
    assert not (zensical_site / ".cache").exists() and not (zensical_site / "mkdocs.yml").exists()


def test_zensical_config_is_written_for_the_stage(tmp_path):
    import yaml

    from exporters.site import zensical_config

    (tmp_path / "docs").mkdir()
    path = zensical_config(tmp_path, tmp_path / "docs", tmp_path / "site", "Ünïcode: a title")
    assert path.parent == tmp_path
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert cfg["site_name"] == "Ünïcode: a title" and cfg["docs_dir"] == "docs" and cfg["site_dir"] == "site"
    assert cfg["nav"][0] == {"Introduction": "index.md"} and cfg["theme"]["name"] == "material"
    assert "custom_dir" not in cfg["theme"]


@pytest.mark.build
def test_zensical_warning_fails_the_build_in_one_line(tmp_path):
    from exporters.site import zensical_build

    docs = tmp_path / "docs"
    docs.mkdir()
    for page in ("index", "gap", "explorer", "modalities", "augmentations", "world", "large", "data"):
        (docs / f"{page}.md").write_text(f"# {page}\n", encoding="utf-8")
    (docs / "gap.md").write_text("# gap\n\n[a broken link](nowhere.md)\n", encoding="utf-8")
    with pytest.raises(UserError) as exc:
        zensical_build(docs, tmp_path / "site", "Broken")
    msg = str(exc.value)
    assert msg.startswith("zensical build --strict failed") and "\n" not in msg
    assert "gap.md" in msg and "\x1b[" not in msg and "Traceback" not in msg


def test_builder_option():
    from exporters.cli import build_parser
    from exporters.commands import build as build_cmd
    from exporters.site import BUILDERS, build_world

    assert build_cmd.BUILDERS == BUILDERS == ("mkdocs", "zensical")
    assert build_parser().parse_args(["build"]).builder == "mkdocs"
    assert build_parser().parse_args(["build", "--builder", "zensical"]).builder == "zensical"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["build", "--builder", "hugo"])
    with pytest.raises(UserError, match="unknown site builder 'hugo'"):
        build_world(object(), Path("unused"), builder="hugo")


@pytest.mark.browser
@pytest.mark.skipif(not have_browser(), reason="needs playwright and /usr/bin/chromium")
def test_figures_mount_on_the_zensical_site(zensical_site):
    manifest = json.loads((zensical_site / "data" / "manifest.json").read_text())
    pages = sorted({f["page"].removesuffix(".md.j2") for f in manifest["figures"]})
    with serve(zensical_site) as base, browser() as b:
        for stem in pages:
            page = b.new_page(viewport={"width": 1280, "height": 900})
            w = PageWatch(page)
            page.goto(base + ("" if stem == "index" else f"{stem}/"))
            w.wait_figures()
            states = page.eval_on_selector_all("figure[data-figure]", "fs => fs.map(f => f.dataset.mounted)")
            assert states and all(s == "ready" for s in states), (stem, states)
            assert w.errors == [], (stem, w.errors)
            page.close()
