"""The facts the pages' prose states or branches on, computed in Python (issue 10: "the page templates only
interpolate them and branch on booleans").

- Each figure module's `facts(data)` (explorer, landscape, inmodal, large) and each page's `facts(pages)`
  (exporters/pages/*.py) on the synthetic world of tests/browser_support.py, and on constructed data where a
  branch needs a case the synthetic world does not have (trained models, a flat loss, ties).
- A check that the page templates compute nothing (`test_page_templates_compute_nothing`, rules below).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from browser_support import write_synthetic
from exporters.cache import cache_root
from exporters.config import load_config
from exporters.figures import FIGURES, _prose
from exporters.figures._context import FigureContext
from exporters.pages import data as data_page
from exporters.pages import gap as gap_page
from exporters.pages import index as index_page
from exporters.pages import large as large_page
from exporters.pages import modalities as modalities_page
from exporters.pages import world as world_page
from exporters.site import _env, _Pages
from exporters.world import World

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "article" / "pages"


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The real page globals (site._Pages) on the synthetic world, PCA only (fast)."""
    root = tmp_path_factory.mktemp("facts")
    world = World(load_config(write_synthetic(root / "world")), work_dir=cache_root())
    ctx = FigureContext(world, root / "out", cache_root(), {**world.config.options, "projections": ["PCA"]})
    return _Pages(ctx, _env())


def _fresh(pages, **figures) -> _Pages:
    """A page-globals object on the same world whose figures are the given data ({"explorer:world": data})."""
    p = _Pages(pages.ctx, pages.env)
    p.cache = dict(pages.cache)
    for key, value in figures.items():
        fid, section = key.split(":")
        p.cache[(fid, None if section == "-" else section)] = value
    return p


# -- constructed data -------------------------------------------------------------------------------------

def _metrics(distance, sim_in=(0.5, 0.5), cross=0.1, pair=0.3, r1=(0.5, 0.5), loss=1.0, split=0.95,
             same=(0.95, 0.95)):
    return {"distance": distance, "loss": loss, "r1": list(r1), "sim_in": list(sim_in), "sim_cross": cross,
            "sim_pair": pair, "pairs": {"image_text": {"distance": distance}},
            "pc1": {"share": 0.4, "split": split},
            "knn_same": {m: {"k": 10, "same": s, "chance": 0.48} for m, s in zip(("PCA", "TSNE"), same)}}


def _model(mid, distance, training=None, scale=30.0, bounds=None, closed=None, **kw):
    open_ = _metrics(distance, **kw)
    return {"id": mid, "label": f"Model {mid}", "logit_scale": scale, "loss_bounds": bounds, "training": training,
            "metrics": {"open": open_, "closed": closed if closed is not None else _metrics(distance / 10)}}


def _section(models, section="main", n=20):
    return {"section": section, "dataset": "ds", "n": n, "batch_size": 10, "projections": ["PCA", "TSNE"],
            "modalities": [{"name": "image", "label": "Image"}, {"name": "text", "label": "Text"}],
            "models": models, "max_abs_error": 0.0021}


def _record(objective, steps=300, beta=None, eval_r1=None):
    return {"objective": objective, "steps": steps, "batch_size": 32, "train_pairs": 1000, "temperature": "fixed",
            "scale": 14.29, "hopfield_beta": beta, "notes": f"{objective} notes", "eval_pairs": 100,
            "eval_r1": eval_r1, "eval_chance_r1": 0.01}


# -- _prose ----------------------------------------------------------------------------------------------

def test_flat_loss_only_at_logit_scale_one_or_below():
    bounds = {"batch": 50, "floor": 3.07, "uniform": 3.912}
    f = _prose.flat_loss("M", 1.0, bounds, 3.9)
    assert f == {"label": "M", "scale": 1.0, "spread": 2.0, "batch": 50, "floor": 3.07, "uniform": 3.912,
                 "loss": 3.9}
    assert _prose.flat_loss("M", 0.5, bounds, 3.9)["spread"] == 1.0
    assert _prose.flat_loss("M", 1.5, bounds, 3.9) is None
    assert _prose.flat_loss("M", 1.0, None, 3.9) is None and _prose.flat_loss("M", None, bounds, 3.9) is None


def test_mixing_names_projections_and_finds_islands():
    knn = {"PCA": {"k": 10, "same": 0.95, "chance": 0.49}, "TSNE": {"k": 10, "same": 0.6, "chance": 0.49}}
    s = _prose.mixing_summary(knn)
    assert s["views"] == [{"name": "PCA", "same": 0.95}, {"name": "t-SNE", "same": 0.6}]
    assert (s["k"], s["chance"], s["islands_all"], s["islands_some"]) == (10, 0.49, False, True)
    knn["TSNE"]["same"] = 0.9
    assert _prose.mixing_summary(knn)["islands_all"]
    knn["PCA"]["same"] = knn["TSNE"]["same"] = 0.5
    s = _prose.mixing_summary(knn)
    assert not s["islands_all"] and not s["islands_some"]
    assert _prose.mixing_summary(None)["views"] == [] and not _prose.mixing_summary({})["islands_all"]


def test_exceeds_all_needs_others():
    assert _prose.exceeds_all(0.8, [0.5, 0.7]) and not _prose.exceeds_all(0.6, [0.5, 0.7])
    assert not _prose.exceeds_all(0.8, []) and not _prose.exceeds_all(None, [0.1])
    assert _prose.pair_name("image_text") == "image–text" and _prose.projection_name("UMAP") == "UMAP"


# -- explorer.facts -------------------------------------------------------------------------------------

def test_explorer_facts_on_the_synthetic_world(pages):
    data = pages.data("explorer", "main")
    f = FIGURES["explorer"].facts(data)
    dist = {m["id"]: m["metrics"]["open"]["distance"] for m in data["models"]}
    # ModelA was made with the wider gap (browser_support.write_synthetic): smallest first
    assert dist["ModelA"] > dist["ModelB"]
    assert [m["id"] for m in f["by_distance"]] == ["ModelB", "ModelA"]
    assert f["smallest"]["id"] == "ModelB" and f["largest"]["id"] == "ModelA" and f["first"]["id"] == "ModelA"
    assert f["chance_r1"] == 1 / 24 and f["n"] == 24 and f["modalities"] == ["Image", "Text"]
    assert f["model_count"] == 2 and f["several_models"] and f["projections"] == ["PCA"]
    # reference models: none of them trained by this project
    assert f["ours"] == [] and not f["all_ours"] and f["untrained_model"] is None
    assert not f["untrained_above_others"]
    a = f["by_id"]["ModelA"]
    o = data["models"][0]["metrics"]["open"]
    assert a["gap_bright"] == (min(o["sim_in"]) > o["sim_pair"])
    assert a["pc1"]["is_gap"] == (o["pc1"]["split"] >= 0.9)
    assert [v["name"] for v in a["mixing"]["open"]["views"]] == ["PCA"]
    assert a["flat_loss"] is None                              # logit scale 50
    assert a["pairs"] == [{"name": "image–text", "distance": dist["ModelA"]}]
    # the largest quantisation error of the section's matrices, as exported beside them
    assert 0 < f["max_abs_error"] < 0.01


def test_max_abs_error_is_the_largest_of_the_matrices(pages):
    import json

    data = pages.data("explorer", "main")
    errs = []
    for m in data["models"]:
        for url in m["states"].values():
            errs.append(json.loads((pages.ctx.out_dir / url).read_text())["sim"]["max_abs_error"])
    assert data["max_abs_error"] == max(errs) and len(errs) == 4


def test_quadrant_booleans_both_ways():
    f = FIGURES["explorer"].facts(_section([
        _model("bright", 0.8, sim_in=(0.5, 0.6), cross=0.1, pair=0.4),
        _model("dim", 0.3, sim_in=(0.5, 0.6), cross=0.1, pair=0.7),
        _model("flat", 0.2, sim_in=(0.1, 0.6), cross=0.2, pair=0.7)]))
    m = f["by_id"]
    assert m["bright"]["gap_bright"] and m["bright"]["inmodal_brighter"]
    assert not m["dim"]["gap_bright"] and m["dim"]["inmodal_brighter"]
    assert not m["flat"]["gap_bright"] and not m["flat"]["inmodal_brighter"]


def test_pc1_and_closing_booleans_both_ways():
    f = FIGURES["explorer"].facts(_section([
        _model("gap", 0.8, split=0.9, closed=_metrics(0.1, loss=0.5, pair=0.95, r1=(0.5, 0.5))),
        _model("partly", 0.5, split=0.7, closed=_metrics(0.1, loss=1.5, pair=0.5, r1=(0.4, 0.5))),
        _model("none", 0.4, split=0.69)]))
    m = f["by_id"]
    assert m["gap"]["pc1"]["is_gap"] and not m["gap"]["pc1"]["partly"]
    assert m["partly"]["pc1"]["partly"] and not m["partly"]["pc1"]["is_gap"]
    assert not m["none"]["pc1"]["partly"] and not m["none"]["pc1"]["is_gap"]
    assert m["gap"]["closed_loss_lower"] and not m["partly"]["closed_loss_lower"]
    assert not m["gap"]["pairs_apart"] and m["partly"]["pairs_apart"]
    assert not m["gap"]["r1_changed"] and m["partly"]["r1_changed"]


def test_trained_untrained_and_ties():
    f = FIGURES["explorer"].facts(_section([
        _model("ref", 0.9),
        _model("random", 0.7, training=_record(None, steps=0)),
        _model("clip", 0.5, training=_record("clip")),
        _model("cloob", 0.5, training=_record("cloob", beta=4.0))]))
    assert [m["id"] for m in f["ours"]] == ["random", "clip", "cloob"] and not f["all_ours"]
    assert [m["id"] for m in f["trained"]] == ["clip", "cloob"] and f["untrained_model"]["id"] == "random"
    assert f["trained_training"]["objective"] == "clip"
    assert [m["id"] for m in f["by_distance"]] == ["clip", "cloob", "random", "ref"]   # a tie keeps the order
    assert f["by_id"]["cloob"]["hopfield"] and not f["by_id"]["clip"]["hopfield"]
    assert f["by_id"]["random"]["untrained"] and not f["by_id"]["random"]["trained"]
    # above every trained model, not above the reference model
    assert f["untrained_above_trained"] and not f["untrained_above_others"] and f["trained_max_distance"] == 0.5
    g = FIGURES["explorer"].facts(_section([_model("random", 0.7, training=_record(None, steps=0)),
                                            _model("clip", 0.5, training=_record("clip"))]))
    assert g["untrained_above_others"] and g["all_ours"]


# -- landscape.facts, inmodal.facts ---------------------------------------------------------------------

def _land_row(mid, diff, scale=30.0, bounds=None):
    return {"id": mid, "label": f"Model {mid}", "logit_scale": scale, "loss_bounds": bounds,
            "original_loss": 2.0, "loss_difference": diff}


def test_landscape_facts_rank_and_leave_out_flat_losses():
    bounds = {"batch": 50, "floor": 3.07, "uniform": 3.912}
    f = FIGURES["landscape"].facts({"n": 100, "models": [
        _land_row("a", 0.2), _land_row("b", -0.1), _land_row("c", 0.5), _land_row("d", -0.3),
        _land_row("flat", 0.4, scale=1.0, bounds=bounds), {"id": "x", "label": "X", "logit_scale": None}]})
    assert [m["id"] for m in f["dearer"]] == ["c", "a"] and [m["id"] for m in f["cheaper"]] == ["d", "b"]
    assert f["raises"] == ["Model a", "Model c"] and f["lowers"] == ["Model b", "Model d"]
    assert [x["label"] for x in f["flat"]] == ["Model flat"] and f["flat"][0]["spread"] == 2.0
    assert f["evaluated"] and not f["one_dearer"] and sorted(f["by_id"]) == ["a", "b", "c", "d", "flat"]
    g = FIGURES["landscape"].facts({"n": 100, "models": [_land_row("a", 0.2), _land_row("b", 0.0)]})
    assert g["one_dearer"] and g["cheaper"] == [] and g["flat"] == []
    assert not FIGURES["landscape"].facts({"n": 3, "models": [{"id": "x", "label": "X", "logit_scale": None}]})[
        "evaluated"]


def test_landscape_and_inmodal_facts_on_the_synthetic_world(pages):
    land = pages.data("landscape", "main")
    f = FIGURES["landscape"].facts(land)
    diffs = {m["id"]: m["loss_difference"] for m in land["models"]}
    assert [m["id"] for m in f["cheaper"]] == sorted((k for k, v in diffs.items() if v < 0), key=diffs.get)
    assert [m["id"] for m in f["dearer"]] == sorted((k for k, v in diffs.items() if v > 0), key=diffs.get,
                                                    reverse=True)
    assert f["flat"] == [] and f["n"] == 24                 # logit scales 50 and 30
    inm = pages.data("inmodal", "main")
    g = FIGURES["inmodal"].facts(inm)
    means = [m["mean_abs"] for m in g["by_symmetry"]]
    assert means == sorted(means) and g["most_symmetric"]["mean_abs"] == min(m["mean_abs"] for m in inm["models"])
    assert g["least_symmetric"]["mean_abs"] == max(means) and set(g["by_id"]) == {"ModelA", "ModelB"}


# -- pages ----------------------------------------------------------------------------------------------

def test_index_facts(pages):
    f = index_page.facts(_fresh(pages))
    assert f["first"]["id"] == "ModelA" and f["caption"] == "The first model of this build, Model A <b>&</b>."
    # the first model has the largest gap: no second sentence about the largest
    assert f["largest"]["id"] == "ModelA" and not f["show_largest"]
    m = [_model("small", 0.2, sim_in=(0.5, 0.6), pair=0.7), _model("big", 0.9, sim_in=(0.5, 0.6), pair=0.4)]
    assert index_page.facts(_fresh(pages, **{"explorer:main": _section(m)}))["show_largest"]
    m[1]["metrics"]["open"]["sim_pair"] = 0.8             # largest, but its quadrants do not show the gap
    assert not index_page.facts(_fresh(pages, **{"explorer:main": _section(m)}))["show_largest"]


def test_gap_facts_symmetry_against_distance_and_loss(pages):
    f = gap_page.facts(_fresh(pages))
    s = f["symmetry"]
    assert s["most"]["id"] == FIGURES["inmodal"].facts(pages.data("inmodal", "main"))["most_symmetric"]["id"]
    assert s["distance"] == f["main"]["by_id"][s["most"]["id"]]["distance"]
    assert s["not_smallest"] == (s["most"]["id"] != "ModelB")      # ModelB has the smallest gap
    assert s["has_loss"] and s["loss_lower"] == (s["loss_difference"] < 0)
    main = _section([_model("A", 0.8), _model("B", 0.3)])
    inm = {"models": [{"id": "A", "label": "Model A", "mean_abs": 0.01}, {"id": "B", "label": "Model B",
                                                                           "mean_abs": 0.05}]}
    land = {"n": 20, "models": [_land_row("A", 0.1), {"id": "B", "label": "B", "logit_scale": None}]}
    s = gap_page.facts(_fresh(pages, **{"explorer:main": main, "inmodal:main": inm, "landscape:main": land}))[
        "symmetry"]
    assert s["most"]["id"] == "A" and s["least"]["id"] == "B" and s["not_smallest"]
    assert s["smallest"]["id"] == "B" and s["has_loss"] and not s["loss_lower"] and s["loss_difference"] == 0.1
    inm["models"][0]["mean_abs"] = 0.09          # now B is the most symmetric: smallest gap, no loss row
    s = gap_page.facts(_fresh(pages, **{"explorer:main": main, "inmodal:main": inm, "landscape:main": land}))[
        "symmetry"]
    assert s["most"]["id"] == "B" and not s["not_smallest"] and not s["has_loss"] and not s["loss_lower"]


def test_modalities_facts(pages):
    f = modalities_page.facts(_fresh(pages))
    assert f["triplet"]["modality_count"] == 3 and len(f["triplet"]["models"][0]["pairs"]) == 3
    assert all("–" in p["name"] for p in f["triplet"]["models"][0]["pairs"])
    c = f["compare"]
    main_d = [m["metrics"]["open"]["distance"] for m in pages.data("explorer", "main")["models"]]
    mol_d = [m["metrics"]["open"]["distance"] for m in pages.data("explorer", "molecules")["models"]]
    assert c["main_max"] == max(main_d) and c["molecules_max"] == max(mol_d)
    assert c["smaller"] == (max(mol_d) < max(main_d))
    mol = _section([_model("M", 5.0)], section="molecules")
    assert not modalities_page.facts(_fresh(pages, **{"explorer:molecules": mol}))["compare"]["smaller"]
    mol["models"][0]["metrics"]["open"]["distance"] = 0.01
    assert modalities_page.facts(_fresh(pages, **{"explorer:molecules": mol}))["compare"]["smaller"]


def test_world_facts_absent_and_constructed(pages, monkeypatch):
    assert world_page.facts(_fresh(pages)) == {"world": None}       # the synthetic world has no world section
    models = [_model("clip", 0.6, training=_record("clip", eval_r1=[0.31, 0.3])),
              _model("cyclip", 0.7, training=_record("cyclip")),
              _model("loob", 0.4, training=_record("infoloob")),
              _model("cloob", 0.8, training=_record("cloob", beta=4.0, eval_r1=[0.05, 0.04])),
              _model("random", 0.9, training=_record(None, steps=0))]
    inm = {"models": [{"id": "clip", "label": "Model clip", "mean_abs": 0.04},
                      {"id": "cyclip", "label": "Model cyclip", "mean_abs": 0.01}]}
    land = {"n": 100, "models": [_land_row("clip", 0.2), _land_row("cloob", -0.1)]}
    monkeypatch.setitem(pages.ctx.world.config.sections, "world", {"models": [m["id"] for m in models]})
    p = _fresh(pages, **{"explorer:world": _section(models, "world"), "inmodal:world": inm,
                         "landscape:world": land})
    f = world_page.facts(p)
    assert f["untrained"]["id"] == "random" and [m["id"] for m in f["trained"]] == ["clip", "cyclip", "loob", "cloob"]
    assert f["caption"] == "Our models on 20 shapes pairs; the first shown is the untrained one."
    c = f["clip_loob"]
    assert [m["id"] for m in c["loobs"]] == ["loob", "cloob"] and c["clip"]["id"] == "clip"
    assert c["some_smaller"] and not c["all_smaller"] and c["not_all_smaller"]
    u = c["undertrained"]
    assert len(u) == 1 and u[0]["label"] == "Model cloob" and u[0]["hopfield_beta"] == 4.0
    assert u[0]["evaluated"] and u[0]["r1_percent"] == 5.0 and u[0]["chance_percent"] == 1.0
    assert c["clip_evaluated"] and c["clip_r1_percent"] == 31.0
    s = f["symmetry"]
    assert s["more_symmetric"] and s["ratio"] == pytest.approx(4.0) and s["gap_larger"]
    assert (s["cyclip_distance"], s["clip_distance"]) == (0.7, 0.6)
    assert f["landscape"]["raises"] == ["Model clip"] and f["landscape"]["lowers"] == ["Model cloob"]
    # the other branches: every InfoLOOB model's gap smaller than CLIP's, CyCLIP less symmetric, β as in the paper
    models2 = copy.deepcopy(models)
    models2[3]["metrics"]["open"]["distance"] = 0.3
    models2[3]["training"]["hopfield_beta"] = 8
    inm2 = copy.deepcopy(inm)
    inm2["models"][1]["mean_abs"] = 0.08
    p2 = _fresh(pages, **{"explorer:world": _section(models2, "world"), "inmodal:world": inm2,
                          "landscape:world": land})
    f2 = world_page.facts(p2)
    assert f2["clip_loob"]["all_smaller"] and not f2["clip_loob"]["not_all_smaller"]
    assert f2["clip_loob"]["undertrained"] == []
    assert not f2["symmetry"]["more_symmetric"] and f2["symmetry"]["ratio"] == pytest.approx(2.0)
    # no CLIP among the trained models: neither comparison
    p3 = _fresh(pages, **{"explorer:world": _section(models[1:], "world"), "inmodal:world": inm,
                          "landscape:world": land})
    f3 = world_page.facts(p3)
    assert f3["clip_loob"] is None and f3["symmetry"] is None


def test_large_facts(pages, monkeypatch):
    assert large_page.facts(_fresh(pages)) == {"large": None, "only_world": False}   # no large section
    large = {"n": 5000, "dataset": "shapes", "models": [{"id": "clip", "label": "CLIP"}], "heatmap": {"cells": 10}}
    p = _fresh(pages, **{"large:-": large})
    f = large_page.facts(p)
    assert f["large"]["labels"] == ["CLIP"] and f["large"]["heatmap"] == {"cells": 10}
    assert not f["only_world"]                       # this world has no world section: clip is not of it
    monkeypatch.setitem(pages.ctx.world.config.sections, "world", {"models": ["clip", "cyclip"]})
    assert large_page.facts(p)["only_world"]
    large["models"].append({"id": "CLIP_real", "label": "CLIP (RN50)"})
    assert not large_page.facts(_fresh(pages, **{"large:-": large}))["only_world"]


def test_data_facts(pages):
    f = data_page.facts(_fresh(pages))
    assert f["main"]["max_abs_error"] == pages.data("explorer", "main")["max_abs_error"]
    assert f["copies"] is None                         # the synthetic world reads no reference copy


# -- templates compute nothing ---------------------------------------------------------------------------
#
# In every Jinja tag ({{ ... }} and {% ... %}; comments {# #} are not code) of a page template, after string
# literals are removed and whitespace control (`{%-`, `-%}`) is taken off: no sort, selectattr, rejectattr,
# `.update(`, |max, |min, |sum, |map( (the list work belongs in a facts() function), and no arithmetic or
# string-building operator (+ - * / % ~). Comparisons are not looked for here; the templates branch on the
# booleans facts() computes. Every page template is checked, and templates/_macros.html.j2's prose macros.

TAG = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}", re.S)
STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
FORBIDDEN = re.compile(r"\bsort\b|\bselectattr\b|\brejectattr\b|\.update\(|\|\s*(?:max|min|sum)\b|\|\s*map\s*\("
                       r"|[-+*/%~]")
CHECKED = sorted(PAGES.glob("*.md.j2")) + [ROOT / "templates" / "_macros.html.j2"]


def computations(text: str) -> list[str]:
    """The tags of a template that compute (see the rule above)."""
    found = []
    for m in TAG.finditer(re.sub(r"\{#.*?#\}", "", text, flags=re.S)):
        code = STRING.sub('""', (m.group(1) if m.group(1) is not None else m.group(2)).strip("-+ \n\t"))
        if FORBIDDEN.search(code):
            found.append(m.group(0))
    return found


def test_the_computation_check_finds_computation():
    assert computations('{{ (1 / main.n)|pct }}') and computations("{% set a = b|sort(attribute='x') %}")
    assert computations('{{ "x" ~ label }}') and computations("{% set m = xs|map(attribute='d')|max %}")
    assert computations("{% set _ = d.update({1: 2}) %}") and computations("{{ a - b }}")
    assert computations("{% set t = ms|selectattr('training')|list %}") and computations("{{ xs|min }}")
    assert not computations('{{ figure("explorer", "main", caption="t-SNE / UMAP ~ 5%") }}')
    assert not computations("{%- if F.show_largest -%}{# a - b #}{{ m.distance|fmt(3) }}{% endif %}")
    assert not computations("{% for m in main.by_distance %}{{ m.label }}{% if not loop.last %}; {% endif %}{% endfor %}")


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.name)
def test_page_templates_compute_nothing(path):
    assert computations(path.read_text(encoding="utf-8")) == []
