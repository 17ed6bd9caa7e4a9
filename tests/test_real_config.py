"""configs/real-article.toml resolves end to end on stand-in files in every real format.

The data/ tree is written as docs/configuration.md says (COCO annotations + images, a DiffusionDB
part zip, an AudioSet-style triplet table with WAV files, a CLOOME table with SMILES, CyCLIP and
CLOOB .pt checkpoints, a cloob-training .pkl, ImageBind/CLOOME .npz exports). The only edits to
the configuration: tiny architectures stand in for RN50/ViT-B/16, and a local open_clip
checkpoint stands in for the `openai` tag (no downloads here).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from _standins import (one_torch_thread, TINY_CLOOB_LAION, TINY_RN, save_cloob, save_cloob_laion, save_cyclip, tiny_model, write_cloome,
                       write_coco, write_diffusiondb, write_triplets)

from exporters.config import load_config
from exporters.errors import UserError
from exporters.world import World

REAL = Path(__file__).resolve().parents[1] / "configs" / "real-article.toml"


def _write_data(data: Path) -> None:
    write_coco(data / "coco", 110)
    write_diffusiondb(data / "diffusiondb", 105, parquet=False)
    write_triplets(data / "audioset", 8)
    write_cloome(data / "cloome", 8)
    ck = data / "checkpoints"
    save_cyclip(tiny_model(TINY_RN, seed=2), ck / "cyclip-3M.pt")
    save_cloob(tiny_model(TINY_RN, seed=3), ck / "cloob_rn50_yfcc_epoch_28.pt")
    save_cloob_laion(ck / "cloob_laion_400m_vit_b_16_16_epochs.pkl")
    (ck / "tiny_cloob_laion.json").write_text(json.dumps(TINY_CLOOB_LAION))
    torch.save(tiny_model(TINY_RN, seed=4).state_dict(), ck / "clip_rn50_openai.pt")
    rng = np.random.default_rng(0)
    emb = data / "embeddings"
    emb.mkdir()
    for ds, names, n in (("coco100", ("image", "text"), 100), ("audioset", ("image", "text", "audio"), 8)):
        np.savez(emb / f"imagebind_{ds}.npz", **{m: rng.standard_normal((n, 24)) for m in names})
    for model in ("cloome_clip", "cloome_cloob"):
        np.savez(emb / f"{model}_cloome.npz", image=rng.standard_normal((8, 12)), molecule=rng.standard_normal((8, 12)))


def _stand_in_config(root: Path) -> Path:
    text = REAL.read_text()
    subs = [('arch = "RN50-quickgelu"\npretrained = "openai"',
             f'arch = "{TINY_RN}"\ncheckpoint = "../data/checkpoints/clip_rn50_openai.pt"'),
            ('arch = "RN50-quickgelu"', f'arch = "{TINY_RN}"'),
            ('source = "cloob_laion"', 'source = "cloob_laion"\nconfig = "../data/checkpoints/tiny_cloob_laion.json"')]
    for old, new in subs:
        assert old in text, old
        text = text.replace(old, new)
    (root / "configs").mkdir()
    path = root / "configs" / "real-article.toml"
    path.write_text(text)
    return path


_single_thread = pytest.fixture(autouse=True, scope="module")(one_torch_thread)

@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    _write_data(root / "data")
    return World(load_config(_stand_in_config(root)), work_dir=root / "work")


def test_every_section_resolves(world, monkeypatch):
    monkeypatch.setenv("EXPORTERS_PROGRESS", "0")
    cfg = world.config
    assert set(cfg.sections) == {"main", "large", "subset", "augmentations", "triplet", "molecules"}
    ds, embs = world.section("main")
    assert len(ds) == 100 and ds.id.startswith("coco_captions_val2017_v1_n100_seed31415")
    assert set(embs) == {"CLIP", "CyCLIP", "CLOOB", "CLOOB_LAION400M", "ImageBind"}
    for name, e in embs.items():
        for block in e.blocks.values():
            assert block.shape[0] == 100 and np.allclose(np.linalg.norm(block, axis=1), 1, atol=1e-5), name
    assert embs["CyCLIP"].provenance["checkpoint_format"] == "cyclip"
    assert embs["CLOOB"].provenance["checkpoint_format"] == "cloob"
    assert embs["CLOOB_LAION400M"].provenance["checkpoint_format"] == "cloob_laion"
    assert not np.allclose(embs["CyCLIP"].blocks["image"], embs["CLOOB"].blocks["image"])
    large, lembs = world.section("large")
    assert len(large) == 110 and set(lembs) == {"CLIP", "CyCLIP"}
    aug = cfg.sections["augmentations"]["datasets"]
    base = world.dataset("diffusiondb")
    for kind, dataset_id in aug.items():
        d = world.dataset(dataset_id)
        assert len(d) == 100 and set(d.modality("text").items) == {base.modality("text").items[0]}, kind
        for m in cfg.sections["augmentations"]["models"]:
            assert world.embeddings(m, dataset_id).blocks["image"].shape[0] == 100
    tri, tembs = world.section("triplet")
    assert tri.names == ["image", "text", "audio"] and tembs["ImageBind"].blocks["audio"].shape == (8, 24)
    mol, membs = world.section("molecules")
    assert mol.modality("molecule").kind == "molecule" and set(membs) == {"CLOOME_CLIP", "CLOOME_CLOOB"}


def test_bad_inputs_in_the_real_config_are_one_line_errors(tmp_path):
    root = tmp_path
    _write_data(root / "data")
    path = _stand_in_config(root)
    text = path.read_text()
    cases = [
        ('images = "../data/coco/val2017"\nsample = 100', 'images = "../data/coco/train2017"\nsample = 100',
         "train2017: COCO image folder not found"),
        ('sample = 100\nseed = 31415', 'sampel = 100\nseed = 31415',
         "[datasets.coco100] has unknown key 'sampel'; allowed: annotations, images, label, sample, seed, source; "
         "did you mean 'sample'?"),   # refused when the file is loaded (tests/test_registry.py)
        ('kind = "rotation"', 'kind = "zoom"', "unknown augmentation 'zoom'"),
    ]
    for old, new, message in cases:
        assert old in text
        path.write_text(text.replace(old, new))
        with pytest.raises(UserError, match=re.escape(message)) as info:
            w = World(load_config(path), work_dir=root / "work")
            for d in w.config.datasets:
                w.dataset(d)
        assert "\n" not in str(info.value)
    path.write_text(text)
    shutil.copy(root / "data" / "checkpoints" / "cloob_rn50_yfcc_epoch_28.pt", root / "data" / "checkpoints" / "cyclip-3M.pt")
    w = World(load_config(path), work_dir=root / "work2")
    with pytest.raises(UserError, match=r"cyclip-3M.pt: weights do not fit .* file tensors unused"):
        w.embeddings("CyCLIP", "coco100")   # a CLOOB file given as the CyCLIP checkpoint


def test_cli_exit_code_2(tmp_path, capsys):
    from exporters.cli import main

    root = tmp_path
    _write_data(root / "data")
    path = _stand_in_config(root)
    lines = (root / "data" / "cloome" / "cloome.csv").read_text().splitlines()
    lines[2] = "1,C1CC(N"
    (root / "data" / "cloome" / "cloome.csv").write_text("\n".join(lines) + "\n")
    code = main(["inspect", "--config", str(path), "--dataset", "cloome", "--model", "CLOOME_CLIP"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and "cloome.csv:3: invalid SMILES 'C1CC(N'" in err
