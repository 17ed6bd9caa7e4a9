"""Figure 7 of issue 10, honest projections (exporters/figures/honesty.py, article/views/honesty.js).

Unit tests on the synthetic world: the numbers are projection_honesty's on the explorer's own
projections (read from the cache: no projection is computed twice), the closed state is the
explorer's, facts and the text alternative follow the data, the output is deterministic. A browser
test mounts the figure on the built synthetic site, hovers a marker and reads its numbers in the
panel, and switches to the closed state.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from browser_support import ARTIFACTS, PageWatch, axe_violations, browser, have_browser, serve, synthetic_site, write_synthetic
from exporters.analysis.gap import close_gap
from exporters.analysis.honesty import projection_honesty
from exporters.analysis.projection import project
from exporters.cache import cache_root
from exporters.config import load_config
from exporters.figures import FIGURES
from exporters.figures._context import FigureContext
from exporters.figures._encoding import dumps
from exporters.world import World

HON = FIGURES["honesty"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    cfg = write_synthetic(tmp_path_factory.mktemp("synthetic-honesty"))
    return World(load_config(cfg), work_dir=cache_root())


def _ctx(world, tmp_path, projections=("PCA",)):
    """A context for the fast lane: PCA only, unless the test names more (t-SNE takes seconds)."""
    return FigureContext(world, tmp_path, cache_root(), {**world.config.options, "projections": list(projections)})


@pytest.fixture(scope="module")
def built(world, tmp_path_factory):
    """(ctx, data) of the main section with the synthetic build's projections (PCA, t-SNE), built
    after the explorer (as a build does)."""
    ctx = _ctx(world, tmp_path_factory.mktemp("honesty-out"), ("PCA", "TSNE"))
    FIGURES["explorer"].build(ctx, section="main")
    return ctx, HON.build(ctx, section="main")


@pytest.mark.slow
def test_numbers_are_projection_honesty_of_the_explorers_projections(built, world):
    ctx, d = built
    assert d["projections"] == ["PCA", "TSNE"] and d["states"] == ["open", "closed"]
    assert d["n"] == 24 and d["points"] == 48 and d["k"] == 10 and d["chance"] == pytest.approx(10 / 47, abs=1e-4)
    assert [m["id"] for m in d["models"]] == ["ModelA", "ModelB"]
    for m in d["models"]:
        emb = world.embeddings(m["id"], "main")
        x, y = emb.blocks["image"], emb.blocks["text"]
        for st, (a, b) in (("open", (x, y)), ("closed", close_gap(x, y))):
            for meth in d["projections"]:
                p = project(np.vstack([a, b]), meth)          # computed afresh, not from the cache
                h = projection_honesty(a, b, p[:24], p[24:], 10)
                got = m["states"][st][meth]
                for key in ("full_ratio", "plot_ratio", "exaggeration", "knn_recall", "full_distance"):
                    assert got[key] == pytest.approx(h[key], rel=1e-3), (m["id"], st, meth, key)
    # the closed state shrinks the full-space gap of every model
    for m in d["models"]:
        assert m["states"]["closed"]["PCA"]["full_ratio"] < m["states"]["open"]["PCA"]["full_ratio"] / 5


@pytest.mark.slow
def test_no_projection_is_computed_twice(world, tmp_path, monkeypatch):
    """Built after the explorer, the figure reads every projection from the explorer's cache."""
    import exporters.figures._sections as sections

    ctx = _ctx(world, tmp_path)
    FIGURES["explorer"].build(ctx, section="main")
    calls = []
    real = sections.project
    monkeypatch.setattr(sections, "project", lambda e, m, *a: calls.append(m) or real(e, m, *a))
    HON.build(ctx, section="main")
    assert calls == []


@pytest.fixture(scope="module")
def pca_built(world, tmp_path_factory):
    """(ctx, data) of the main section with PCA only: fast."""
    ctx = _ctx(world, tmp_path_factory.mktemp("honesty-pca"))
    return ctx, HON.build(ctx, section="main")


def test_pca_numbers_by_hand(pca_built, world):
    """The fast lane's version of the check above: PCA's numbers are projection_honesty's."""
    _, d = pca_built
    assert d["projections"] == ["PCA"] and d["states"] == ["open", "closed"]
    assert d["n"] == 24 and d["points"] == 48 and d["k"] == 10 and d["chance"] == pytest.approx(10 / 47, abs=1e-4)
    for m in d["models"]:
        emb = world.embeddings(m["id"], "main")
        x, y = emb.blocks["image"], emb.blocks["text"]
        for st, (a, b) in (("open", (x, y)), ("closed", close_gap(x, y))):
            p = project(np.vstack([a, b]), "PCA")
            h = projection_honesty(a, b, p[:24], p[24:], 10)
            for key in ("plot_ratio", "exaggeration", "knn_recall"):
                assert m["states"][st]["PCA"][key] == pytest.approx(h[key], rel=1e-3)


def test_facts_follow_the_data(pca_built):
    _, d = pca_built
    f = HON.facts(d)
    assert [m["id"] for m in f["method_list"]] == d["projections"]
    for meth in d["projections"]:
        ex = [m["states"]["open"][meth]["exaggeration"] for m in d["models"]]
        rec = [m["states"]["open"][meth]["knn_recall"] for m in d["models"]]
        fm = f["methods"][meth]
        assert fm["exaggeration_min"] == min(ex) and fm["exaggeration_max"] == max(ex)
        assert fm["all_enlarge"] == all(v > 1 for v in ex) and fm["all_hide"] == all(v < 1 for v in ex)
        assert fm["some_enlarge"] == any(v > 1 for v in ex)
        assert fm["recall_mean"] == pytest.approx(np.mean(rec), rel=1e-3)
        assert fm["recall_over_chance"] == pytest.approx(np.mean(rec) / d["chance"], rel=1e-3)
    # Model A's gap is large: both pictures enlarge it; Model B's is small: both hide it
    assert f["methods"]["PCA"]["enlarge_labels"] == "Model A <b>&</b>"
    assert f["methods"]["PCA"]["hide_labels"] == "Model B"
    assert f["best_recall_method"] == "PCA" and f["has_closed"] and not f["has_umap"] and not f["has_tsne"]
    assert f["nonlinear_keep_more"] is False                  # nothing to compare PCA with
    best = max(d["projections"], key=lambda p: np.mean([m["states"]["open"][p]["knn_recall"] for m in d["models"]]))
    assert f["best_recall_method"] == best
    ch = [abs(m["states"]["closed"][p]["knn_recall"] - m["states"]["open"][p]["knn_recall"])
          for m in d["models"] for p in d["projections"]]
    assert f["closed_recall_change_max"] == pytest.approx(max(ch), abs=1e-4)


def test_join_words():
    assert HON._join([]) == "" and HON._join(["A"]) == "A" and HON._join(["A", "B"]) == "A and B"
    assert HON._join(["A", "B", "C"]) == "A, B and C"


def test_describe_has_one_row_per_model_and_projection(pca_built):
    _, d = pca_built
    s = HON.describe(d, {})
    assert len(s["tables"]) == 2 and all(len(t["rows"]) == 2 for t in s["tables"])
    row = s["tables"][0]["rows"][0]
    assert row[0] == "Model A <b>&</b>" and row[1] == "PCA"          # escaped by the template, not here
    assert row[-1] == f"{d['models'][0]['states']['open']['PCA']['knn_recall']:.2f}"
    assert "10 nearest" in s["caption"] and "0.21" in s["caption"]


def test_deterministic_and_absent_sections(world, tmp_path, pca_built):
    _, d = pca_built
    again = HON.build(_ctx(world, tmp_path), section="main")
    assert dumps(again) == dumps(d)
    assert HON.build(_ctx(world, tmp_path), section="world") is None     # no such section here


def test_three_modalities_measure_the_first_two(world, tmp_path):
    ctx = _ctx(world, tmp_path)
    d = HON.build(ctx, section="triplet")
    assert d["states"] == ["open"] and d["n"] == 12
    emb = world.embeddings("ModelA", "triplet")
    names = list(emb.blocks)
    e = np.vstack([emb.blocks[k] for k in names])
    p = project(e, "PCA")
    h = projection_honesty(emb.blocks[names[0]], emb.blocks[names[1]], p[:12], p[12:24], 10)
    assert d["models"][0]["states"]["open"]["PCA"]["knn_recall"] == pytest.approx(h["knn_recall"], rel=1e-3)


# -- in the browser -------------------------------------------------------------------------------------
POINT_XY = """([sel, trace, k]) => { const gd = document.querySelector(sel); gd.scrollIntoView({block: "center"});
  const fl = gd._fullLayout, b = gd.getBoundingClientRect(), t = gd.data[trace];
  const ya = fl.yaxis, yv = ya.type === "category" ? ya.d2p(t.y[k]) : ya.l2p(t.y[k]);
  return [b.left + fl.xaxis._offset + fl.xaxis.l2p(t.x[k]), b.top + ya._offset + yv]; }"""


@pytest.mark.browser
@pytest.mark.skipif(not have_browser(), reason="needs playwright and /usr/bin/chromium")
def test_honesty_in_the_browser(tmp_path_factory):
    _, site = synthetic_site(tmp_path_factory.mktemp("browser-synthetic"))
    data = json.loads(next((site / "data").glob("honesty-main.json")).read_text())
    with serve(site) as base, browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        w = PageWatch(page)
        page.goto(base + "cost/")
        w.wait_figures()
        fig = "#honesty-main"
        assert page.get_attribute(fig, "data-mounted") == "ready"
        assert page.get_attribute(fig, "data-state") == "open"
        # the gap plot: the diagonal, then one trace per projection with one marker per model
        xs = page.evaluate(f"() => document.querySelector('{fig} .fx-honesty-gap').data.slice(1).map(t => t.y)")
        assert xs == [[m["states"]["open"][p]["plot_ratio"] for m in data["models"]] for p in data["projections"]]
        # hover Model B's t-SNE marker: the panel states its numbers
        x, y = page.evaluate(POINT_XY, [f"{fig} .fx-honesty-gap", 2, 1])
        page.mouse.move(x, y)
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.hover === 'gap:ModelB:TSNE'")
        v = data["models"][1]["states"]["open"]["TSNE"]
        text = page.inner_text(f"{fig} .fx-panel")
        assert "Model B, t-SNE (gap as trained)" in text
        assert f"{v['full_ratio']:.3f} in the full space, {v['plot_ratio']:.3f} in the picture" in text
        assert f"kNN recall {v['knn_recall']:.2f}" in text
        # hover a marker of the recall plot (Model A, PCA)
        page.mouse.move(5, 5)
        x, y = page.evaluate(POINT_XY, [f"{fig} .fx-honesty-knn", 0, 0])
        page.mouse.move(x, y)
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.hover === 'knn:ModelA:PCA'")
        assert f"kNN recall {data['models'][0]['states']['open']['PCA']['knn_recall']:.2f}" in page.inner_text(f"{fig} .fx-panel")
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator(fig).screenshot(path="/tmp/honesty-open.png")
        # the closed state: new numbers, state in data-state and the URL
        page.locator(fig).get_by_label("Close the modality gap (as in the explorer)").check()
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'closed'")
        # the panel follows: the last hovered marker's numbers in the closed state
        vc = data["models"][0]["states"]["closed"]["PCA"]
        assert "Model A <b>&</b>, PCA (gap closed)" in page.inner_text(f"{fig} .fx-panel")
        assert f"kNN recall {vc['knn_recall']:.2f}" in page.inner_text(f"{fig} .fx-panel")
        ys = page.evaluate(f"() => document.querySelector('{fig} .fx-honesty-gap').data.slice(1).map(t => t.y)")
        assert ys == [[m["states"]["closed"][p]["plot_ratio"] for m in data["models"]] for p in data["projections"]]
        assert ys != xs
        assert "state%3Aclosed" in page.url or "state:closed" in page.url
        page.locator(fig).screenshot(path="/tmp/honesty-closed.png")
        assert w.errors == []
        # axe on this figure alone (the page's other figures have their own tests)
        assert axe_violations(page, context="#honesty-main") == []
