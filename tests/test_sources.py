"""Embedding sources on real open_clip models the test makes, real files the test writes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, unit_rows
from exporters.errors import UserError
from exporters.pairs import Modality, PairedDataset
from exporters.sources.arrays import embeddings_from_arrays
from exporters.sources.gram import embeddings_from_gram

torch = pytest.importorskip("torch")
open_clip = pytest.importorskip("open_clip")

TINY = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "patch_size": 8, "width": 32, "layers": 1, "head_width": 16, "mlp_ratio": 2.0},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1, "mlp_ratio": 2.0},
}


@pytest.fixture(scope="module")
def tiny_arch(tmp_path_factory):
    """A random-init open_clip architecture registered through open_clip's own config mechanism."""
    d = tmp_path_factory.mktemp("cfg")
    (d / "TestTiny-ViT.json").write_text(json.dumps(TINY))
    other = dict(TINY, embed_dim=24)
    (d / "TestTiny-ViT-24.json").write_text(json.dumps(other))
    open_clip.add_model_config(d)
    return "TestTiny-ViT"


@pytest.fixture
def pairs(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(6):
        p = tmp_path / f"img{i}.png"
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(p)
        paths.append(str(p))
    texts = ("a red circle", "two blue squares", "a green triangle", "a dog", "a cat on a mat", "<b>bold</b>")
    return PairedDataset("test_pairs_v1", tuple(f"p{i}" for i in range(6)),
                         (Modality("image", "image", "Image", tuple(paths)), Modality("text", "text", "Text", texts)))


@pytest.fixture
def checkpoint(tiny_arch, tmp_path):
    torch.manual_seed(123)
    model = open_clip.create_model(tiny_arch)
    path = tmp_path / "tiny.pt"
    torch.save(model.state_dict(), path)
    return path, model


def test_open_clip_checkpoint_embeds_normalized_and_caches(tiny_arch, checkpoint, pairs, tmp_path):
    from exporters.sources.openclip import OpenClipSource

    path, model = checkpoint
    src = OpenClipSource(tiny_arch, checkpoint=str(path))
    cache = tmp_path / "cache"
    emb = src.embed(pairs, cache)
    assert emb.names == ["image", "text"]
    assert emb.blocks["image"].shape == (6, 16)
    for b in emb.blocks.values():
        assert np.allclose(np.linalg.norm(b, axis=1), 1.0)
    assert emb.provenance["cache_hit"] is False
    assert emb.logit_scale == pytest.approx(float(model.logit_scale.detach().exp()), rel=1e-6)
    # the same weights through open_clip directly give the same text features
    with torch.no_grad():
        t = model.encode_text(open_clip.get_tokenizer(tiny_arch)(list(pairs.modality("text").items))).numpy()
    t = t / np.linalg.norm(t, axis=1, keepdims=True)
    assert np.allclose(t, emb.blocks["text"], atol=1e-5)
    # a second source object hits the cache and recomputes nothing
    again = OpenClipSource(tiny_arch, checkpoint=str(path)).embed(pairs, cache)
    assert again.provenance["cache_hit"] is True
    assert np.array_equal(again.blocks["image"], emb.blocks["image"])
    assert len(list(cache.glob("*.npz"))) == 1
    # changing one caption changes the key
    changed = PairedDataset(pairs.id, pairs.ids, (pairs.modalities[0], Modality("text", "text", "Text",
                                                                                 ("x",) + pairs.modalities[1].items[1:])))
    assert OpenClipSource(tiny_arch, checkpoint=str(path)).embed(changed, cache).provenance["cache_hit"] is False


def test_random_init_is_repeatable(tiny_arch, pairs, tmp_path):
    from exporters.sources.openclip import OpenClipSource

    a = OpenClipSource(tiny_arch, random_init=True).embed(pairs, tmp_path / "a")
    b = OpenClipSource(tiny_arch, random_init=True).embed(pairs, tmp_path / "b")
    assert np.array_equal(a.blocks["text"], b.blocks["text"])


def test_checkpoint_for_another_architecture_is_refused(tiny_arch, checkpoint, pairs, tmp_path):
    from exporters.sources.openclip import OpenClipSource

    path, _ = checkpoint
    with pytest.raises(UserError, match=r"tiny\.pt: does not fit architecture TestTiny-ViT-24"):
        OpenClipSource("TestTiny-ViT-24", checkpoint=str(path)).embed(pairs, tmp_path)


def test_corrupt_image_and_unknown_names(tiny_arch, pairs, tmp_path):
    from exporters.sources.openclip import OpenClipSource

    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image")
    items = (str(bad),) + pairs.modalities[0].items[1:]
    broken = PairedDataset(pairs.id, pairs.ids, (Modality("image", "image", "Image", items), pairs.modalities[1]))
    with pytest.raises(UserError, match="broken.png: missing or not a readable image"):
        OpenClipSource(tiny_arch, random_init=True).embed(broken, tmp_path)
    with pytest.raises(UserError, match="unknown open_clip architecture 'ViT-Nope'.*ViT-B-32"):
        OpenClipSource("ViT-Nope").load()
    with pytest.raises(UserError, match="unknown pretrained tag 'nonsense'.*openai"):
        OpenClipSource("ViT-B-32", pretrained="nonsense").load()
    with pytest.raises(UserError, match="checkpoint file not found"):
        OpenClipSource(tiny_arch, checkpoint=str(tmp_path / "missing.safetensors")).load()


def test_known_tag_without_network_says_what_to_do(tmp_path):
    """A real pretrained tag cannot be fetched here: the message says where to put the weights."""
    code = ("from exporters.sources.openclip import OpenClipSource\n"
            "OpenClipSource('RN50', pretrained='openai').load()")
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "XDG_CACHE_HOME": str(tmp_path / "xdg"),
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", "from exporters.cli import main\n"
                          "raise SystemExit(main(['inspect', '--config', 'x']))"], cwd=ROOT, capture_output=True,
                         text=True, env=env)
    assert out.returncode == 2 and "x: configuration file not found" in out.stderr
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env)
    assert "RN50/openai: weights are not available offline" in out.stderr
    assert "checkpoint" in out.stderr.splitlines()[-1]


def test_arrays_source(pairs, tmp_path):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "e.npz", image=rng.normal(size=(6, 8)), text=rng.normal(size=(6, 8)))
    e = embeddings_from_arrays(tmp_path / "e.npz", pairs, "m")
    assert np.allclose(np.linalg.norm(e.blocks["text"], axis=1), 1)
    np.savez(tmp_path / "short.npz", image=rng.normal(size=(5, 8)), text=rng.normal(size=(6, 8)))
    with pytest.raises(UserError, match=r"short.npz: array 'image' has shape \(5, 8\), expected \(6, d\)"):
        embeddings_from_arrays(tmp_path / "short.npz", pairs, "m")
    z = rng.normal(size=(6, 8))
    z[3] = 0
    np.savez(tmp_path / "zero.npz", image=z, text=rng.normal(size=(6, 8)))
    with pytest.raises(UserError, match="'p3' has a zero-norm embedding"):
        embeddings_from_arrays(tmp_path / "zero.npz", pairs, "m")


def test_gram_recovery_and_validation():
    rng = np.random.default_rng(2)
    x, y = unit_rows(rng, 10, 32), unit_rows(rng, 10, 32)
    s = np.vstack([x, y]) @ np.vstack([x, y]).T
    bx, by = embeddings_from_gram(s, [10, 10])
    assert np.allclose(np.vstack([bx, by]) @ np.vstack([bx, by]).T, s, atol=1e-12)
    with pytest.raises(UserError, match="must be square"):
        embeddings_from_gram(s[:, :5], [10, 10])
    asym = s.copy()
    asym[0, 1] += 0.1
    with pytest.raises(UserError, match="not symmetric"):
        embeddings_from_gram(asym, [10, 10])
    with pytest.raises(UserError, match="diagonal is not 1"):
        embeddings_from_gram(s * 2, [10, 10])
    with pytest.raises(UserError, match="20 rows, but the modalities have 30"):
        embeddings_from_gram(s, [10, 20])


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "exporters", *args], cwd=cwd, capture_output=True, text=True)


def test_cli_help_for_every_command():
    out = _cli("--help")
    assert out.returncode == 0
    for cmd in ("inspect", "export", "build"):
        assert cmd in out.stdout
        sub = _cli(cmd, "--help")
        assert sub.returncode == 0 and "--config" in sub.stdout, cmd


def test_cli_bad_input_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[datasets.a]\nsource = "reference"\npath = "nowhere"\n[models.m]\nsource = "reference"\n'
                   '[sections.main]\ndataset = "a"\nmodels = ["m", "ghost"]\n')
    out = _cli("inspect", "--config", str(bad))
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert "names model 'ghost', not defined" in out.stderr
    bad.write_text('[datasets.a]\nsource = "reference"\npath = "nowhere"\n[models.m]\nsource = "reference"\n'
                   '[sections.main]\ndataset = "a"\nmodels = ["m"]\n')
    out = _cli("inspect", "--config", str(bad))
    assert out.returncode == 2 and "nowhere: no such reference folder" in out.stderr
    assert out.stderr.count("\n") == 1


def test_reference_folder_errors(tmp_path):
    from exporters.sources.reference import reference_dataset, reference_embeddings

    (tmp_path / "images").mkdir()
    (tmp_path / "prompts.txt").write_text("")
    with pytest.raises(UserError, match="prompts.txt: empty caption file"):
        reference_dataset(tmp_path)
    (tmp_path / "prompts.txt").write_text("a\nb\n")
    Image.new("RGB", (4, 4)).save(tmp_path / "images" / "0.jpg")
    with pytest.raises(UserError, match=r"1.jpg: missing image for item 1"):
        reference_dataset(tmp_path)
    Image.new("RGB", (4, 4)).save(tmp_path / "images" / "1.jpg")
    (tmp_path / "similarities").mkdir()
    np.savetxt(tmp_path / "similarities" / "M.csv", np.eye(4)[:, :3], delimiter=",")
    with pytest.raises(UserError, match="unknown model 'X'; known: M"):
        reference_embeddings(tmp_path, "X")
    with pytest.raises(UserError, match="M.csv: similarity matrix must be square"):
        reference_embeddings(tmp_path, "M")
