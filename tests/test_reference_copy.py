"""The repository's compact copy of the seed article's exported data (data/seed-article).

Without ../shared: the copy is complete, traceable (every file's sha256 in SOURCES.json), within its
byte budget, licensed, and its stated precision is within what the article may quote. With ../shared
(always in CI): the copy reproduces the original matrices within the stated bound, the numbers the
article quotes within 1e-6, and the derive command regenerates it byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, need_reference
from exporters.analysis import gap, losses
from exporters.reference_copy import DATASETS, MAX_QUOTED_ERROR, SIMILARITY_BOUND, CopiedSimilarities
from exporters.sources.reference import copy_dataset, copy_embeddings, load_similarity_csv, reference_embeddings

COPY = ROOT / "data" / "seed-article"
BUDGET = 15 * 1024 * 1024


def _sources() -> dict:
    return json.loads((COPY / "SOURCES.json").read_text(encoding="utf-8"))


def test_every_file_is_listed_with_its_checksum_and_origin():
    rec = _sources()
    on_disk = {p.relative_to(COPY).as_posix() for p in COPY.rglob("*") if p.is_file()} - {"SOURCES.json", "NOTICE.md"}
    assert on_disk == set(rec["files"]), on_disk ^ set(rec["files"])
    for rel, meta in rec["files"].items():
        data = (COPY / rel).read_bytes()
        assert hashlib.sha256(data).hexdigest() == meta["sha256"], rel
        assert len(data) == meta["bytes"]
        assert meta["from"] and all(len(h) == 64 for h in meta["from"].values()), rel
    assert rec["source"]["repository"] == "https://github.com/journalovi/2024-humer-amumo"


def test_copy_fits_the_budget_and_states_its_precision():
    total = sum(p.stat().st_size for p in COPY.rglob("*") if p.is_file())
    assert total <= BUDGET, f"{total:,} bytes > {BUDGET:,}"
    prec = _sources()["precision"]
    assert prec["measured_max"]["distance"] <= MAX_QUOTED_ERROR
    assert prec["measured_max"]["loss"] <= MAX_QUOTED_ERROR
    assert prec["measured_max"]["similarity"] <= SIMILARITY_BOUND


def test_notice_has_the_licence_and_attributions():
    text = " ".join((COPY / "NOTICE.md").read_text(encoding="utf-8").split())
    for needle in ("MIT License", "Copyright (c) 2024 Christina Humer", "MS-COCO", "Creative Commons Attribution 4.0",
                   "Flickr", "AudioSet", "Cell Painting", "CLOOME"):
        assert needle in text, needle


def test_copied_folders_read_as_datasets_and_embeddings():
    for name in DATASETS:
        ds = copy_dataset(COPY / name)
        assert len(ds) == 100
        for model in CopiedSimilarities(COPY / name).models():
            emb = copy_embeddings(COPY / name, model, ds)
            for block in emb.blocks.values():
                assert block.shape[0] == 100
                assert np.allclose(np.linalg.norm(block, axis=1), 1.0, atol=1e-12)
    tri = copy_dataset(COPY / "Triplet_size-100")
    assert tri.names == ["image", "text", "audio"]
    assert all(p.endswith(".mp3") and Path(p).stat().st_size > 1000 for p in tri.modality("audio").items)
    head = Path(tri.modality("audio").items[0]).read_bytes()[:3]
    assert head == b"ID3" or (head[0] == 0xFF and head[1] & 0xE0 == 0xE0)  # ID3 tag or an MPEG frame sync


def test_copy_gives_the_documented_distances_without_shared():
    # README of the reference set / issue: real CLIP's modality distance on the 100 COCO pairs is 0.8135
    emb = copy_embeddings(COPY / "MSCOCO-Val_size-100", "CLIP")
    assert abs(gap.modality_distance(*emb.pair()) - 0.8135) < 5e-5


# -- against the originals ---------------------------------------------------------------------------
@pytest.mark.reference
@pytest.mark.parametrize("name", DATASETS)
def test_copy_reproduces_the_original_matrices(name):
    root = need_reference() / name
    rec = _sources()
    sims = CopiedSimilarities(COPY / name)
    ds = copy_dataset(COPY / name)
    for model in sims.models():
        csv = root / "similarities" / f"{model}.csv"
        assert hashlib.sha256(csv.read_bytes()).hexdigest() == rec["files"][f"{name}/similarities.npz"]["from"][
            f"{name}/similarities/{model}.csv"]
        original = load_similarity_csv(csv)
        copy = sims.matrix(model)
        assert np.abs(original - copy).max() <= SIMILARITY_BOUND * 1.0000001
        eo = reference_embeddings(root, model)
        ec = copy_embeddings(COPY / name, model, ds)
        names = eo.names
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                d_err = abs(gap.modality_distance(eo.blocks[a], eo.blocks[b]) -
                            gap.modality_distance(ec.blocks[a], ec.blocks[b]))
                assert d_err <= MAX_QUOTED_ERROR
                if eo.logit_scale is not None:
                    for f in (losses.infonce, losses.reference_loss):
                        l_err = abs(f(eo.blocks[a], eo.blocks[b], eo.logit_scale, 50) -
                                    f(ec.blocks[a], ec.blocks[b], ec.logit_scale, 50))
                        assert l_err <= MAX_QUOTED_ERROR, (model, f.__name__, l_err)
        nogap_csv = root / "similarities" / f"{model}_nogap.csv"
        if nogap_csv.exists():
            xc, yc = gap.close_gap(*ec.pair())
            z = np.vstack([xc, yc])
            stated = rec["measured"][f"{name}/{model}"]
            bound = (stated["nogap_reproduced"] + stated["closed_similarity"]) * 1.01 + 1e-9  # stated to 3 digits
            assert np.abs(z @ z.T - load_similarity_csv(nogap_csv)).max() <= bound


@pytest.mark.reference
def test_derive_regenerates_the_copy_byte_for_byte(tmp_path):
    src = need_reference()
    out = tmp_path / "copy"
    r = subprocess.run([sys.executable, "-m", "exporters", "derive-reference", "--from", str(src), "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "largest error of the stored precision" in r.stdout
    fresh = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    kept = {p.relative_to(COPY).as_posix() for p in COPY.rglob("*") if p.is_file()}
    assert fresh == kept
    # data, text and records byte for byte; media decode (their encoders' versions may differ by machine)
    for rel in sorted(fresh):
        if rel.endswith((".npz", ".txt", ".json", ".csv", ".md")) and rel != "SOURCES.json":
            assert (out / rel).read_bytes() == (COPY / rel).read_bytes(), rel
    a, b = json.loads((out / "SOURCES.json").read_text()), _sources()
    assert a["precision"] == b["precision"] and a["measured"] == b["measured"]
    assert {k: v["from"] for k, v in a["files"].items()} == {k: v["from"] for k, v in b["files"].items()}


def test_derive_refuses_a_folder_that_is_not_the_seed_export(tmp_path):
    (tmp_path / "src").mkdir()
    r = subprocess.run([sys.executable, "-m", "exporters", "derive-reference", "--from", str(tmp_path / "src"),
                        "--out", str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "not the seed article's exported_data folder" in r.stderr
    assert not (tmp_path / "out").exists()


def test_copy_facts_sum_the_files_a_build_reads():
    from exporters.reference_copy import copy_facts

    facts = copy_facts([COPY / "MSCOCO-Val_size-100", COPY / "Triplet_size-100"])
    rec = _sources()
    used = [v for k, v in rec["files"].items() if k.split("/")[0] in ("MSCOCO-Val_size-100", "Triplet_size-100")]
    assert facts["files"] == len(used) == 200 + 100 + 2 + 2 + 2  # images, audio, prompts, npz, infos.csv + README
    assert facts["bytes"] == sum(v["bytes"] for v in used) == sum(facts["parts"].values())
    assert set(facts["parts"]) == {"similarities", "images", "audio", "text and tables"}
    assert facts["max_loss_error"] <= facts["limit"] == MAX_QUOTED_ERROR
