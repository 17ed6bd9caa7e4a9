"""Figure `quadrants`: the new measures (hardest negatives, per-kind means), build/describe/facts on the
synthetic world, and the view in a real browser (hover an item, switch model and gap, hover a hub step)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from browser_support import ARTIFACTS, HOSTILE, PageWatch, axe_violations, browser, have_browser, serve, synthetic_site, write_synthetic
from conftest import unit_rows
from exporters.analysis import quadrants as qd
from exporters.analysis.similarity import cross_similarity
from exporters.cache import cache_root
from exporters.config import load_config
from exporters.figures import FIGURES
from exporters.figures._context import FigureContext
from exporters.world import World
from test_geometry import gapped, rotation

FIG = FIGURES["quadrants"]


# -- measures: properties on random arrays -------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_hardest_negative_is_the_most_similar_item_of_other_content(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 25))
    x, y = gapped(rng, n, 5)
    gy = rng.integers(0, max(2, n // 2), size=n)            # some captions share content
    gx = np.arange(n)
    r = qd.partner_ranks(x, y, groups=(gx, gy))
    s = cross_similarity(x, y)
    for i in range(n):
        j = r["x2y_hardest"][i]
        others = np.flatnonzero(gy != gy[i])
        if others.size == 0:
            assert j == -1 and np.isnan(r["x2y_margin"][i])
            continue
        assert gy[j] != gy[i] and s[i, j] == pytest.approx(s[i, others].max())
        assert r["x2y_margin"][i] == pytest.approx(s[i, i] - s[i, j])
        # negative margin exactly when some item of other content beats the partner (rank > 0)
        assert (r["x2y_margin"][i] < 0) == (r["x2y_rank"][i] > 0) or np.isclose(r["x2y_margin"][i], 0)
    # y -> x: every image has its own content, so a hardest negative always exists
    assert (r["y2x_hardest"] >= 0).all() and (r["y2x_hardest"] != np.arange(n)).all()


@pytest.mark.parametrize("seed", range(4))
def test_kind_means_are_exact_and_rotation_free(seed):
    rng = np.random.default_rng(seed)
    x, y = unit_rows(rng, 20, 6), unit_rows(rng, 20, 6)
    h = qd.similarity_histograms(x, y)
    s = cross_similarity(x, y)
    iu = np.triu_indices(20, 1)
    assert h["means"]["cross_matched"] == pytest.approx(np.diag(s).mean())
    assert h["means"]["cross_other"] == pytest.approx(s[~np.eye(20, dtype=bool)].mean())
    assert h["means"]["in_x"] == pytest.approx((x @ x.T)[iu].mean())
    q = rotation(rng, 6)
    hr = qd.similarity_histograms(x @ q, y @ q)
    assert hr["means"] == pytest.approx(h["means"])
    ra, rb = qd.partner_ranks(x, y), qd.partner_ranks(x @ q, y @ q)
    assert (ra["x2y_hardest"] == rb["x2y_hardest"]).all() and (ra["y2x_hardest"] == rb["y2x_hardest"]).all()


def test_kind_means_with_no_other_pairs_are_none():
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([[1.0, 0.0], [1.0, 0.0]])
    h = qd.similarity_histograms(x, y, groups=(np.zeros(2, int), np.zeros(2, int)))
    assert h["means"]["cross_other"] is None and sum(h["cross_other"]) == 0


# -- the figure on the synthetic world -----------------------------------------------------------------
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("fig-quadrants")
    cfg = write_synthetic(root / "data")
    world = World(load_config(cfg), work_dir=cache_root())
    ctx = FigureContext(world, root / "out", cache_root(), dict(world.config.options))
    return world, ctx, FIG.build(ctx, section="main")


def test_build_matches_the_analysis(built):
    world, ctx, d = built
    assert d["n"] == 24 and [m["id"] for m in d["models"]] == ["ModelA", "ModelB"]
    assert d["modalities"] == ["Image", "Text"] and d["states"] == ["open", "closed"]
    emb = world.embeddings("ModelA", "main")
    x, y = emb.blocks["image"], emb.blocks["text"]
    s = d["models"][0]["states"]["open"]
    r = qd.partner_ranks(x, y)
    assert s["items"]["x2y_rank"] == r["x2y_rank"].tolist()
    assert s["items"]["y2x_hardest"] == r["y2x_hardest"].tolist()
    assert s["items"]["x2y_margin"] == pytest.approx(r["x2y_margin"].tolist(), abs=1e-3)
    assert s["summary"]["x2y"]["r1"] == pytest.approx(np.mean(r["x2y_rank"] == 0), abs=1e-4)
    hub = qd.hubness(x, y)
    assert s["occurrence"]["x2y"] == hub["x2y_occurrence"].tolist() and sum(s["occurrence"]["y2x"]) == 24
    assert sum(s["hist"]["in_x"]) == 24 * 23 // 2 and sum(s["hist"]["cross_matched"]) == 24
    # closing the gap (ModelA has a wide one) raises the true pairs' mean similarity
    c = d["models"][0]["states"]["closed"]
    assert c["means"]["cross_matched"] > s["means"]["cross_matched"] + 0.1
    # the text of the page's caption stays data: the label is passed through verbatim
    assert d["models"][0]["label"] == "Model A <b>&</b>"
    assert len(json.dumps(d)) < 60_000


def test_build_is_deterministic_and_absent_sections_give_none(built):
    world, ctx, d = built
    from exporters.figures._encoding import dumps
    ctx2 = FigureContext(world, ctx.out_dir.parent / "out2", cache_root(), dict(world.config.options))
    assert dumps(FIG.build(ctx2, section="main")) == dumps(d)
    assert FIG.build(ctx, section="world") is None


def test_facts_and_describe(built):
    _, _, d = built
    f = FIG.facts(d)
    a = f["models"][0]
    assert a["matched"] == d["models"][0]["states"]["open"]["means"]["cross_matched"]
    assert a["matched_below_inmodal"] == (a["matched"] < min(a["in_x"], a["in_y"]))
    assert f["all_closing_raises_matched"] is True
    skews = [s for m in f["models"] for s in m["skewness"] if s is not None]
    assert f["most_skewed"]["skewness"] == max(skews)
    assert f["hubs"] == (max(skews) > FIG.HUB_SKEW)
    assert f["largest_hub"]["hub_max"] == max(max(m["hub_max"]) for m in f["models"])
    top = f["most_skewed"]
    assert top["most_never"] == (top["never"] > 12) and {top["answers"], top["queries"]} == {"Image", "Text"}
    # a made-up case: one model below, one above
    d2 = json.loads(json.dumps(d))
    d2["models"][0]["states"]["open"]["means"].update(cross_matched=-0.5)
    d2["models"][1]["states"]["open"]["means"].update(cross_matched=0.99)
    f2 = FIG.facts(d2)
    assert f2["some_matched_below_inmodal"] and not f2["all_matched_below_inmodal"]
    assert f2["matched_below_labels"] == "Model A <b>&</b>" and f2["matched_above_labels"] == "Model B"
    assert f2["rest_above_both"] is True                 # 0.99 is above both of Model B's in-modal means
    d2["models"][1]["states"]["open"]["means"].update(in_x=-0.9, in_y=0.995)
    assert FIG.facts(d2)["rest_above_both"] is False      # between them
    t = FIG.describe(d, {})
    assert "24 pairs" in t["caption"] and len(t["tables"]) == 2
    assert len(t["tables"][1]["rows"]) == 4 and all(len(r) == len(t["tables"][1]["head"]) for r in t["tables"][1]["rows"])
    assert t["tables"][1]["rows"][0][2] == f"{100 * a['r1'][0]:.0f}%"


# -- in the browser ------------------------------------------------------------------------------------
POINT_XY = """([sel, trace, k]) => { const gd = document.querySelector(sel); gd.scrollIntoView({block: "center"});
  const fl = gd._fullLayout; const b = gd.getBoundingClientRect(); const t = gd.data[trace];
  const xa = fl.xaxis, ya = fl.yaxis;
  const px = xa.type === 'log' ? Math.log10(t.x[k]) : t.x[k], py = ya.type === 'log' ? Math.log10(t.y[k]) : t.y[k];
  return [b.left + xa._offset + xa.l2p(px), b.top + ya._offset + ya.l2p(py)]; }"""




@pytest.mark.browser
@pytest.mark.skipif(not have_browser(), reason="needs playwright and /usr/bin/chromium")
def test_quadrants_in_the_browser(tmp_path_factory):
    _, site = synthetic_site(tmp_path_factory.mktemp("browser-quadrants"))
    with serve(site) as base, browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        w = PageWatch(page)
        page.goto(base + "cost/")
        w.wait_figures()
        fig = "#quadrants-main"
        assert page.eval_on_selector(fig, "f => f.dataset.mounted") == "ready"
        assert page.eval_on_selector(fig, "f => f.dataset.state") == "ModelA|0"
        # the histograms are step lines with one point per edge (41 edges)
        tr = page.evaluate(f"() => document.querySelector('{fig} .fx-q-cross').data.map(t => [t.x.length, t.line.shape])")
        assert tr == [[41, "hv"], [41, "hv"]]
        # hover an item of the margins plot: the panel shows that pair's caption and its ranks
        cd = page.evaluate(f"() => document.querySelector('{fig} .fx-q-margins').data.map(t => t.customdata.length)")
        trace = next(k for k, c in enumerate(cd) if c)
        i = page.evaluate(f"() => document.querySelector('{fig} .fx-q-margins').data[{trace}].customdata[0]")
        x, y = page.evaluate(POINT_XY, [f"{fig} .fx-q-margins", trace, 0])
        page.mouse.move(x, y)
        page.wait_for_function(f"() => document.querySelector('{fig} .fx-panel').textContent.includes('pair #')")
        text = page.inner_text(f"{fig} .fx-panel")
        assert f"pair #{i}:" in text and "partner rank" in text
        texts = [t for t in page.eval_on_selector_all(f"{fig} .fx-panel .fx-caption", "es => es.map(e => e.textContent)")]
        caption_i = HOSTILE[i] if i < len(HOSTILE) else None
        if caption_i is not None:
            assert caption_i in texts
        assert page.locator(f"{fig} .fx-panel img").count() >= 1          # the image of the pair
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator(fig).screenshot(path="/tmp/quadrants-hover.png")
        # hover a hubness step: its items are listed
        page.mouse.move(5, 5)
        x, y = page.evaluate(POINT_XY, [f"{fig} .fx-q-hubs", 0, 1])
        page.mouse.move(x, y)
        page.wait_for_function(f"() => document.querySelector('{fig} .fx-panel').textContent.includes('nearest')")
        assert "of exactly 1" in page.inner_text(f"{fig} .fx-panel")
        # the gap toggle and the model switch change the state and what is drawn
        y0 = page.evaluate(f"() => document.querySelector('{fig} .fx-q-cross').data[0].y")
        page.locator(fig).get_by_label("Close the modality gap").check()
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'ModelA|1'")
        assert page.evaluate(f"() => document.querySelector('{fig} .fx-q-cross').data[0].y") != y0
        assert "gap closed" in page.inner_text(f"{fig} .fx-meta")
        page.select_option(f"{fig} .fx-controls select", "ModelB")
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'ModelB|1'")
        assert "Model B" in page.inner_text(f"{fig} .fx-meta")
        assert "Model A" not in page.inner_text(f"{fig} .fx-panel")      # the previous model's items are gone
        ticks = page.evaluate(f"() => document.querySelector('{fig} .fx-q-ranks').layout.xaxis.tickvals")
        assert ticks[:3] == [1, 2, 3] and all(t <= 24 for t in ticks)
        page.locator(fig).screenshot(path="/tmp/quadrants-modelb.png")
        assert axe_violations(page, context="#quadrants-main") == []
        assert w.errors == []
        page.close()
