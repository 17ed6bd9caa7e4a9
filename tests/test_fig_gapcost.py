"""Figure gapcost (issue 10, figure 1): retrieval and loss along the gap, per model.

Unit tests of build/facts/describe on the synthetic world and on hand-made curves; the page's prose
against the facts (build marker); the view in Chromium (browser marker): it mounts, hovering a point
names model, shift and value, the metric select and the re-normalisation box change what is drawn.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest

from browser_support import PageWatch, axe_violations, browser, have_browser, serve, synthetic_site, write_synthetic
from exporters.analysis.gap import close_gap
from exporters.analysis.losses import infonce
from exporters.analysis.retrieval import recall_at_k
from exporters.cache import cache_root
from exporters.config import load_config
from exporters.figures import gapcost as gc
from exporters.figures._context import FigureContext
from exporters.figures._encoding import dumps
from exporters.figures._sections import loss_bounds
from exporters.world import World


@pytest.fixture(scope="module")
def synthetic_cfg(tmp_path_factory) -> Path:
    return write_synthetic(tmp_path_factory.mktemp("synthetic-gapcost"))


def _ctx(cfg: Path, out: Path) -> FigureContext:
    world = World(load_config(cfg), work_dir=cache_root())
    return FigureContext(world, out, cache_root(), dict(world.config.options))


@pytest.fixture(scope="module")
def built(synthetic_cfg, tmp_path_factory):
    ctx = _ctx(synthetic_cfg, tmp_path_factory.mktemp("gapcost-out"))
    return ctx, gc.build(ctx, section="main")


def test_build_curves_start_as_trained_and_reach_the_closed_gap(built):
    ctx, d = built
    ds, models = ctx.world.section("main")
    assert d["n"] == 24 and [m["id"] for m in d["models"]] == ["ModelA", "ModelB"]
    assert d["fractions"][0] == 0.0 and d["fractions"][d["closed"]] == 1.0 and d["fractions"][-1] == 1.5
    assert d["zero_shot"] is None                              # the reference folders carry no class labels
    groups = (ds.content_groups("image"), ds.content_groups("text"))
    for m in d["models"]:
        emb = models[m["id"]]
        x, y = emb.blocks["image"], emb.blocks["text"]
        for v in gc.VARIANTS:
            cur = m["curves"][v]
            assert all(len(cur[k]) == len(d["fractions"]) for k in (*gc.RECALLS, "loss", "distance"))
            r0 = recall_at_k(x, y, (1, 5), *groups)
            assert [cur[k][0] for k in gc.RECALLS] == pytest.approx([r0[k] for k in gc.RECALLS], abs=1e-4)
            assert cur["loss"][0] == pytest.approx(infonce(x, y, emb.logit_scale, ctx.batch_size), rel=1e-3)
        # the re-normalised curve at 1 is the article's closed gap (the explorer's 'closed' state)
        xc, yc = close_gap(x, y)
        rc = recall_at_k(xc, yc, (1, 5), *groups)
        ren = m["curves"]["renormalized"]
        assert [ren[k][d["closed"]] for k in gc.RECALLS] == pytest.approx([rc[k] for k in gc.RECALLS], abs=1e-4)
        assert ren["loss"][d["closed"]] == pytest.approx(infonce(xc, yc, emb.logit_scale, ctx.batch_size), rel=1e-3)
        # raw: the centroids meet at 1 and have crossed beyond it
        raw = m["curves"]["raw"]["distance"]
        assert abs(raw[d["closed"]]) < 1e-3 and raw[0] > 0 > raw[-1]
        assert m["untrained"] is False                         # no training record beside these models
        assert m["loss_bounds"]["batch"] == 24
    # the two labels of each direction come from the modalities' labels
    assert [x["label"] for x in d["metrics"]] == ["image\u2192text R@1", "text\u2192image R@1",
                                                  "image\u2192text R@5", "text\u2192image R@5"]


def test_build_is_deterministic_and_absent_sections_give_none(synthetic_cfg, built, tmp_path):
    _, d = built
    again = gc.build(_ctx(synthetic_cfg, tmp_path), section="main")
    assert dumps(again) == dumps(d)
    assert len(dumps(d)) < 30_000
    assert gc.build(_ctx(synthetic_cfg, tmp_path), section="world") is None


def _curves(before: float, after: float, n_frac: int = 16, closed: int = 10, loss=(1.0, 2.0)) -> dict:
    """A renormalised and raw curve moving linearly from `before` (f = 0) to `after` (f = 1)."""
    r = [before + (after - before) * i / closed for i in range(n_frac)]
    lo = None if loss is None else [loss[0] + (loss[1] - loss[0]) * i / closed for i in range(n_frac)]
    cur = {k: list(r) for k in gc.RECALLS} | {"loss": lo, "distance": [1.0 - i / closed for i in range(n_frac)]}
    return {"renormalized": cur, "raw": copy.deepcopy(cur)}


def _data(models: list[tuple], n: int = 100) -> dict:
    fr = [float(f) for f in np.round(np.linspace(0.0, 1.5, 16), 10)]
    rows = [{"id": f"m{i}", "label": lab, "logit_scale": None if loss is None else 100.0, "distance": 0.8,
             "untrained": untrained, "curves": _curves(b, a, loss=loss)}
            for i, (lab, b, a, loss, untrained) in enumerate(models)]
    return {"section": "main", "dataset": "toy", "n": n, "batch_size": 50, "fractions": fr, "closed": 10,
            "variants": ["renormalized", "raw"], "modalities": ["Image", "Text"],
            "metrics": [{"key": k, "label": k} for k in ("x2y@1", "y2x@1", "x2y@5", "y2x@5")],
            "models": rows, "zero_shot": None}


def test_facts_sort_models_into_losing_keeping_and_gaining():
    d = _data([("CLIP", 0.82, 0.61, (0.36, 1.15), False), ("CyCLIP", 0.66, 0.65, (0.9, 1.02), False),
               ("CLOOB", 0.70, 0.74, (0.9, 0.86), False), ("LAION", 0.82, 0.82, (0.5, 0.49), False),
               ("Bind", 0.93, 0.91, None, False)])
    f = gc.facts(d)
    x = f["x2y"]
    assert x["losers"] == "CLIP and Bind"                      # 2 of 100 queries is more than one
    assert x["keepers"] == "CyCLIP and LAION" and not x["one_keeper"]
    assert x["gainers"] == "CLOOB" and x["one_gainer"] and x["any_gain"]
    assert x["worst"]["label"] == "CLIP" and (x["worst"]["before"], x["worst"]["after"]) == (0.82, 0.61)
    assert x["best"]["label"] == "CLOOB" and x["all_lose"] is False
    assert f["loss_rises"] == "CLIP and CyCLIP" and f["loss_falls"] == "CLOOB and LAION"
    assert f["loss_most"]["label"] == "CLIP" and f["any_loss_rises"] and not f["all_loss_rise"]
    assert f["no_scale"] == "Bind" and f["no_scale_one"] and f["untrained"] is None
    assert f["has_zero_shot"] is False and f["a"] == "image" and f["keep_pairs"] == 1
    # a loss at logit scale 1 carries no information: said so, and not ranked among the losses
    flat = _data([("CLIP", 0.82, 0.61, (0.36, 1.15), False), ("Bind", 0.93, 0.91, (3.63, 3.0), False)])
    flat["models"][1]["logit_scale"] = 1.0
    flat["models"][1]["loss_bounds"] = loss_bounds(1.0, 50)
    h = gc.facts(flat)
    assert [x["label"] for x in h["loss_models"]] == ["CLIP"] and h["loss_falls"] == "" and h["all_loss_rise"]
    assert [(x["label"], x["loss"], x["batch"]) for x in h["flat"]] == [("Bind", 3.63, 50)]
    assert f["flat"] == []
    # with 10 pairs one query is 0.1: the same drop of 0.1 is now "keeps"
    g = gc.facts(_data([("A", 0.5, 0.4, (1.0, 0.9), True)], n=10))
    assert g["x2y"]["keepers"] == "A" and not g["x2y"]["any_lose"]
    assert g["loss_most"] is None and not g["any_loss_rises"] and g["loss_falls"] == "A"
    assert g["untrained"] == {"label": "A", "before": 0.5, "after": 0.4, "chance": 0.1, "distance": 0.8,
                              "no_gain": True}


def test_facts_of_the_synthetic_build_match_its_curves(built):
    _, d = built
    f = gc.facts(d)
    for key in ("x2y", "y2x"):
        per = f[key]["models"]
        assert [p["label"] for p in per] == [m["label"] for m in d["models"]]
        for p, m in zip(per, d["models"]):
            cur = m["curves"]["renormalized"][f"{key}@1"]
            assert (p["before"], p["after"]) == (cur[0], cur[d["closed"]])
        assert f[key]["worst"]["change"] == min(p["change"] for p in per)
        named = [s for s in (f[key]["losers"], f[key]["keepers"], f[key]["gainers"]) if s]
        assert sorted(" and ".join(named).split(" and ")) == sorted(p["label"] for p in per)


def test_describe_words_every_number(built):
    _, d = built
    out = gc.describe(d, {})
    assert "24 pairs" in out["label"] and "No zero-shot accuracy" in out["caption"]
    summary, ren, raw = out["tables"]
    assert [r[0] for r in summary["rows"]] == ["Model A <b>&</b>", "Model B"]    # escaped by the template
    a = d["models"][0]["curves"]["renormalized"]
    assert summary["rows"][0][1] == f"{a['x2y@1'][0]:.2f} \u2192 {a['x2y@1'][d['closed']]:.2f}"
    assert summary["rows"][0][-1] == f"{a['loss'][0]:.3f} \u2192 {a['loss'][d['closed']]:.3f}"
    assert len(ren["rows"]) == len(raw["rows"]) == 2 * len(d["fractions"])
    assert ren["rows"][3][1] == "0.3" and len(ren["head"]) == len(ren["rows"][0])
    none = _data([("S", 0.5, 0.5, None, False)])
    assert gc.describe(none, {})["tables"][0]["rows"][0][-1] == "no logit scale"
    assert gc.describe(none, {})["tables"][1]["rows"][0][-1] == "n/a"


# -- the page: its prose states what facts() computed ----------------------------------------------------
@pytest.mark.build
def test_cost_page_states_the_facts(synthetic_cfg, tmp_path):
    from exporters.site import export_world

    world = World(load_config(synthetic_cfg), work_dir=cache_root())
    export_world(world, tmp_path / "docs", cache_root())
    page = re.sub(r"\s+", " ", (tmp_path / "docs" / "cost.md").read_text(encoding="utf-8"))
    assert 'id="gapcost-main"' in page and 'data-figure="gapcost"' in page
    assert "gapcost-world" not in page                         # no world section in this build, no figure
    f = gc.facts(json.loads((tmp_path / "docs" / "data" / "gapcost-main.json").read_text()))
    x = f["x2y"]
    if x["any_lose"]:
        assert f"{x['worst']['before']:.2f} to {x['worst']['after']:.2f}" in page
    else:
        assert f"No model here loses more than 1 of 24 queries in {x['metric']}" in page
    if x["any_gain"]:
        assert f"{x['best']['before']:.2f} to {x['best']['after']:.2f}" in page
    assert "shows no zero-shot accuracy" in page
    assert "up to *s* = 1.5" in page and "batches of 24 pairs" in page


# -- zero-shot: class tasks of the shapes world, their prompts embedded by the model ----------------------------
REPO = Path(__file__).resolve().parent.parent


def test_shapes_class_tasks_label_the_main_object(tmp_path):
    from exporters.datasets import shapes
    from exporters.errors import UserError
    from exporters.pairs import ClassTask

    ds = shapes.shapes_dataset("eval100", tmp_path)
    assert [t.name for t in ds.tasks] == ["shape", "colour"]
    shape, colour = ds.tasks
    scenes = [shapes.make_scene(i, "eval100") for i in range(len(ds))]
    assert list(shape.labels) == [shapes.SHAPES.index(s.objects[0].shape) for s in scenes]
    assert [colour.classes[c] for c in colour.labels] == [s.objects[0].colour for s in scenes]
    # a shape is named in the caption by one of its words, so the label is the caption's shape
    for s, c in zip(scenes[:30], shape.labels):
        words = {w for forms in shapes.SHAPE_WORDS[shape.classes[c]] for w in forms}
        assert words & set(s.caption.split()), s.caption
    vocab = shapes.all_words()             # every prompt is in the word-level tokenizer's vocabulary
    assert all(set(t.split()) <= vocab for task in ds.tasks for t in task.flat_prompts())
    assert "a picture of an orange circle" in colour.prompts[colour.classes.index("orange")]
    sub = ds.subset([3, 1], "two")          # a subset keeps its items' labels
    assert sub.tasks[0].labels == (shape.labels[3], shape.labels[1])
    with pytest.raises(UserError, match="item #1 has label 5"):
        ClassTask("k", "k", ("a", "b"), (("a",), ("b",)), (0, 5))
    with pytest.raises(UserError, match="one label per item"):
        type(ds)("x", ("a", "b"), ds.modalities[:1] and (), tasks=(shape,))


@pytest.fixture(scope="module")
def zs_world(tmp_path_factory):
    """The shapes world's 100 evaluation pairs under our trained CLIP (its shipped checkpoint), an untrained
    model and precomputed embeddings of the same pairs (which cannot embed a prompt)."""
    from exporters.datasets import shapes

    root = tmp_path_factory.mktemp("zs-world")
    n = shapes.SPLITS["eval100"]
    rng = np.random.default_rng(3)
    np.savez(root / "pre.npz", image=rng.normal(size=(n, 8)), text=rng.normal(size=(n, 8)) + 0.5)
    (root / "zs.toml").write_text(f"""
[datasets.shapes100]
source = "shapes"
split = "eval100"

[models.clip]
source = "open_clip"
arch = "ShapesViT-T-32"
checkpoint = "{REPO / 'models' / 'clip.safetensors'}"
label = "Ours: CLIP"

[models.random]
source = "open_clip"
arch = "ShapesViT-T-32"
random_init = true
label = "Untrained"

[models.pre]
source = "arrays"
path = "pre.npz"
label = "Precomputed"

[sections.main]
dataset = "shapes100"
models = ["clip", "random", "pre"]
""")
    ctx = _ctx(root / "zs.toml", root / "out")
    return ctx, gc.build(ctx, section="main")


def test_zero_shot_curves_are_the_models_own_classification(zs_world):
    from exporters.analysis.gap_cost import zero_shot_accuracy
    from exporters.sources.openclip import OpenClipSource

    ctx, d = zs_world
    zs = d["zero_shot"]
    assert [t["key"] for t in zs["tasks"]] == ["zs:shape", "zs:colour"] and zs["without"] == ["pre"]
    assert [m["key"] for m in d["metrics"]][-2:] == ["zs:shape", "zs:colour"]
    ds, models = ctx.world.section("main")
    shape = ds.tasks[0]
    counts = np.bincount(shape.labels, minlength=5)
    assert zs["tasks"][0]["majority"] == round(counts.max() / 100, 4) and zs["tasks"][0]["counts"] == counts.tolist()
    # the class embedding is the normalised mean of the prompts' normalised embeddings, by the model itself
    src = OpenClipSource("ShapesViT-T-32", checkpoint=str(REPO / "models" / "clip.safetensors"))
    model, _, tok = src.load()
    import torch
    with torch.no_grad():
        feats = model.encode_text(tok(shape.flat_prompts())).float().numpy().astype(np.float64)
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    starts = np.cumsum([0] + [len(p) for p in shape.prompts])
    mine = np.stack([feats[a:b].mean(0) for a, b in zip(starts[:-1], starts[1:])])
    mine /= np.linalg.norm(mine, axis=1, keepdims=True)
    theirs = ctx.world.class_embeddings("clip", "shapes100")["shape"]
    assert np.allclose(mine, theirs, atol=1e-5)
    x = models["clip"].blocks["image"]
    by_row = {m["id"]: m for m in d["models"]}
    want = zero_shot_accuracy(x, np.asarray(shape.labels), mine)
    assert by_row["clip"]["curves"]["renormalized"]["zs:shape"][0] == round(want, 4)
    assert by_row["clip"]["curves"]["raw"]["zs:shape"][0] == round(want, 4)     # no shift yet: both variants agree
    assert len(by_row["clip"]["curves"]["raw"]["zs:colour"]) == len(d["fractions"])
    # a model that cannot embed text has no zero-shot curve, and says so rather than show one
    assert by_row["pre"]["curves"]["renormalized"]["zs:shape"] is None
    assert ctx.world.class_embeddings("pre", "shapes100") is None
    # colour is learned by the trained model, not by the untrained one (chance is about 1/6)
    assert by_row["clip"]["curves"]["renormalized"]["zs:colour"][0] > 0.6
    assert by_row["random"]["curves"]["renormalized"]["zs:colour"][0] < 0.4
    out = gc.describe(d, {})
    assert "Zero-shot accuracy (in the metric menu)" in out["caption"]
    pre_row = next(r for r in out["tables"][0]["rows"] if r[0] == "Precomputed")
    assert pre_row[-3:-1] == ["n/a \u2192 n/a", "n/a \u2192 n/a"]


def test_zero_shot_facts_name_the_floor_and_who_beats_it():
    d = _data([("A", 0.5, 0.5, (1.0, 2.0), False), ("B", 0.6, 0.6, (1.0, 2.0), False),
               ("U", 0.1, 0.1, (1.0, 2.0), True)])
    for key, vals in (("zs:colour", [(0.90, 0.91), (0.85, 0.85), (0.18, 0.17)]),
                      ("zs:shape", [(0.20, 0.27), (0.40, 0.39), (0.20, 0.20)])):
        for m, (b, a) in zip(d["models"], vals):
            for v in ("renormalized", "raw"):
                m["curves"][v][key] = [b + (a - b) * i / 10 for i in range(16)]
    d["zero_shot"] = {"without": [], "tasks": [
        {"key": "zs:colour", "name": "colour", "label": "colour", "classes": list("abcdef"),
         "prompts": [["a red x", "a red y"]] + [["p"]] * 5, "majority": 0.21, "counts": []},
        {"key": "zs:shape", "name": "shape", "label": "shape", "classes": list("abcde"),
         "prompts": [["a circle"]] * 5, "majority": 0.27, "counts": []}]}
    f = gc.facts(d)
    colour, shape = f["zero_shot"]
    assert colour["bar"] == round(0.21 + 2 * (0.21 * 0.79 / 100) ** 0.5, 4)
    assert colour["all_beat"] and shape["any_beat"] and not shape["all_beat"] and shape["beaters"] == "B"
    assert (colour["lo_before"], colour["hi_before"], colour["untrained"]["before"]) == (0.85, 0.9, 0.18)
    assert colour["example"] == "a red x" and colour["ensemble"] == 2
    assert f["zs_max_change"]["label"] == "A" and f["zs_max_change"]["size"] == 0.07
    assert f["zs_learned"] == "colour" and f["zs_not_learned"] == "" and not f["zs_contrast"]
    assert colour["name"] == "colour"
    d["models"][1]["curves"]["renormalized"]["zs:shape"] = [0.28] * 16       # B no longer beats 0.27 + 2 se
    f = gc.facts(d)
    assert f["zs_contrast"] and f["zs_not_learned"] == "shape"


# -- the view in a browser ------------------------------------------------------------------------------------
POINT_XY = """([sel, trace, k]) => { const gd = document.querySelector(sel); gd.scrollIntoView({block: "center"});
  const fl = gd._fullLayout, b = gd.getBoundingClientRect(), t = gd.data[trace];
  return [b.left + fl.xaxis._offset + fl.xaxis.l2p(t.x[k]), b.top + fl.yaxis._offset + fl.yaxis.l2p(t.y[k])]; }"""


@pytest.mark.browser
@pytest.mark.skipif(not have_browser(), reason="needs playwright and /usr/bin/chromium")
def test_gapcost_view_in_chromium(tmp_path_factory):
    _, site = synthetic_site(tmp_path_factory.mktemp("browser-synthetic"))
    fig, left, right = "#gapcost-main", "#gapcost-main .fx-gapcost-retrieval", "#gapcost-main .fx-gapcost-loss"
    meta = json.loads((site / "data" / "gapcost-main.json").read_text())
    with serve(site) as base, browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        w = PageWatch(page)
        page.goto(base + "cost/")
        w.wait_figures()
        p = page
        assert p.get_attribute(fig, "data-mounted") == "ready"
        assert p.get_attribute(fig, "data-state") == "x2y@1|renormalized"
        # one line and one pair of marked states (as trained, gap closed) per model, in both panels
        for sel, key in ((left, "x2y@1"), (right, "loss")):
            data = p.evaluate(f"() => document.querySelector('{sel}').data.map(t => [t.x, t.y, t.text || null])")
            assert len(data) == 4
            for k, m in enumerate(meta["models"]):
                line, marks = data[2 * k], data[2 * k + 1]
                assert line[0] == meta["fractions"] and line[1] == m["curves"]["renormalized"][key]
                assert marks[0] == [0.0, 1.0] and marks[2] == ["as trained", "gap closed"]
                assert line[2][0] == "<br>as trained" and line[2][meta["closed"]] == "<br>gap closed"
                assert marks[1] == [line[1][0], line[1][meta["closed"]]]
        # hover a point: model, shift and value
        x, y = p.evaluate(POINT_XY, [left, 2, 5])
        p.mouse.move(x, y)
        p.wait_for_selector(f"{left} .hoverlayer .hovertext")
        tip = p.text_content(f"{left} .hoverlayer .hovertext")
        val = meta["models"][1]["curves"]["renormalized"]["x2y@1"][5]
        assert "Model B" in tip and "shift 0.5" in tip and f"{val:.3f}" in tip, tip
        # the closed state's marker says so
        p.mouse.move(5, 5)
        x, y = p.evaluate(POINT_XY, [left, 1, 1])
        p.mouse.move(x, y)
        p.wait_for_function(f"() => (document.querySelector('{left} .hoverlayer .hovertext') || {{}}).textContent"
                            "?.includes('gap closed')")
        assert "Model A <b>&</b>" in p.text_content(f"{left} .hoverlayer .hovertext")   # the label, as text
        p.screenshot(path="/tmp/gapcost-hover.png", full_page=False)
        # the metric select: another curve, the state and the URL follow
        p.select_option(f"{fig} select", "y2x@5")
        p.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'y2x@5|renormalized'")
        assert p.evaluate(f"() => document.querySelector('{left}').data[0].y") == \
            meta["models"][0]["curves"]["renormalized"]["y2x@5"]
        assert "text\u2192image R@5" in p.evaluate(f"() => document.querySelector('{left}').layout.yaxis.title.text")
        assert "gapcost-main=" in p.url
        # re-normalisation off: the raw curves
        p.get_by_label("Re-normalise onto the sphere after the shift").uncheck()
        p.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'y2x@5|raw'")
        assert p.evaluate(f"() => document.querySelector('{right}').data[0].y") == \
            meta["models"][0]["curves"]["raw"]["loss"]
        p.screenshot(path="/tmp/gapcost-raw.png", full_page=False)
        # the state survives a reload from the URL
        p.goto(p.url)
        PageWatch(p).wait_figures()
        assert p.get_attribute(fig, "data-state") == "y2x@5|raw"
        assert axe_violations(p, context=fig) == []
        assert w.errors == [], w.errors
        page.close()


@pytest.mark.browser
@pytest.mark.skipif(not have_browser(), reason="needs playwright and /usr/bin/chromium")
def test_gapcost_zero_shot_in_chromium(zs_world, tmp_path_factory):
    """The view on the shapes world's data (written over the synthetic site's): the zero-shot metrics are in the
    menu, draw the models that have them, and mark the commonest-class floor."""
    _, d = zs_world
    _, site = synthetic_site(tmp_path_factory.mktemp("browser-zs"))
    (site / "data" / "gapcost-main.json").write_text(dumps(d), encoding="utf-8")
    fig, left = "#gapcost-main", "#gapcost-main .fx-gapcost-retrieval"
    with serve(site) as base, browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 900})
        w = PageWatch(page)
        page.goto(base + "cost/")
        w.wait_figures()
        options = page.evaluate(f"() => [...document.querySelectorAll('{fig} select option')].map(o => o.value)")
        assert options[-2:] == ["zs:shape", "zs:colour"]
        page.select_option(f"{fig} select", "zs:colour")
        page.wait_for_function(f"() => document.querySelector('{fig}').dataset.state === 'zs:colour|renormalized'")
        ys = page.evaluate(f"() => document.querySelector('{left}').data.filter((t, k) => k % 2 === 0).map(t => t.y)")
        with_zs = [m for m in d["models"] if m["curves"]["renormalized"]["zs:colour"] is not None]
        assert ys == [m["curves"]["renormalized"]["zs:colour"] for m in with_zs] and len(with_zs) == 2
        floor = d["zero_shot"]["tasks"][1]["majority"]
        shapes = page.evaluate(f"() => document.querySelector('{left}').layout.shapes.map(s => [s.y0, s.y1, s.xref])")
        assert [floor, floor, "paper"] in shapes
        notes = page.evaluate(f"() => [...document.querySelectorAll('{left} .annotation-text')].map(a => a.textContent)")
        assert "always the commonest class" in notes, notes
        x, y = page.evaluate(POINT_XY, [left, 0, 3])
        page.mouse.move(x, y)
        page.wait_for_selector(f"{left} .hoverlayer .hovertext")
        tip = page.text_content(f"{left} .hoverlayer .hovertext")
        assert "Ours: CLIP" in tip and "zero-shot: colour (6 classes)" in tip, tip
        page.screenshot(path="/tmp/gapcost-zero-shot.png", full_page=False)
        assert axe_violations(page, context=fig) == []
        assert w.errors == [], w.errors
        page.close()
