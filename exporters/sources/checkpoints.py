"""The article's other models through their published checkpoint formats.

- CyCLIP (goel-shashank/CyCLIP, `src/main.py`): ``torch.save({"epoch", "name", "state_dict",
  "optimizer"})`` where `state_dict` is OpenAI-CLIP's layout, keys prefixed ``module.`` when
  trained with DistributedDataParallel. OpenAI's layout is open_clip's `CLIP` layout, so the
  conversion strips the prefix and drops OpenAI's three integer metadata entries if present.
  Architecture: ``RN50-quickgelu`` (OpenAI's code uses QuickGELU).
- CLOOB (ml-jku/cloob, `src/clip/model.py` `CLIPGeneral`): ``{"epoch", "name", "state_dict",
  "optimizer", "scheduler"[, "model_config_file"]}``; the image tower is `visual.*` (OpenAI's
  ModifiedResNet, same names as open_clip), the text tower is nested under `transformer.*`
  (``transformer.transformer.resblocks.*``, ``transformer.token_embedding.weight``, ...), the
  temperature is ``logit_inv_tau`` (log of 1/τ, open_clip's ``logit_scale``), and
  ``logit_scale_hopfield`` is a training-only Hopfield temperature that an encoder never uses.
  Architecture: ``RN50-quickgelu`` for ``model_config_file = "RN50.json"``.
- CLOOB LAION-400M ViT-B/16 (crowsonkb/cloob-training): a pickled JAX/Haiku checkpoint
  ``{"params": (image_params, text_params), ...}``. Its towers are not open_clip's ViT-B-16 (no
  ln_pre/ln_post/ln_final, projections with bias, first-token text pooling with a padding mask
  instead of a causal one), so it cannot be poured into an open_clip model without changing what
  it computes; `CloobLaionModel` below is a faithful port of the authors' PyTorch re-implementation
  (`cloob_training/model_pt.py`) and the key mapping is theirs.

Every loader checks that every tensor of the file was used and every weight of the model was filled
(BatchNorm's `num_batches_tracked` counters excepted), with matching shapes, and raises a one-line
UserError naming the file otherwise. The file's sha256 is the model's weights id (cache key and
provenance).
"""

from __future__ import annotations

import math
import pickle
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from exporters.cache import file_digest
from exporters.errors import UserError
from exporters.pairs import EmbeddingSet, PairedDataset
from exporters.sources.openclip import OpenClipSource, _open_clip

FORMATS = ("cyclip", "cloob")
OPENAI_META = ("input_resolution", "context_length", "vocab_size")
DROPPED = {"cloob": ("logit_scale_hopfield",)}
COUNTERS = ("num_batches_tracked",)
CLOOB_CONFIG_ARCH = {"RN50.json": "RN50-quickgelu", "RN101.json": "RN101-quickgelu",
                     "RN50x4.json": "RN50x4-quickgelu", "ViT-B-32.json": "ViT-B-32-quickgelu",
                     "ViT-B-16.json": "ViT-B-16-quickgelu"}


# -- reading -------------------------------------------------------------------------------------
def read_torch_checkpoint(path: str | Path, trusted: bool = False) -> dict:
    """The dict saved by torch.save; tensors only unless the user marked the file `trusted`."""
    import torch

    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: checkpoint file not found; download it (see docs/configuration.md) and "
                        "point `checkpoint` at it")
    with open(p, "rb") as f:
        head = f.read(2)
    if not zipfile.is_zipfile(p) and head[:1] != b"\x80":
        raise UserError(f"{p}: not a readable PyTorch checkpoint (neither torch.save's zip nor a pickle); "
                        "re-download it")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=not trusted)
    except pickle.UnpicklingError as exc:
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
        what = found.group(1) if found else type(exc).__name__
        raise UserError(f"{p}: holds Python objects beyond tensors ({what}); if you trust where it came "
                        "from, set `trusted_pickle = true` for this model") from None
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a bad file
        raise UserError(f"{p}: not a readable PyTorch checkpoint ({type(exc).__name__}); re-download it") from None
    if not isinstance(obj, dict):
        raise UserError(f"{p}: expected a checkpoint dict with a 'state_dict', got {type(obj).__name__}")
    return obj


def _state_dict(obj: dict, path: Path) -> dict:
    sd = obj.get("state_dict", obj)
    if not isinstance(sd, dict) or not sd:
        raise UserError(f"{path}: no 'state_dict' of tensors in this checkpoint")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in sd.items()}


# -- layouts -------------------------------------------------------------------------------------
def cyclip_to_open_clip(sd: dict) -> dict:
    """CyCLIP's (= OpenAI CLIP's) keys are open_clip's; only OpenAI's metadata entries go."""
    return {k: v for k, v in sd.items() if k not in OPENAI_META}


_CLOOB_TEXT = (("transformer.transformer.", "transformer."), ("transformer.token_embedding.", "token_embedding."),
               ("transformer.positional_embedding", "positional_embedding"),
               ("transformer.ln_final.", "ln_final."), ("transformer.text_projection", "text_projection"))


def cloob_to_open_clip(sd: dict) -> dict:
    out = {}
    for k, v in sd.items():
        if k in DROPPED["cloob"]:
            continue
        if k == "logit_inv_tau":
            out["logit_scale"] = v
            continue
        for src, dst in _CLOOB_TEXT:
            if k.startswith(src):
                k = dst + k[len(src):]
                break
        out[k] = v
    return out


def open_clip_to_cloob(sd: dict, hopfield: float = math.log(14.3)) -> dict:
    """Inverse of `cloob_to_open_clip` (how the CLOOB authors' code names an open_clip model's
    weights), with a DDP prefix; used to write stand-in checkpoints in the published format."""
    import torch

    out = {}
    for k, v in sd.items():
        if k == "logit_scale":
            out["module.logit_inv_tau"] = v
            continue
        for dst, src in _CLOOB_TEXT:
            if k.startswith(src) and not k.startswith("visual."):
                k = dst + k[len(src):]
                break
        out["module." + k] = v
    out["module.logit_scale_hopfield"] = torch.tensor(hopfield)
    return out


def open_clip_to_cyclip(sd: dict) -> dict:
    return {"module." + k: v for k, v in sd.items()}


CONVERTERS = {"cyclip": cyclip_to_open_clip, "cloob": cloob_to_open_clip}


def load_strict(model, sd: dict, path: Path, arch: str) -> dict:
    """Copy `sd` into `model` after checking it covers every weight and uses every tensor."""
    import torch

    target = model.state_dict()
    unexpected = [k for k in sd if k not in target]
    missing = [k for k in target if k not in sd and not k.endswith(COUNTERS)]
    hint = ""
    if unexpected or missing:
        if any(k.startswith("visual.transformer.") for k in unexpected + missing) and \
                any(k.startswith("visual.layer1.") for k in unexpected + missing):
            hint = " (a ResNet checkpoint for a ViT architecture, or the reverse)"
        raise UserError(f"{path}: weights do not fit {arch}{hint}: {len(missing)} model weights missing "
                        f"(e.g. {missing[:2]}), {len(unexpected)} file tensors unused (e.g. {unexpected[:2]}); "
                        "use the architecture the checkpoint was trained with")
    for k, v in sd.items():
        if not isinstance(v, torch.Tensor):
            raise UserError(f"{path}: entry {k!r} is not a tensor")
        if tuple(v.shape) != tuple(target[k].shape):
            raise UserError(f"{path}: {k} has shape {tuple(v.shape)} in the file but {tuple(target[k].shape)} in "
                            f"{arch}; this is a checkpoint for another architecture")
    result = model.load_state_dict({k: v.to(target[k].dtype) for k, v in sd.items()}, strict=False)
    left = [k for k in result.missing_keys if not k.endswith(COUNTERS)]
    if left or result.unexpected_keys:  # cannot happen after the checks above; kept as a guard
        raise UserError(f"{path}: weights do not fit {arch} (missing {left[:3]}, unexpected {result.unexpected_keys[:3]})")
    return {"tensors": len(sd), "model_weights": len(target)}


def _uses_quick_gelu(model) -> bool:
    blocks = getattr(getattr(model, "transformer", None), "resblocks", None)
    if not blocks:
        return True
    return any(type(m).__name__ == "QuickGELU" for m in blocks[0].modules())


@dataclass
class ConvertedCheckpointSource(OpenClipSource):
    """An open_clip architecture filled from a CyCLIP or CLOOB checkpoint file."""

    checkpoint_format: str = "cyclip"
    trusted: bool = False
    conversion: dict = field(default_factory=dict)

    def load(self):
        if self._loaded is not None:
            return self._loaded
        if self.checkpoint_format not in CONVERTERS:
            raise UserError(f"model {self.name}: unknown checkpoint_format {self.checkpoint_format!r}; "
                            f"use one of open_clip, {', '.join(CONVERTERS)}")
        open_clip = _open_clip()
        import torch

        if self.arch not in open_clip.list_models():
            raise UserError(f"unknown open_clip architecture {self.arch!r}; known: {', '.join(open_clip.list_models())}")
        path = Path(self.checkpoint)
        obj = read_torch_checkpoint(path, self.trusted)
        cfg_file = obj.get("model_config_file")
        official = {a.removesuffix("-quickgelu") for a in CLOOB_CONFIG_ARCH.values()}
        if self.checkpoint_format == "cloob" and isinstance(cfg_file, str) and cfg_file in CLOOB_CONFIG_ARCH \
                and self.arch.removesuffix("-quickgelu") in official and CLOOB_CONFIG_ARCH[cfg_file] != self.arch:
            raise UserError(f"{path}: a CLOOB checkpoint of {cfg_file}, not {self.arch}; "
                            f"set arch = \"{CLOOB_CONFIG_ARCH[cfg_file]}\"")
        sd = CONVERTERS[self.checkpoint_format](_state_dict(obj, path))
        torch.manual_seed(0)
        model, _, preprocess = open_clip.create_model_and_transforms(self.arch, pretrained=None, device=self.device)
        if not _uses_quick_gelu(model):
            raise UserError(f"model {self.name}: {self.checkpoint_format} checkpoints were trained with OpenAI's "
                            f"QuickGELU; use arch = \"{self.arch}-quickgelu\" (not {self.arch})")
        report = load_strict(model, sd, path, self.arch)
        dropped = [k for k in DROPPED.get(self.checkpoint_format, ()) if k in _state_dict(obj, path)]
        self.conversion = {**report, "dropped_training_only": dropped, "epoch": obj.get("epoch"),
                           "model_config_file": cfg_file}
        model.eval()
        tokenizer = open_clip.get_tokenizer(self.arch)
        self._loaded = (model, preprocess, tokenizer)
        return self._loaded

    def embed(self, dataset: PairedDataset, cache_dir: Path | None = None) -> EmbeddingSet:
        emb = super().embed(dataset, cache_dir)
        prov = {**emb.provenance, "checkpoint": str(self.checkpoint), "checkpoint_format": self.checkpoint_format,
                "checkpoint_sha256": self.weights_id().removeprefix("sha256:"), **({"conversion": self.conversion}
                                                                                   if self.conversion else {})}
        return EmbeddingSet(emb.model, emb.dataset, emb.blocks, emb.logit_scale, prov)


_SOURCES: dict[tuple, OpenClipSource] = {}


def converted_source(name: str, arch: str, checkpoint: str, checkpoint_format: str,
                     trusted: bool = False) -> ConvertedCheckpointSource:
    key = ("converted", name, arch, checkpoint, checkpoint_format, trusted)
    if key not in _SOURCES:
        _SOURCES[key] = ConvertedCheckpointSource(arch, checkpoint=checkpoint, name=name,
                                                  checkpoint_format=checkpoint_format, trusted=trusted)
    return _SOURCES[key]


# -- CLOOB LAION-400M ViT (crowsonkb/cloob-training) -------------------------------------------------
CLOOB_LAION_CONFIG = {  # cloob_training/pretrained_configs/cloob_laion_400m_vit_b_16_{16,32}_epochs.json
    "d_embed": 512, "inv_tau": 30.0,
    "image_encoder": {"image_size": 224, "patch_size": 16, "n_layers": 12, "d_model": 768, "n_heads": 12,
                      "input_channels": 3, "normalize": {"mean": [0.48145466, 0.4578275, 0.40821073],
                                                         "std": [0.26862954, 0.26130258, 0.27577711]}},
    "text_encoder": {"text_size": 77, "vocab_size": 49408, "n_layers": 12, "d_model": 512, "n_heads": 8},
}

_ALLOWED_PICKLE = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                   ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                   ("numpy._core.multiarray", "scalar"), ("collections", "OrderedDict"),
                   ("builtins", "dict"), ("builtins", "list"), ("builtins", "tuple")}


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED_PICKLE:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name}")


def read_haiku_pickle(path: str | Path) -> tuple[dict, dict]:
    """(image params, text params) of a cloob-training checkpoint, unpickling numpy arrays only."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: checkpoint file not found; download cloob_laion_400m_vit_b_16_16_epochs-*.pkl "
                        "(see docs/configuration.md) and point `checkpoint` at it")
    try:
        with open(p, "rb") as f:
            obj = _ArraysOnly(f).load()
    except pickle.UnpicklingError as exc:
        raise UserError(f"{p}: refuses to unpickle {exc} (only numpy arrays are allowed); convert the params "
                        "with jax.device_get and re-pickle them as numpy arrays") from None
    except Exception as exc:  # noqa: BLE001
        raise UserError(f"{p}: not a readable cloob-training checkpoint ({type(exc).__name__})") from None
    params = obj.get("params") if isinstance(obj, dict) else None
    if not (isinstance(params, (tuple, list)) and len(params) == 2 and all(isinstance(x, dict) for x in params)):
        raise UserError(f"{p}: expected {{'params': (image_params, text_params)}} as saved by cloob-training")
    return params[0], params[1]


def _haiku_to_torch(params: dict, base: str, pt_base: str, path: Path) -> dict:
    """The cloob-training key mapping (model_pt.convert_jax_*_params), recording every parameter used."""
    import numpy as np
    import torch

    state, used = {}, set()

    def put(key, module, name, arr, transform=None):
        t = torch.from_numpy(np.ascontiguousarray(np.asarray(arr, dtype=np.float32)))
        state[f"{pt_base}.{key}"] = transform(t) if transform else t
        used.add((module, name))

    T = lambda t: t.T  # noqa: E731
    for module, leaves in params.items():
        names = module.split("/")
        if not isinstance(leaves, dict):
            raise UserError(f"{path}: parameter group {module!r} is not a dict of arrays")
        if module == base and "class_embed" in leaves:
            put("class_embed", module, "class_embed", leaves["class_embed"])
        elif len(names) < 2:
            continue
        elif names[1] == "embed":
            if "embeddings" in leaves:
                put("embed.weight", module, "embeddings", leaves["embeddings"])
            else:
                put("embed.weight", module, "w", leaves["w"], lambda t: t.permute(3, 2, 0, 1))
        elif names[1] == "pos_embed":
            put("pos_embed.weight", module, "w", leaves["w"])
        elif names[1] == "proj":
            put("proj.weight", module, "w", leaves["w"], T)
            put("proj.bias", module, "b", leaves["b"])
        elif names[1].startswith("layer_") and len(names) >= 4:
            n = int(names[1].partition("_")[2])
            if names[2] == "self_attention" and names[3] == "layer_norm":
                put(f"layers.{n}.attn.norm.weight", module, "scale", leaves["scale"])
                put(f"layers.{n}.attn.norm.bias", module, "offset", leaves["offset"])
            elif names[2] == "self_attention" and names[3] == "multi_head_attention" and len(names) == 5:
                dst = {"query": "query", "key": "key", "value": "value", "linear": "out"}.get(names[4])
                if dst:
                    put(f"layers.{n}.attn.{dst}.weight", module, "w", leaves["w"], T)
                    put(f"layers.{n}.attn.{dst}.bias", module, "b", leaves["b"])
            elif names[2] == "feed_forward" and names[3] == "layer_norm":
                put(f"layers.{n}.ff.norm.weight", module, "scale", leaves["scale"])
                put(f"layers.{n}.ff.norm.bias", module, "offset", leaves["offset"])
            elif names[2] == "feed_forward" and names[3] in ("linear_0", "linear_1"):
                put(f"layers.{n}.ff.{names[3]}.weight", module, "w", leaves["w"], T)
                put(f"layers.{n}.ff.{names[3]}.bias", module, "b", leaves["b"])
    unused = [f"{m}/{k}" for m, leaves in params.items() for k in leaves if (m, k) not in used]
    if unused:
        raise UserError(f"{path}: {len(unused)} parameters of the {pt_base} have no place in the model "
                        f"(e.g. {unused[:2]}); is this a cloob-training ViT checkpoint?")
    return state


def _cloob_laion_module(cfg: dict):
    import torch
    import torch.nn.functional as F
    from torch import nn

    class SelfAttention(nn.Module):
        def __init__(self, d, heads):
            super().__init__()
            self.norm, self.heads = nn.LayerNorm(d), heads
            self.query, self.key, self.value, self.out = (nn.Linear(d, d) for _ in range(4))

        def forward(self, x, padding_mask=None):
            h = self.norm(x)
            shape = (*h.shape[:-1], self.heads, h.shape[-1] // self.heads)
            q, k, v = self.query(h).view(shape), self.key(h).view(shape), self.value(h).view(shape)
            logits = torch.einsum("...thd,...Thd->...htT", q, k) / shape[-1] ** 0.5
            if padding_mask is not None:  # masks query positions, exactly as the published model_pt.py
                logits = torch.where(padding_mask[:, None, :, None], logits, logits.new_tensor(-1e30))
            attn = torch.einsum("...htT,...Thd->...thd", logits.softmax(-1), v)
            return self.out(attn.reshape(h.shape))

    class FeedForward(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.norm, self.linear_0, self.linear_1 = nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(self, x):
            return self.linear_1(F.gelu(self.linear_0(self.norm(x))))

    class Layer(nn.Module):
        def __init__(self, d, heads):
            super().__init__()
            self.attn, self.ff = SelfAttention(d, heads), FeedForward(d)

        def forward(self, x, padding_mask=None):
            x = x + self.attn(x, padding_mask)
            return x + self.ff(x)

    class PosEmbed(nn.Module):
        def __init__(self, n, d):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(n, d))

    class ImageEncoder(nn.Module):
        def __init__(self, c, d_embed):
            super().__init__()
            d, p = c["d_model"], c["patch_size"]
            self.embed = nn.Conv2d(c["input_channels"], d, p, p, bias=False)
            self.class_embed = nn.Parameter(torch.zeros(d))
            self.pos_embed = PosEmbed((c["image_size"] // p) ** 2 + 1, d)
            self.layers = nn.ModuleList(Layer(d, c["n_heads"]) for _ in range(c["n_layers"]))
            self.proj = nn.Linear(d, d_embed)

        def forward(self, x):
            x = self.embed(x).flatten(2).permute(0, 2, 1)
            x = torch.cat([self.class_embed[None, None].expand(x.shape[0], 1, -1), x], dim=1) + self.pos_embed.weight
            for layer in self.layers:
                x = layer(x)
            return F.normalize(self.proj(x[:, 0]), dim=-1)

    class TextEncoder(nn.Module):
        def __init__(self, c, d_embed):
            super().__init__()
            d = c["d_model"]
            self.eot = c["vocab_size"] - 1
            self.embed = nn.Embedding(c["vocab_size"], d)
            self.pos_embed = PosEmbed(c["text_size"], d)
            self.layers = nn.ModuleList(Layer(d, c["n_heads"]) for _ in range(c["n_layers"]))
            self.proj = nn.Linear(d, d_embed)

        def forward(self, tokens):
            eot = tokens == self.eot
            padding = (torch.cumsum(eot, dim=-1) == 0) | eot
            x = self.embed(tokens) + self.pos_embed.weight
            for layer in self.layers:
                x = layer(x, padding)
            return F.normalize(self.proj(x[:, 0]), dim=-1)

    class CloobLaionModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.image_encoder = ImageEncoder(cfg["image_encoder"], cfg["d_embed"])
            self.text_encoder = TextEncoder(cfg["text_encoder"], cfg["d_embed"])
            self.register_buffer("logit_scale", torch.tensor(math.log(cfg["inv_tau"])), persistent=False)

        def encode_image(self, x):
            return self.image_encoder(x)

        def encode_text(self, t):
            return self.text_encoder(t)

    return CloobLaionModel()


@dataclass
class CloobLaionSource(OpenClipSource):
    """The CLOOB authors' LAION-400M ViT-B/16 from its cloob-training .pkl checkpoint."""

    config: dict = field(default_factory=lambda: CLOOB_LAION_CONFIG)
    conversion: dict = field(default_factory=dict)

    def load(self):
        if self._loaded is not None:
            return self._loaded
        import open_clip
        import torch
        from torchvision import transforms

        path = Path(self.checkpoint)
        image_params, text_params = read_haiku_pickle(path)
        sd = {**_haiku_to_torch(image_params, "vi_t_image_encoder", "image_encoder", path),
              **_haiku_to_torch(text_params, "text_encoder", "text_encoder", path)}
        torch.manual_seed(0)
        model = _cloob_laion_module(self.config)
        self.conversion = load_strict(model, sd, path, "CLOOB ViT (cloob-training)")
        model.eval().to(self.device)
        ic = self.config["image_encoder"]
        preprocess = transforms.Compose([
            transforms.Resize(ic["image_size"], interpolation=transforms.InterpolationMode.LANCZOS),
            transforms.CenterCrop(ic["image_size"]), transforms.ToTensor(),
            transforms.Normalize(ic["normalize"]["mean"], ic["normalize"]["std"])])
        tokenizer = open_clip.tokenizer.SimpleTokenizer(context_length=self.config["text_encoder"]["text_size"])
        self._loaded = (model, preprocess, tokenizer)
        return self._loaded

    def embed(self, dataset: PairedDataset, cache_dir: Path | None = None) -> EmbeddingSet:
        emb = super().embed(dataset, cache_dir)
        prov = {**emb.provenance, "checkpoint": str(self.checkpoint), "checkpoint_format": "cloob_laion",
                "checkpoint_sha256": file_digest(self.checkpoint)}
        return EmbeddingSet(emb.model, emb.dataset, emb.blocks, emb.logit_scale, prov)


def cloob_laion_source(name: str, checkpoint: str, config: dict | None = None) -> CloobLaionSource:
    key = ("cloob_laion", name, checkpoint, repr(config))
    if key not in _SOURCES:
        _SOURCES[key] = CloobLaionSource("cloob-laion-vit", checkpoint=checkpoint, name=name,
                                         **({"config": config} if config else {}))
    return _SOURCES[key]


def cloob_laion_from_config(world, entry, dataset_id: str) -> EmbeddingSet:
    """The `cloob_laion` source (exporters/registry.py): `checkpoint`, and `config`, a cloob-training
    pretrained_configs/*.json (default: the ViT-B/16 one)."""
    import json

    ds = world.dataset(dataset_id)
    cfg = None
    if "config" in entry.options:
        cfg_path = world.resolve(entry.options["config"])
        try:
            cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"{cfg_path}: not a readable cloob-training config ({type(exc).__name__})") from None
    return cloob_laion_source(entry.id, str(world.resolve(entry.options["checkpoint"])), cfg
                              ).embed(ds, world.embedding_dir)
