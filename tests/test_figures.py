"""Figure exporters: encodings, every registered figure on a synthetic world, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from browser_support import HOSTILE, write_synthetic
from exporters.cache import cache_root
from exporters.config import load_config
from exporters.figures import FIGURES, REGISTRY
from exporters.figures._common import dequantize, quantize, unit_box
from exporters.site import export, export_world
from exporters.world import World


def test_quantize_error_bound():
    rng = np.random.default_rng(0)
    m = rng.uniform(-0.3, 1.0, size=(50, 50))
    q = quantize(m)
    back = dequantize(q)
    assert np.abs(back - m).max() <= q["scale"] / 2 + 1e-12
    assert q["error"] == pytest.approx(q["scale"] / 2, rel=1e-3)
    assert len(q["b64"]) <= 4 * 50 * 50 / 3 + 4   # one byte per cell, base64


def test_unit_box_range_and_precision():
    p = unit_box(np.array([[0.0, 10.0], [2.0, 20.0], [4.0, 15.0]]))
    assert min(p["x"]) == -1 and max(p["x"]) == 1 and max(p["y"]) == 1
    assert all(round(v, 3) == v for v in p["x"] + p["y"])


@pytest.fixture(scope="module")
def synthetic_cfg(tmp_path_factory) -> Path:
    return write_synthetic(tmp_path_factory.mktemp("synthetic-fig"))


def test_every_registered_figure_builds(synthetic_cfg, tmp_path):
    from exporters.figures._common import FigureContext

    world = World(load_config(synthetic_cfg), work_dir=cache_root())
    ctx = FigureContext(world, tmp_path, cache_root(), dict(world.config.options))
    assert [m.ID for m in REGISTRY] == list(FIGURES)
    for fid, mod in FIGURES.items():
        data = mod.build(ctx)
        if fid == "large":
            assert data is None          # no large section in this config: the page shows a note
            continue
        assert data is not None, fid
        blob = json.dumps(data)
        assert len(blob) < 200_000, f"{fid} index too big"
        assert (tmp_path / "assets").exists() is False  # figures write data only


def test_explorer_payload_contents(synthetic_cfg, tmp_path):
    from exporters.figures._common import FigureContext

    world = World(load_config(synthetic_cfg), work_dir=cache_root())
    ctx = FigureContext(world, tmp_path, cache_root(), dict(world.config.options))
    d = FIGURES["explorer"].build(ctx, section="main")
    assert d["n"] == 24 and d["states"] == ["open", "closed"] and d["projections"] == ["PCA", "TSNE"]
    model = json.loads((tmp_path / d["models"][0]["src"]).read_text())
    sim = dequantize(model["states"]["open"]["sim"])
    assert sim.shape == (48, 48)
    assert np.allclose(np.diag(sim), 1.0, atol=model["states"]["open"]["sim"]["error"] + 1e-9)
    # closing the gap shrinks the modality distance
    mo, mc = d["models"][0]["metrics"]["open"], d["models"][0]["metrics"]["closed"]
    assert mc["distance"] < mo["distance"] / 5
    items = json.loads((tmp_path / d["items"]).read_text())
    assert items["modalities"][1]["items"][:len(HOSTILE)] == HOSTILE   # captions kept verbatim as data
    sub = FIGURES["explorer"].build(ctx, section="subset")
    assert 3 <= sub["n"] < 24                                         # filtered by "dog"


def test_export_is_byte_identical(synthetic_cfg, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    export(synthetic_cfg, a)
    export(synthetic_cfg, b)
    fa = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    fb = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert fa == fb and len(fa) > 50
    diff = [str(p) for p in fa if (a / p).read_bytes() != (b / p).read_bytes()]
    assert diff == []


def test_absent_sections_become_notes(tmp_path):
    cfg_src = write_synthetic(tmp_path / "d")
    text = cfg_src.read_text().split("[sections.subset]")[0]
    cfg = tmp_path / "d" / "only_main.toml"
    cfg.write_text(text)
    out = export_world(World(load_config(cfg), work_dir=cache_root()), tmp_path / "docs", cache_root())
    aug = (tmp_path / "docs" / "augmentations.md").read_text()
    assert 'data-absent="augmentations"' in aug and 'data-figure=' not in aug
    assert 'data-absent="explorer"' in (tmp_path / "docs" / "modalities.md").read_text()
    assert out["figures"]
