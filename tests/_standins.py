"""Small stand-in files in the real published formats (no downloads): COCO captions, DiffusionDB
parts, AudioSet-style triplets with WAV files, CLOOME tables with SMILES, and tiny open_clip
models saved as CyCLIP / CLOOB / cloob-training checkpoints."""

from __future__ import annotations

import csv
import json
import pickle
import tempfile
import wave
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

SMILES = ["[O-][N+](=O)c1ccc(F)c(NC(=O)Nc2ccccc2)c1", "CCOc1cc(cc2Oc3ccccc3NC(=O)c12)[N+]([O-])=O",
          "CCOc1ccc(cc1)-c1nnc(NC2=NCCCCC2)o1", "CC(=O)Oc1ccccc1C(=O)O", "c1ccccc1", "CCO", "CN1CCC[C@H]1c2cccnc2",
          "O=C(O)CC(O)(CC(=O)O)C(=O)O"]


def image(i: int, size: tuple[int, int] = (24, 24)) -> Image.Image:
    rng = np.random.default_rng(i)
    a = np.zeros((size[1], size[0], 3), np.uint8) + rng.integers(0, 256, 3, dtype=np.uint8)
    a[: size[1] // 2, : size[0] // 3] = rng.integers(0, 256, 3, dtype=np.uint8)
    return Image.fromarray(a)


def write_images(folder: Path, names: list[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, n in enumerate(names):
        image(i).save(folder / n)
        out.append(folder / n)
    return out


def write_coco(root: Path, n: int) -> tuple[Path, Path]:
    """captions_val2017.json (COCO layout: info/licenses/images/annotations) + val2017/ with n JPEGs.
    Image ids are not sorted in the file, and each image has two captions; the first in file order
    is '<id> first caption'."""
    ids = [397133 + 7 * ((i * 37) % n) for i in range(n)]
    images = [{"license": 1, "file_name": f"{iid:012d}.jpg", "coco_url": "", "height": 24, "width": 24,
               "date_captured": "", "flickr_url": "", "id": iid} for iid in ids]
    anns = []
    for k, iid in enumerate(ids):
        anns.append({"image_id": iid, "id": 1000 + k, "caption": f"{iid} first caption "})
    for k, iid in enumerate(ids):
        anns.append({"image_id": iid, "id": 9000 + k, "caption": f"{iid} second caption"})
    ann = root / "annotations" / "captions_val2017.json"
    ann.parent.mkdir(parents=True, exist_ok=True)
    ann.write_text(json.dumps({"info": {}, "licenses": [], "images": images, "annotations": anns}))
    write_images(root / "val2017", [im["file_name"] for im in images])
    return ann, root / "val2017"


def write_diffusiondb(root: Path, n: int, part: int = 1, parquet: bool = True) -> tuple[Path, Path | None]:
    """images/part-00000{part}.zip with n PNGs + part JSON ({name: {p, se, c, st, sa}}), and
    metadata.parquet (image_name, prompt, part_id, seed, step, cfg, sampler)."""
    names = [f"{h:08x}-aef7-4225-a9e9-f516527408ac.png" for h in np.random.default_rng(part).integers(0, 2**31, n)]
    meta = {nm: {"p": f"prompt {i} by tom bagshaw", "se": i, "c": 7.0, "st": 50, "sa": 8} for i, nm in enumerate(names)}
    z = root / "images" / f"part-{part:06d}.zip"
    z.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(z, "w") as zf, tempfile.TemporaryDirectory() as tmp:
        for i, nm in enumerate(names):
            p = Path(tmp) / nm
            image(100 + i).save(p)
            zf.write(p, nm)
        zf.writestr(f"part-{part:06d}.json", json.dumps(meta))
    pq_path = None
    if parquet:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq_path = root / "metadata.parquet"
        pq.write_table(pa.table({"image_name": names + ["other.png"],
                                 "prompt": [m["p"] for m in meta.values()] + ["elsewhere"],
                                 "part_id": [part] * n + [part + 1], "seed": list(range(n)) + [0],
                                 "step": [50] * (n + 1), "cfg": [7.0] * (n + 1), "sampler": [8] * (n + 1)}), pq_path)
    return z, pq_path


def write_wav(path: Path, seconds: float = 0.1, rate: int = 8000, freq: float = 440.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    pcm = (np.sin(2 * np.pi * freq * t) * 12000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def write_triplets(root: Path, n: int) -> Path:
    """triplets.csv (id,image,label,audio) + images/*.jpg + audios/*.wav, like AudioSet exports."""
    rows = []
    for i in range(n):
        image(i).save(_mk(root / "images") / f"{i}.jpg")
        write_wav(root / "audios" / f"{i}.wav", freq=200 + 40 * i)
        rows.append({"id": f"yt{i:03d}", "image": f"images/{i}.jpg", "label": f"a dog barking {i}",
                     "audio": f"audios/{i}.wav"})
    table = root / "triplets.csv"
    with open(table, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["id", "image", "label", "audio"])
        w.writeheader()
        w.writerows(rows)
    return table


def write_cloome(root: Path, n: int) -> Path:
    rows = []
    for i in range(n):
        image(i).save(_mk(root / "images") / f"{i}.png")
        rows.append({"SAMPLE_KEY": f"{i}", "SMILES": SMILES[i % len(SMILES)]})
    table = root / "cloome.csv"
    with open(table, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["SAMPLE_KEY", "SMILES"])
        w.writeheader()
        w.writerows(rows)
    return table


def _mk(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


# -- tiny models ---------------------------------------------------------------------------------
TINY_RN = "TinyRN-quickgelu"
TINY_RN_WIDE = "TinyRNWide-quickgelu"
TINY_RN_GELU = "TinyRN"
_REGISTERED = False


def register_tiny_configs() -> None:
    """Tiny ModifiedResNet CLIPs (OpenAI layout, like RN50 but 3M parameters) in open_clip's registry."""
    global _REGISTERED
    if _REGISTERED:
        return
    import open_clip

    text = {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}
    cfgs = {TINY_RN: {"embed_dim": 32, "quick_gelu": True,
                      "vision_cfg": {"image_size": 32, "layers": [1, 1, 1, 1], "width": 8, "patch_size": None},
                      "text_cfg": text},
            TINY_RN_WIDE: {"embed_dim": 32, "quick_gelu": True,
                           "vision_cfg": {"image_size": 32, "layers": [1, 1, 1, 1], "width": 16, "patch_size": None},
                           "text_cfg": text},
            TINY_RN_GELU: {"embed_dim": 32,
                           "vision_cfg": {"image_size": 32, "layers": [1, 1, 1, 1], "width": 8, "patch_size": None},
                           "text_cfg": text}}
    d = Path(tempfile.mkdtemp(prefix="tiny_open_clip_"))
    for name, cfg in cfgs.items():
        (d / f"{name}.json").write_text(json.dumps(cfg))
    open_clip.add_model_config(d)
    _REGISTERED = True


def tiny_model(arch: str = TINY_RN, seed: int = 1):
    import open_clip
    import torch

    register_tiny_configs()
    torch.manual_seed(seed)
    model = open_clip.create_model(arch)
    with torch.no_grad():  # make BatchNorm statistics non-trivial so a mix-up would show
        for name, buf in model.named_buffers():
            if name.endswith("running_mean"):
                buf.copy_(torch.randn_like(buf) * 0.1)
            elif name.endswith("running_var"):
                buf.copy_(torch.rand_like(buf) + 0.5)
        model.logit_scale.fill_(float(np.log(30.0)))
    return model.eval()


def save_cyclip(model, path: Path) -> Path:
    """As CyCLIP's src/main.py saves: {'epoch', 'name', 'state_dict' (DDP 'module.' keys), 'optimizer'}."""
    import torch

    from exporters.sources.checkpoints import open_clip_to_cyclip

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"epoch": 64, "name": "cyclip", "state_dict": open_clip_to_cyclip(model.state_dict()),
                "optimizer": {"state": {}, "param_groups": [{"lr": 5e-4, "params": [0, 1]}]}}, path)
    return path


def save_cloob(model, path: Path, config_file: str = "RN50.json") -> Path:
    """As the CLOOB authors' released RN50 checkpoints: CLIPGeneral keys + logit_scale_hopfield."""
    import torch

    from exporters.sources.checkpoints import open_clip_to_cloob

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"epoch": 28, "name": "cloob_rn50_yfcc", "state_dict": open_clip_to_cloob(model.state_dict()),
                "optimizer": {"state": {}, "param_groups": []}, "model_config_file": config_file}, path)
    return path


TINY_CLOOB_LAION = {
    "d_embed": 16, "inv_tau": 30.0,
    "image_encoder": {"image_size": 32, "patch_size": 16, "n_layers": 2, "d_model": 32, "n_heads": 2,
                      "input_channels": 3, "normalize": {"mean": [0.48145466, 0.4578275, 0.40821073],
                                                         "std": [0.26862954, 0.26130258, 0.27577711]}},
    "text_encoder": {"text_size": 77, "vocab_size": 49408, "n_layers": 1, "d_model": 16, "n_heads": 2},
}


def haiku_params(cfg: dict = TINY_CLOOB_LAION, seed: int = 0) -> tuple[dict, dict]:
    """Random params named as cloob-training's Haiku modules (numpy arrays, JAX layouts)."""
    rng = np.random.default_rng(seed)
    r = lambda *s: rng.standard_normal(s).astype(np.float32) * 0.2  # noqa: E731

    def tower(base, c, d_embed, image):
        d = c["d_model"]
        p = {}
        if image:
            p[base] = {"class_embed": r(d)}
            p[f"{base}/embed"] = {"w": r(c["patch_size"], c["patch_size"], c["input_channels"], d)}
            p[f"{base}/pos_embed"] = {"w": r((c["image_size"] // c["patch_size"]) ** 2 + 1, d)}
        else:
            p[f"{base}/embed"] = {"embeddings": r(c["vocab_size"], d)}
            p[f"{base}/pos_embed"] = {"w": r(c["text_size"], d)}
        for n in range(c["n_layers"]):
            p[f"{base}/layer_{n}/self_attention/layer_norm"] = {"scale": 1 + r(d), "offset": r(d)}
            for q in ("query", "key", "value", "linear"):
                p[f"{base}/layer_{n}/self_attention/multi_head_attention/{q}"] = {"w": r(d, d), "b": r(d)}
            p[f"{base}/layer_{n}/feed_forward/layer_norm"] = {"scale": 1 + r(d), "offset": r(d)}
            p[f"{base}/layer_{n}/feed_forward/linear_0"] = {"w": r(d, 4 * d), "b": r(4 * d)}
            p[f"{base}/layer_{n}/feed_forward/linear_1"] = {"w": r(4 * d, d), "b": r(d)}
        p[f"{base}/proj"] = {"w": r(d, d_embed), "b": r(d_embed)}
        return p

    return (tower("vi_t_image_encoder", cfg["image_encoder"], cfg["d_embed"], True),
            tower("text_encoder", cfg["text_encoder"], cfg["d_embed"], False))


def save_cloob_laion(path: Path, cfg: dict = TINY_CLOOB_LAION, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump({"params": haiku_params(cfg, seed), "epoch": 16}, f)
    return path


def one_torch_thread():
    """Generator for an autouse fixture: tiny models on a shared 2-core machine run ~15x faster on one
    thread than with torch's default pool fighting other processes."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
