"""The measures table (exporters/analysis/measures.py) and `inspect --measures` on the real models' copy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from exporters.analysis import geometry as geo
from exporters.analysis.measures import format_measures, model_measures
from exporters.analysis.metrics import gap_metrics
from exporters.cli import main
from test_geometry import gapped, rotation

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "configs" / "default.toml"


def test_measures_agree_with_their_functions_and_flag_coordinates():
    rng = np.random.default_rng(2)
    x, y = gapped(rng, 40, 8)
    m = model_measures(x, y, 100.0, coordinates=True, batch_size=20, projections=("PCA",))
    assert m["geometry"]["rmg"] == geo.relative_modality_gap(x, y)
    assert m["where"]["top_dimension"] == geo.dimension_gap(x, y)["dimension"][0]
    assert m["where"]["ablated"] == 7                                        # 8 dimensions: at most 7 dropped
    assert m["where"]["distance_ablated"] == geo.ablate_gap_dimensions(x, y, [7])["distance"][0]
    ref = gap_metrics(x, y, 100.0, 20)
    assert m["cost"]["closed"]["x2y@1"] == ref["closed"]["x2y@1"]
    assert m["cost"]["original"]["infonce"] == pytest.approx(ref["original"]["infonce"])
    q = rotation(rng, 8)
    r = model_measures(x @ q, y @ q, 100.0, coordinates=False, batch_size=20, projections=("PCA",))
    assert all(v is None for v in r["where"].values())                     # not defined, not a number
    for block in ("geometry", "quadrants"):
        for k, v in m[block].items():
            assert r[block][k] == pytest.approx(v, rel=1e-9, abs=1e-12), k
    assert r["honesty"]["PCA"]["knn_recall"] == pytest.approx(m["honesty"]["PCA"]["knn_recall"])
    table = format_measures({"a": m, "b": r})
    assert "n/def" in table and "PCA exag" in table and table.count("\nb ") == 5


def test_inspect_measures_on_the_real_copy(tmp_path, capsys):
    args = ["inspect", "--config", str(DEFAULT), "--cache", str(tmp_path), "--model", "CLIP", "--model", "CyCLIP",
            "--measures", "--projections", "none"]
    assert main([*args, "--json"]) == 0
    raw = capsys.readouterr().out
    assert main([*args, "--json"]) == 0
    assert capsys.readouterr().out == raw                      # same inputs, byte-identical output
    out = json.loads(raw)
    clip = out["models"]["CLIP"]
    assert clip["coordinates"] is False and clip["where"]["top_dimension"] is None   # recovered from a matrix
    assert clip["honesty"] == {}
    assert main(["inspect", "--config", str(DEFAULT), "--cache", str(tmp_path), "--model", "CLIP", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)["models"]["CLIP"]
    for state, tag in (("original", "original"), ("closed", "closed")):
        assert clip["cost"][tag]["x2y@1"] == plain[state]["x2y@1"]
        assert clip["cost"][tag]["distance"] == pytest.approx(plain[state]["distance"])
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "CyCLIP" in text and "n/def" in text and "Honest projections" not in text


@pytest.mark.parametrize("extra, message", [
    (["--projections", "PCA"], "--projections only applies to --measures"),
    (["--measures", "--projections", "MDS"], "unknown projection 'MDS'"),
    (["--section", "nope"], "unknown section 'nope'"),
    (["--section", "augmentations"], "holds several datasets; name one with --dataset"),
])
def test_inspect_measures_refuses_bad_options(tmp_path, capsys, extra, message):
    assert main(["inspect", "--config", str(DEFAULT), "--cache", str(tmp_path), "--model", "CLIP", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
