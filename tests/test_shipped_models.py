"""The shipped models: small, loadable as ordinary open_clip checkpoints, and as good as recorded."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from exporters.cache import file_digest
from exporters.datasets import shapes
from exporters.errors import UserError
from exporters.model_configs import register_configs, tokenizer_for
from exporters.training import ARCH, SHIPPED_MODELS
from exporters.training.train import PairPool, TrainConfig, encode_pool, load_model, measure, train

torch.set_num_threads(2)
MAX_BYTES = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def pool():
    import open_clip
    register_configs()
    _, _, preprocess = open_clip.create_model_and_transforms(ARCH)
    return PairPool("eval5000", shapes.SPLITS["eval5000"], preprocess, tokenizer_for(ARCH))


def _record(name):
    path = SHIPPED_MODELS[name].with_suffix(".json")
    assert path.is_file(), f"{path} missing: run python -m exporters train --all --out models/"
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def measured(pool):
    """Every shipped model loaded with open_clip's own create_model(arch, pretrained=path)."""
    import open_clip
    register_configs()
    out = {}
    for name, path in SHIPPED_MODELS.items():
        model = open_clip.create_model(ARCH, pretrained=str(path))
        x, y = encode_pool(model, pool)
        out[name] = measure(x, y, model.logit_scale.exp().item())
    return out


@pytest.mark.parametrize("name", list(SHIPPED_MODELS))
def test_weights_are_small_and_match_their_record(name):
    path = SHIPPED_MODELS[name]
    rec = _record(name)
    assert path.stat().st_size <= MAX_BYTES
    assert rec["weights_sha256"] == file_digest(path)
    assert rec["arch"] == ARCH and rec["name"] == name
    for key in ("objective", "seed", "steps", "final_loss", "val_R@1", "temperature", "train_minutes"):
        assert key in rec
    assert (rec["objective"] is None) == (name == "random")


@pytest.mark.parametrize("name", list(SHIPPED_MODELS))
def test_recorded_metrics_are_reproduced_from_the_weights(measured, name):
    rec, got = _record(name)["val"], measured[name]
    for key in ("image_to_text_R@1", "text_to_image_R@1", "image_to_text_R@5", "text_to_image_R@5"):
        assert got[key] == pytest.approx(rec[key], abs=0.003), key
    assert got["modality_distance"] == pytest.approx(rec["modality_distance"], abs=1e-3)
    assert got["infonce"] == pytest.approx(rec["infonce"], abs=1e-3)


def test_trained_models_retrieve_far_above_chance_and_random_does_not(measured):
    chance = 1 / shapes.SPLITS["eval5000"]
    for name, m in measured.items():
        for key in ("image_to_text_R@1", "text_to_image_R@1"):
            if name == "random":
                assert m[key] < 5 * chance
            else:
                assert m[key] > 20 * chance, (name, key, m[key])


def test_random_model_already_has_a_gap(measured):
    # the cone effect (Liang et al. 2022): two randomly initialized towers map to two narrow cones
    assert measured["random"]["modality_distance"] > 0.5


def test_png_path_gives_the_same_pixels_as_the_in_memory_pool(tmp_path, pool):
    """The trainer's pre-processing equals open_clip's preprocess applied to the written PNG files."""
    import open_clip
    from PIL import Image
    register_configs()
    _, _, preprocess = open_clip.create_model_and_transforms(ARCH)
    ds = shapes.shapes_dataset("eval100", tmp_path)
    files = torch.stack([preprocess(Image.open(p).convert("RGB")) for p in ds.modality("image").items[:16]])
    assert torch.allclose(files, pool.image_batch(np.arange(16)), atol=1e-6)
    assert list(ds.modality("text").items[:16]) == pool.captions[:16]


def test_lead_loader_embeds_shipped_model_like_the_trainer(tmp_path, pool):
    source_mod = pytest.importorskip("exporters.sources.openclip")
    src = source_mod.OpenClipSource(ARCH, checkpoint=str(SHIPPED_MODELS["clip"]))
    ds = shapes.shapes_dataset("eval100", tmp_path / "img")
    es = src.embed(ds, cache_dir=tmp_path / "cache")
    model, _, _ = load_model(SHIPPED_MODELS["clip"])
    sub = PairPool.__new__(PairPool)
    sub.images, sub.captions, sub.tokens = pool.images[:100], pool.captions[:100], pool.tokens[:100]
    sub.mean, sub.std = pool.mean, pool.std
    x, y = encode_pool(model, sub)
    assert np.allclose(es.blocks["image"], x, atol=1e-4) and np.allclose(es.blocks["text"], y, atol=1e-4)
    assert es.logit_scale == pytest.approx(_record("clip")["temperature"]["final_scale"], rel=1e-5)


def test_bad_checkpoints_are_user_errors(tmp_path):
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x10\x00\x00\x00not a safetensors file")
    with pytest.raises(UserError, match="cannot be loaded"):
        load_model(corrupt)
    from safetensors.torch import load_file, save_file
    state = load_file(str(SHIPPED_MODELS["random"]))
    state.pop("text_projection")
    mismatched = tmp_path / "mismatched.safetensors"
    save_file(state, str(mismatched))
    with pytest.raises(UserError, match="text_projection|cannot be loaded"):
        load_model(mismatched)
    with pytest.raises(UserError, match="not found"):
        load_model(tmp_path / "nope.safetensors")


def test_training_is_deterministic_and_bad_input_is_refused(tmp_path):
    cfg = TrainConfig("tiny", "cloob", steps=3, batch_size=16, warmup=1, train_pairs=64, eval_pairs=40)
    a = train(cfg, tmp_path / "a", log=lambda *_: None)
    b = train(cfg, tmp_path / "b", log=lambda *_: None)
    assert a["weights_sha256"] == b["weights_sha256"]
    assert (tmp_path / "a" / "tiny.json").is_file()
    with pytest.raises(UserError, match="objective"):
        train(TrainConfig("x", "simclr"), tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot be written"):
        train(TrainConfig("x", "clip", steps=1), blocker / "out")


def test_cli_train_errors_exit_2(tmp_path):
    for args in (["train", "--objective", "simclr", "--out", str(tmp_path)],
                 ["train", "--shipped", "nope", "--out", str(tmp_path)]):
        r = subprocess.run([sys.executable, "-m", "exporters", *args], capture_output=True, text=True,
                           cwd=str(SHIPPED_MODELS["clip"].parents[1]))
        assert r.returncode == 2, r.stderr
        assert r.stderr.strip().count("\n") == 0 and r.stderr.startswith("error:")
