"""Embeddings from open_clip models: an architecture plus a pretrained tag or a local checkpoint.

The only source that imports torch. Images go through the model's own preprocessing, texts through
its own tokenizer; features are L2-normalized before they leave (cosine similarity needs it), and
the model's logit scale (exp of the learned parameter) travels with them.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from exporters.analysis.normalize import l2_normalize
from exporters.cache import cached_arrays, file_digest
from exporters.errors import UserError
from exporters.pairs import EmbeddingSet, PairedDataset

BATCH = 64
LOGIT_KEY = "__logit_scale__"


def _open_clip():
    import open_clip

    try:  # the project's own small configs (the embedded default), if present
        from exporters.model_configs import register_configs

        register_configs()
    except ImportError:
        pass
    return open_clip


def _project_tokenizer(arch: str):
    try:
        from exporters.model_configs import tokenizer_for
    except ImportError:
        return None
    return tokenizer_for(arch)


class _DropRandomInitWarning(logging.Filter):
    """open_clip warns that a model is randomly initialised even when a checkpoint is loaded next."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "No pretrained weights loaded" not in record.getMessage()


@dataclass
class OpenClipSource:
    """An open_clip model identity: `arch` ('ViT-B-32', or a project config) and exactly one of a
    `pretrained` tag ('openai', 'laion2b_s34b_b79k', ...), a local `checkpoint` file, or
    `random_init=True` (an untrained model, seeded: never a fallback for missing weights)."""

    arch: str
    pretrained: str | None = None
    checkpoint: str | None = None
    name: str = ""
    random_init: bool = False
    device: str = field(default_factory=lambda: os.environ.get("EXPORTERS_DEVICE", "cpu"))
    _loaded: tuple | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.name = self.name or (f"{self.arch}/{self.pretrained}" if self.pretrained else
                                  f"{self.arch}/{Path(self.checkpoint).name}" if self.checkpoint else
                                  f"{self.arch}/random")

    # -- identity ---------------------------------------------------------------------------------
    def weights_id(self) -> str:
        """What the weights are: a checkpoint's sha256, a pretrained tag, or 'random-init'."""
        self._check_weights()
        if self.checkpoint:
            path = Path(self.checkpoint)
            if not path.is_file():
                raise UserError(f"{path}: checkpoint file not found; train it (python -m exporters train) "
                                "or point `checkpoint` at an existing .safetensors/.pt file")
            return "sha256:" + file_digest(path)
        return f"tag:{self.pretrained}" if self.pretrained else "random-init:seed0"

    def _check_weights(self) -> None:
        given = [k for k, v in (("pretrained", self.pretrained), ("checkpoint", self.checkpoint),
                                ("random_init", self.random_init)) if v]
        if not given:
            raise UserError(f"model {self.name}: no weights given; set pretrained or checkpoint, "
                            "or random_init for an untrained model")
        if len(given) > 1:
            raise UserError(f"model {self.name}: give exactly one of {' and '.join(given)}")

    # -- loading ----------------------------------------------------------------------------------
    def load(self):
        """(model, preprocess, tokenizer), loaded once; every failure is a one-line UserError."""
        if self._loaded is not None:
            return self._loaded
        open_clip = _open_clip()
        import torch

        if self.arch not in open_clip.list_models():
            raise UserError(f"unknown open_clip architecture {self.arch!r}; known: {', '.join(open_clip.list_models())}")
        self._check_weights()
        if self.pretrained:
            tags = open_clip.list_pretrained_tags_by_model(self.arch)
            if self.pretrained not in tags:
                raise UserError(f"{self.arch}: unknown pretrained tag {self.pretrained!r}; "
                                f"known: {', '.join(tags) or 'none (use a local checkpoint)'}")
        torch.manual_seed(0)
        quiet = _DropRandomInitWarning() if self.checkpoint else None  # the checkpoint comes next
        if quiet:
            logging.getLogger().addFilter(quiet)
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(
                self.arch, pretrained=self.pretrained, device=self.device)
        except Exception as exc:  # noqa: BLE001 - download failures come in many types
            if self.pretrained:
                raise UserError(
                    f"{self.arch}/{self.pretrained}: weights are not available offline ({type(exc).__name__}); "
                    "download them where there is network (open_clip.create_model_and_transforms("
                    f"'{self.arch}', pretrained='{self.pretrained}')), then copy the Hugging Face cache "
                    "to $HF_HOME here, or set `checkpoint` to the downloaded file") from None
            raise UserError(f"{self.arch}: could not build the model ({exc})") from None
        finally:
            if quiet:
                logging.getLogger().removeFilter(quiet)
        if self.checkpoint:
            self.weights_id()
            try:
                result = open_clip.load_checkpoint(model, self.checkpoint, strict=True, device=self.device)
            except Exception as exc:  # noqa: BLE001
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise UserError(f"{self.checkpoint}: does not fit architecture {self.arch} ({first[:200]}); "
                                "use the architecture the checkpoint was trained with") from None
            if result and (getattr(result, "missing_keys", None) or getattr(result, "unexpected_keys", None)):
                raise UserError(f"{self.checkpoint}: weights do not fit {self.arch} "
                                f"(missing {result.missing_keys[:3]}, unexpected {result.unexpected_keys[:3]})")
        model.eval()
        tokenizer = _project_tokenizer(self.arch) or open_clip.get_tokenizer(self.arch)
        self._loaded = (model, preprocess, tokenizer)
        return self._loaded

    def logit_scale(self) -> float:
        model = self.load()[0]
        return float(model.logit_scale.exp().item())

    # -- encoding ---------------------------------------------------------------------------------
    def _encode(self, dataset: PairedDataset) -> dict[str, np.ndarray]:
        import torch
        from tqdm import tqdm

        from exporters.images import load_rgb

        model, preprocess, tokenizer = self.load()
        out: dict[str, np.ndarray] = {}
        show = os.environ.get("EXPORTERS_PROGRESS", "1") != "0"  # and only on a terminal
        for m in dataset.modalities:
            chunks = []
            for start in tqdm(range(0, len(m.items), BATCH), disable=None if show else True,
                              desc=f"{self.name} {dataset.id} {m.name}", leave=False):
                batch = m.items[start:start + BATCH]
                with torch.no_grad():
                    if m.kind == "image":
                        # every mode as its 8-bit RGB content, upright (exporters/images.py)
                        tensors = [preprocess(load_rgb(path)) for path in batch]
                        feats = model.encode_image(torch.stack(tensors).to(self.device))
                    elif m.kind == "text":
                        feats = model.encode_text(tokenizer(list(batch)).to(self.device))
                    else:
                        raise UserError(f"{self.name}: open_clip models encode images and texts, not "
                                        f"{m.kind!r} ({dataset.id}:{m.name}); give precomputed embeddings instead")
                chunks.append(feats.float().cpu().numpy())
            out[m.name] = np.concatenate(chunks).astype(np.float32)
        out[LOGIT_KEY] = np.array([float(model.logit_scale.exp().item())])
        return out

    def embed(self, dataset: PairedDataset, cache_dir: Path | None = None) -> EmbeddingSet:
        """L2-normalized embeddings of every modality, cached by a hash of all inputs."""
        import open_clip
        import torch

        from exporters.images import VERSION as IMAGE_LOADER

        data_hash = hashlib.sha256()
        for m in dataset.modalities:
            data_hash.update(f"{m.name}:{m.kind}\n".encode())
            for item in m.items:
                if m.kind in ("image", "audio") and Path(item).is_file():
                    data_hash.update(file_digest(item).encode())
                else:
                    data_hash.update(item.encode("utf-8", "surrogatepass"))
                data_hash.update(b"\n")
        parts = {
            "arch": self.arch, "weights": self.weights_id(), "dataset": dataset.id,
            "ids": hashlib.sha256("\n".join(dataset.ids).encode()).hexdigest(), "data": data_hash.hexdigest(),
            "open_clip": open_clip.__version__, "torch": torch.__version__.split("+")[0],
            "image_loader": IMAGE_LOADER,
        }
        raw, hit = cached_arrays(parts, lambda: self._encode(dataset), cache_dir)
        blocks = {m.name: l2_normalize(raw[m.name], f"{self.name} on {dataset.id}:{m.name}", dataset.ids)
                  for m in dataset.modalities}
        return EmbeddingSet(self.name, dataset.id, blocks, float(raw[LOGIT_KEY][0]),
                            {"source": "open_clip", **parts, "cache_hit": hit})


# -- the configuration's `open_clip` source (exporters/registry.py) -----------------------------------------
_SOURCES: dict[tuple, OpenClipSource] = {}


def open_clip_source(name: str, arch: str, pretrained: str | None = None, checkpoint: str | None = None,
                     random_init: bool = False) -> OpenClipSource:
    """One loaded model per (name, weights) in a process."""
    key = (name, arch, pretrained, checkpoint, random_init)
    if key not in _SOURCES:
        _SOURCES[key] = OpenClipSource(arch, pretrained=pretrained, checkpoint=checkpoint, name=name,
                                       random_init=random_init)
    return _SOURCES[key]


def from_config(world, entry, dataset_id: str) -> EmbeddingSet:
    """arch + exactly one of pretrained, checkpoint, random_init = true (checked at load_config);
    a checkpoint_format other than open_clip converts a CyCLIP or CLOOB file (exporters/sources/checkpoints.py)."""
    o = entry.options
    ds = world.dataset(dataset_id)
    checkpoint = str(world.resolve(o["checkpoint"])) if "checkpoint" in o else None
    if o.get("checkpoint_format", "open_clip") != "open_clip":
        from exporters.sources.checkpoints import converted_source

        if checkpoint is None:
            raise UserError(f"model {entry.id}: checkpoint_format needs a `checkpoint` file")
        source = converted_source(entry.id, o["arch"], checkpoint, o["checkpoint_format"],
                                  bool(o.get("trusted_pickle", False)))
    else:
        source = open_clip_source(entry.id, o["arch"], o.get("pretrained"), checkpoint, o.get("random_init") is True)
    return source.embed(ds, world.embedding_dir)
