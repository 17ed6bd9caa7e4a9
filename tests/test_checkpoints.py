"""CyCLIP / CLOOB / cloob-training checkpoints: written in their published layouts from tiny models,
converted back, and checked weight for weight."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from _standins import (one_torch_thread, TINY_CLOOB_LAION, TINY_RN, TINY_RN_GELU, TINY_RN_WIDE, haiku_params, register_tiny_configs,
                       save_cloob, save_cloob_laion, save_cyclip, tiny_model, write_images)

from exporters.cache import file_digest
from exporters.datasets.folder import folder_dataset
from exporters.errors import UserError
from exporters.sources.checkpoints import (CloobLaionSource, ConvertedCheckpointSource, cloob_to_open_clip,
                                           open_clip_to_cloob, open_clip_to_cyclip)


_single_thread = pytest.fixture(autouse=True, scope="module")(one_torch_thread)

@pytest.fixture(scope="module")
def tiny():
    register_tiny_configs()
    return tiny_model(TINY_RN, seed=1)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairs")
    write_images(root / "imgs", [f"{i}.png" for i in range(6)])
    (root / "c.txt").write_text("".join(f"a photo of thing {i}\n" for i in range(6)))
    return folder_dataset(root / "imgs", root / "c.txt")


def _same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


@pytest.mark.parametrize("fmt,save", [("cyclip", save_cyclip), ("cloob", save_cloob)])
def test_converter_restores_every_weight(tmp_path, tiny, pairs, fmt, save):
    path = save(tiny, tmp_path / f"{fmt}.pt")
    src = ConvertedCheckpointSource(TINY_RN, checkpoint=str(path), name=fmt, checkpoint_format=fmt)
    model = src.load()[0]
    _same_weights(model, tiny)
    assert src.conversion["tensors"] == len(tiny.state_dict())
    assert src.conversion["dropped_training_only"] == (["logit_scale_hopfield"] if fmt == "cloob" else [])
    emb = src.embed(pairs, tmp_path / "cache")
    with torch.no_grad():
        ref = tiny.encode_text(src.load()[2](list(pairs.modality("text").items))).numpy()
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    np.testing.assert_allclose(emb.blocks["text"], ref, atol=1e-5)
    assert emb.logit_scale == pytest.approx(30.0, rel=1e-5)
    assert emb.provenance["checkpoint_sha256"] == file_digest(path)
    assert emb.provenance["weights"] == "sha256:" + file_digest(path)
    assert emb.provenance["checkpoint_format"] == fmt


def test_published_layouts_have_the_published_names(tiny):
    cloob = open_clip_to_cloob(tiny.state_dict())
    assert "module.transformer.transformer.resblocks.0.attn.in_proj_weight" in cloob
    assert "module.transformer.token_embedding.weight" in cloob and "module.logit_inv_tau" in cloob
    assert "module.visual.attnpool.c_proj.weight" in cloob and "module.logit_scale_hopfield" in cloob
    back = cloob_to_open_clip({k[len("module."):]: v for k, v in cloob.items()})
    assert back.keys() == tiny.state_dict().keys()
    assert all(k.startswith("module.") for k in open_clip_to_cyclip(tiny.state_dict()))


def test_rn50_key_mapping_is_complete():
    """The real RN50 architecture (built, never saved: 100M parameters) maps both ways without loss."""
    import open_clip

    sd = open_clip.create_model("RN50-quickgelu").state_dict()
    cloob = {k[len("module."):]: v for k, v in open_clip_to_cloob(sd).items()}
    assert cloob_to_open_clip(cloob).keys() == sd.keys()
    assert sum(k.startswith("transformer.transformer.resblocks.") for k in cloob) == 12 * 12


def test_wrong_architecture_and_tampered_files_name_the_file(tmp_path, tiny):
    path = save_cyclip(tiny, tmp_path / "cyclip-3M.pt")
    with pytest.raises(UserError, match=r"cyclip-3M.pt: .* has shape .* another architecture"):
        ConvertedCheckpointSource(TINY_RN_WIDE, checkpoint=str(path), checkpoint_format="cyclip").load()
    with pytest.raises(UserError, match=r"QuickGELU; use arch = \"TinyRN-quickgelu\""):
        ConvertedCheckpointSource(TINY_RN_GELU, checkpoint=str(path), checkpoint_format="cyclip").load()
    obj = torch.load(path, weights_only=True)
    obj["state_dict"]["module.visual.extra.weight"] = torch.zeros(2)
    torch.save(obj, tmp_path / "extra.pt")
    with pytest.raises(UserError, match=r"extra.pt: weights do not fit .* 1 file tensors unused"):
        ConvertedCheckpointSource(TINY_RN, checkpoint=str(tmp_path / "extra.pt"), checkpoint_format="cyclip").load()
    del obj["state_dict"]["module.visual.extra.weight"], obj["state_dict"]["module.ln_final.bias"]
    torch.save(obj, tmp_path / "short.pt")
    with pytest.raises(UserError, match=r"short.pt: weights do not fit .* 1 model weights missing .*ln_final.bias"):
        ConvertedCheckpointSource(TINY_RN, checkpoint=str(tmp_path / "short.pt"), checkpoint_format="cyclip").load()
    cloob = save_cloob(tiny, tmp_path / "cloob_rn50x4.pt", config_file="RN50x4.json")
    with pytest.raises(UserError, match=r"cloob_rn50x4.pt: a CLOOB checkpoint of RN50x4.json.*RN50x4-quickgelu"):
        ConvertedCheckpointSource("RN50-quickgelu", checkpoint=str(cloob), checkpoint_format="cloob").load()
    obj["state_dict"]["module.ln_final.bias"] = _Evil()
    torch.save(obj, tmp_path / "code.pt")
    with pytest.raises(UserError, match=r"code.pt: holds Python objects beyond tensors \((builtins.)?print\)"):
        ConvertedCheckpointSource(TINY_RN, checkpoint=str(tmp_path / "code.pt"), checkpoint_format="cyclip").load()
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="garbage.pt: not a readable PyTorch checkpoint"):
        ConvertedCheckpointSource(TINY_RN, checkpoint=str(tmp_path / "garbage.pt"), checkpoint_format="cloob").load()
    with pytest.raises(UserError, match="nope.pt: checkpoint file not found"):
        ConvertedCheckpointSource(TINY_RN, checkpoint=str(tmp_path / "nope.pt"), checkpoint_format="cloob").load()


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_cloob_laion_pickle_port(tmp_path, pairs):
    path = save_cloob_laion(tmp_path / "cloob_laion_400m_vit_b_16_16_epochs-405a.pkl")
    src = CloobLaionSource("cloob-laion-vit", checkpoint=str(path), name="CLOOB_LAION", config=TINY_CLOOB_LAION)
    model = src.load()[0]
    img, txt = haiku_params()
    sd = model.state_dict()
    np.testing.assert_array_equal(sd["image_encoder.embed.weight"].numpy(),
                                  img["vi_t_image_encoder/embed"]["w"].transpose(3, 2, 0, 1))
    np.testing.assert_array_equal(sd["text_encoder.layers.0.attn.query.weight"].numpy(),
                                  txt["text_encoder/layer_0/self_attention/multi_head_attention/query"]["w"].T)
    np.testing.assert_array_equal(sd["image_encoder.class_embed"].numpy(), img["vi_t_image_encoder"]["class_embed"])
    assert src.conversion["tensors"] == src.conversion["model_weights"]
    emb = src.embed(pairs, tmp_path / "cache")
    assert emb.blocks["image"].shape == (6, 16) and emb.logit_scale == pytest.approx(30.0)
    assert emb.provenance["checkpoint_sha256"] == file_digest(path)
    tok = src.load()[2]
    with torch.no_grad():
        e = model.encode_text(tok(["a cat", "a dog"]))
    assert not torch.allclose(e[0], e[1]) and torch.allclose(e.norm(dim=-1), torch.ones(2))
    # a parameter with no place, and code in the pickle, are refused
    img["vi_t_image_encoder/layer_0/extra"] = {"w": np.zeros(3, np.float32)}
    with open(tmp_path / "extra.pkl", "wb") as f:
        pickle.dump({"params": (img, txt)}, f)
    with pytest.raises(UserError, match=r"extra.pkl: 1 parameters of the image_encoder have no place"):
        CloobLaionSource("x", checkpoint=str(tmp_path / "extra.pkl"), config=TINY_CLOOB_LAION).load()
    with open(tmp_path / "evil.pkl", "wb") as f:
        pickle.dump({"params": _Evil()}, f)
    with pytest.raises(UserError, match=r"evil.pkl: refuses to unpickle builtins.print"):
        CloobLaionSource("x", checkpoint=str(tmp_path / "evil.pkl"), config=TINY_CLOOB_LAION).load()
    with pytest.raises(UserError, match=r"has shape"):
        CloobLaionSource("x", checkpoint=str(path), config={**TINY_CLOOB_LAION, "d_embed": 8}).load()
