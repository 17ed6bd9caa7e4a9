"""Train the shipped CLIP-like models on the shapes world, on the CPU, reproducibly.

One run: seed everything, render the training split in memory (no files), train the open_clip
architecture ARCH with one objective, measure it on the 5000-pair evaluation split, and write
`<out>/<name>.safetensors` (the open_clip state dict, loadable with
open_clip.create_model(ARCH, pretrained=path)) and `<out>/<name>.json` (the training record), both
atomically. `name='random'` writes the untrained, seeded initialization.
"""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from exporters.analysis import gap, losses, retrieval
from exporters.cache import file_digest
from exporters.datasets import shapes
from exporters.errors import UserError
from exporters.model_configs import register_configs, tokenizer_for
from exporters.training import ARCH
from exporters.training.objectives import OBJECTIVES, cyclip_terms


@dataclass
class TrainConfig:
    name: str
    objective: str | None           # None: the untrained initialization
    seed: int = 0
    steps: int = 1200
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.1
    warmup: int = 100
    temperature: str = "fixed"      # 'fixed' or 'learned'
    init_scale: float = 30.0        # inverse temperature at the start (fixed: throughout)
    max_scale: float = 100.0        # clamp for a learned scale, as in CLIP
    hopfield_beta: float = 8.0      # CLOOB only
    train_pairs: int = shapes.SPLITS["train"]
    eval_pairs: int = shapes.SPLITS["eval5000"]
    threads: int = 1
    arch: str = ARCH
    notes: str = ""
    extra: dict = field(default_factory=dict)


# The shipped set: one coherent protocol, only the objective changes.
SHIPPED_CONFIGS = {
    "random": TrainConfig("random", None, steps=0),
    "clip": TrainConfig("clip", "clip"),
    "cyclip": TrainConfig("cyclip", "cyclip"),
    "infoloob": TrainConfig("infoloob", "infoloob"),
    "cloob": TrainConfig("cloob", "cloob", hopfield_beta=30.0,
                         notes="beta=8 (the paper's value) did not learn in 1200 steps here: see models/README.md"),
    # The temperature series (Liang et al. 2022, Mind the Gap, sec. 4.2): CLIP/InfoNCE with only the inverse
    # temperature changed; `clip` is the series' fixed-30 point.
    "clip_t10": TrainConfig("clip_t10", "clip", init_scale=10.0, notes="temperature series: fixed inverse temperature 10"),
    "clip_t100": TrainConfig("clip_t100", "clip", init_scale=100.0,
                             notes="temperature series: fixed inverse temperature 100"),
    "clip_learned": TrainConfig("clip_learned", "clip", temperature="learned", init_scale=1 / 0.07,
                                notes="temperature series: learned inverse temperature, initialised as "
                                      "open_clip does (1/0.07), clamped at 100"),
}


# --- data --------------------------------------------------------------------------------------

def _pil_stage(preprocess):
    """The PIL-side transforms of open_clip's preprocessing (resize, crop), then uint8 HWC."""
    steps = [t for t in preprocess.transforms if type(t).__name__ not in ("MaybeToTensor", "ToTensor", "Normalize")]
    norm = [t for t in preprocess.transforms if type(t).__name__ == "Normalize"][0]

    def to_uint8(img):
        for t in steps:
            img = t(img)
        return np.asarray(img.convert("RGB"), dtype=np.uint8)
    return to_uint8, torch.tensor(norm.mean).view(1, 3, 1, 1), torch.tensor(norm.std).view(1, 3, 1, 1)


class PairPool:
    """Images of one split, pre-processed exactly as open_clip's `preprocess` does, kept as uint8."""

    def __init__(self, split: str, n: int, preprocess, tokenizer):
        to_uint8, self.mean, self.std = _pil_stage(preprocess)
        imgs, caps = [], []
        for i in range(n):
            img, cap = shapes.render_pair(i, split)
            imgs.append(to_uint8(img))
            caps.append(cap)
        self.images = np.stack(imgs)                 # (n, H, W, 3) uint8
        self.captions = caps
        self.tokens = tokenizer(caps)

    def __len__(self) -> int:
        return len(self.captions)

    def image_batch(self, idx) -> torch.Tensor:
        x = torch.from_numpy(self.images[idx]).permute(0, 3, 1, 2).float().div_(255.0)   # = ToTensor
        return (x - self.mean) / self.std


@torch.no_grad()
def encode_pool(model, pool: PairPool, batch: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """L2-normalized image and text embeddings of a pool, as float64 numpy."""
    model.eval()
    xs, ys = [], []
    for s in range(0, len(pool), batch):
        idx = np.arange(s, min(s + batch, len(pool)))
        xs.append(model.encode_image(pool.image_batch(idx), normalize=True))
        ys.append(model.encode_text(pool.tokens[idx], normalize=True))
    return torch.cat(xs).double().numpy(), torch.cat(ys).double().numpy()


def measure(x: np.ndarray, y: np.ndarray, scale: float, loss_batch: int = 128) -> dict:
    """What the article reports of a model, on L2-normalized paired embeddings (eval split)."""
    r = retrieval.recall_at_k(x, y, (1, 5, 10))
    xc, yc = gap.close_gap(x, y)
    n100 = min(100, len(x))
    s_ii, s_tt = x[:n100] @ x[:n100].T, y[:n100] @ y[:n100].T
    return {
        "image_to_text_R@1": r["x2y@1"], "text_to_image_R@1": r["y2x@1"],
        "image_to_text_R@5": r["x2y@5"], "text_to_image_R@5": r["y2x@5"],
        "image_to_text_R@10": r["x2y@10"], "text_to_image_R@10": r["y2x@10"],
        "chance_R@1": 1.0 / len(x),
        "modality_distance": gap.modality_distance(x, y),
        "modality_distance_closed": gap.modality_distance(xc, yc),
        "loss_scale": scale, "loss_batch_size": loss_batch,
        "infonce": losses.infonce(x, y, scale, loss_batch),
        "infonce_closed": losses.infonce(xc, yc, scale, loss_batch),
        "infoloob": losses.infoloob(x, y, scale, loss_batch),
        "infoloob_closed": losses.infoloob(xc, yc, scale, loss_batch),
        "mean_cross_similarity_pairs": float(np.mean(np.sum(x * y, axis=1))),
        "mean_image_image_similarity": float(s_ii[~np.eye(n100, dtype=bool)].mean()),
        "mean_text_text_similarity": float(s_tt[~np.eye(n100, dtype=bool)].mean()),
        "inmodal_difference_mean_abs_eval100": float(np.abs(s_ii - s_tt).mean()),
    }


# --- model -------------------------------------------------------------------------------------

def build_model(arch: str = ARCH, seed: int = 0):
    """A seeded, randomly initialized open_clip model of `arch`, its eval preprocess and tokenizer."""
    import open_clip
    register_configs()
    torch.manual_seed(seed)
    model, _, preprocess = open_clip.create_model_and_transforms(arch)
    return model, preprocess, tokenizer_for(arch)


def load_model(path: str | Path, arch: str = ARCH):
    """open_clip.create_model(arch, pretrained=path) with bad input turned into a UserError."""
    import open_clip
    register_configs()
    path = Path(path)
    if not path.is_file():
        raise UserError(f"checkpoint {path} not found; train it with `python -m exporters train`")
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(arch, pretrained=str(path))
    except Exception as e:  # safetensors header errors, size mismatches, missing keys
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(f"checkpoint {path} cannot be loaded into {arch}: {first[:200]}") from e
    model.eval()
    return model, preprocess, tokenizer_for(arch)


def _param_groups(model, wd: float):
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "logit_scale" in n or "embedding" in n or n.endswith("bias") else decay).append(p)
    return [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]


def _lr(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return 0.5 * cfg.lr * (1 + math.cos(math.pi * t))


# --- files -------------------------------------------------------------------------------------

def _writable_dir(out: Path) -> Path:
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UserError(f"output folder {out} cannot be written: {e.strerror or e}") from e
    return out


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix + ".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def save_weights(model, path: Path, metadata: dict[str, str]) -> None:
    """Write the state dict as safetensors with byte-identical output for identical weights: the
    metadata goes in as one sorted JSON string (safetensors orders several keys arbitrarily)."""
    from safetensors.torch import save
    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    meta = {"exporters": json.dumps(metadata, sort_keys=True)}
    _atomic_write(path, save(state, metadata=meta))


# --- the run -----------------------------------------------------------------------------------

def train(cfg: TrainConfig, out: Path, log=print) -> dict:
    """Train (or just initialize) one model and write its weights and record into `out`."""
    if cfg.objective is not None and cfg.objective not in OBJECTIVES:
        raise UserError(f"unknown objective {cfg.objective!r}; use one of {', '.join(OBJECTIVES)}")
    if cfg.temperature not in ("fixed", "learned"):
        raise UserError(f"temperature must be 'fixed' or 'learned', got {cfg.temperature!r}")
    if not math.isfinite(cfg.init_scale) or cfg.init_scale <= 0:
        raise UserError(f"the inverse temperature must be positive and finite, got {cfg.init_scale!r}")
    if cfg.temperature == "learned" and not 1.0 <= cfg.init_scale <= cfg.max_scale:
        raise UserError(f"a learned inverse temperature starts within its clamp [1, {cfg.max_scale:g}], "
                        f"got {cfg.init_scale:g}")
    out = _writable_dir(out)
    torch.set_num_threads(cfg.threads)
    t0 = time.time()
    model, preprocess, tokenizer = build_model(cfg.arch, cfg.seed)
    with torch.no_grad():
        model.logit_scale.fill_(math.log(cfg.init_scale))
    model.logit_scale.requires_grad_(cfg.temperature == "learned")

    log(f"[{cfg.name}] rendering evaluation pool ...")
    eval_pool = PairPool("eval5000", cfg.eval_pairs, preprocess, tokenizer)
    curve: list[list[float]] = []
    final_loss = None
    if cfg.objective is not None and cfg.steps > 0:
        log(f"[{cfg.name}] rendering {cfg.train_pairs} training pairs ...")
        pool = PairPool("train", cfg.train_pairs, preprocess, tokenizer)
        loss_fn = OBJECTIVES[cfg.objective]
        kwargs = {"beta": cfg.hopfield_beta} if cfg.objective == "cloob" else {}
        opt = torch.optim.AdamW(_param_groups(model, cfg.weight_decay), lr=cfg.lr, betas=(0.9, 0.98), eps=1e-6)
        rng = np.random.default_rng(cfg.seed)
        order, pos = rng.permutation(len(pool)), 0
        recent: list[float] = []
        t_train = time.time()
        for step in range(cfg.steps):
            if pos + cfg.batch_size > len(order):
                order, pos = rng.permutation(len(pool)), 0
            idx = np.sort(order[pos:pos + cfg.batch_size])
            pos += cfg.batch_size
            for g in opt.param_groups:
                g["lr"] = _lr(step, cfg)
            model.train()
            img = model.encode_image(pool.image_batch(idx), normalize=True)
            txt = model.encode_text(pool.tokens[idx], normalize=True)
            scale = model.logit_scale.exp()
            loss = loss_fn(img, txt, scale, **kwargs)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if cfg.temperature == "learned":
                with torch.no_grad():
                    model.logit_scale.clamp_(0, math.log(cfg.max_scale))
            recent = (recent + [loss.item()])[-25:]
            if step % 25 == 24 or step == cfg.steps - 1:
                curve.append([step + 1, float(np.mean(recent)), float(scale)])
                log(f"[{cfg.name}] step {step + 1}/{cfg.steps} loss {np.mean(recent):.4f} "
                    f"scale {float(scale):.2f} {time.time() - t_train:.0f}s")
        final_loss = float(np.mean(recent))
    train_seconds = time.time() - t0

    x, y = encode_pool(model, eval_pool)
    scale = model.logit_scale.exp().item()
    metrics = measure(x, y, scale)
    with torch.no_grad():
        inm, crm = cyclip_terms(torch.from_numpy(x[:128]), torch.from_numpy(y[:128]))
    metrics["cyclip_inmodal_term_eval128"] = float(inm)
    metrics["cyclip_crossmodal_term_eval128"] = float(crm)

    import open_clip
    weights = out / f"{cfg.name}.safetensors"
    save_weights(model, weights, {"arch": cfg.arch, "objective": str(cfg.objective), "seed": str(cfg.seed),
                                  "shapes_version": shapes.SHAPES_VERSION})
    record = {
        "name": cfg.name, "arch": cfg.arch, "objective": cfg.objective, "seed": cfg.seed,
        "steps": cfg.steps if cfg.objective else 0,
        "config": asdict(cfg),
        "temperature": {"mode": cfg.temperature, "init_scale": cfg.init_scale, "final_scale": scale},
        "final_loss": final_loss,
        "loss_curve": curve,
        "val": {"dataset": f"shapes_{shapes.SHAPES_VERSION}_eval5000", "pairs": cfg.eval_pairs, **metrics},
        "val_R@1": (metrics["image_to_text_R@1"] + metrics["text_to_image_R@1"]) / 2,
        "train_minutes": train_seconds / 60.0,
        "weights": weights.name, "weights_sha256": file_digest(weights),
        "weights_bytes": weights.stat().st_size,
        "params": sum(p.numel() for p in model.parameters()),
        "versions": {"torch": torch.__version__, "open_clip": open_clip.__version__,
                     "python": platform.python_version(), "shapes": shapes.SHAPES_VERSION},
        "reproduce": f"python -m exporters train --shipped {cfg.name} --out models/"
        if cfg.name in SHIPPED_CONFIGS else None,
    }
    _atomic_write(out / f"{cfg.name}.json", (json.dumps(record, indent=1) + "\n").encode())
    log(f"[{cfg.name}] done in {train_seconds / 60:.1f} min: R@1 i2t {metrics['image_to_text_R@1']:.3f} "
        f"t2i {metrics['text_to_image_R@1']:.3f} gap {metrics['modality_distance']:.3f}")
    return record
