"""The compact, traceable copy of the seed article's exported data that lives in the repository.

The seed's authors published their exported folders (similarity matrices of real models on real
pairs, images, captions, SMILES, audio) under the MIT licence. The raw folders are ~100 MB; the
article needs far less. `derive()` writes, for each folder:

    prompts.txt            unchanged (captions or SMILES, one per line)
    similarities.npz       per model, the packed upper triangle (diagonal included) of its stacked
                           cosine-similarity matrix in float32; the `_nogap` matrices are not kept
                           (our closing of the gap reproduces them, tests/test_reference_proof.py)
    images/<i>.jpg         thumbnails, longest side THUMB_PX
    audios/<i>.mp3         mono MP3 (every browser plays it), from the 16-bit WAVs
    infos.csv, README.md   unchanged, where the folder has them

plus the 5000-pair loss tables unchanged, NOTICE.md (licence, attribution) and SOURCES.json: for
every derived file the original files with their sha256, the stored precision and the largest error
it causes in what the article quotes, measured when the copy was made.

Everything is deterministic (sorted keys, fixed zip timestamps, no clocks), so regenerating from the
same originals with the same library versions gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import wave
import zipfile
from pathlib import Path

import numpy as np

from exporters.errors import UserError

THUMB_PX = 160           # the site's thumbnail size (exporters/figures/_context.py)
JPEG_QUALITY = 82
MP3_KBPS = 32
FORMAT = "reference-copy/1"
SOURCE_REPOSITORY = "https://github.com/journalovi/2024-humer-amumo"
SOURCE_FOLDER = "exported_data"
# the largest errors the stored precision may cause in what the article quotes (issue: at most 1e-6)
MAX_QUOTED_ERROR = 1e-6
# float32 rounding of a value in [-1, 1] moves it by at most half a unit in the last place: 2**-25
SIMILARITY_BOUND = 2.0 ** -25

DATASETS = ("MSCOCO-Val_size-100", "Triplet_size-100", "CLOOMDataset_size-100",
            "Rotated-0_size-100", "Noisy-0_size-100", "Blurred-0_size-100")
LANDSCAPES = "MSCOCO-Val_size-5000"


# -- packing ----------------------------------------------------------------------------------------
def pack(s: np.ndarray) -> np.ndarray:
    """The upper triangle (diagonal included) of a symmetric matrix, row-major, as float32."""
    return np.asarray(s, np.float64)[np.triu_indices(s.shape[0])].astype(np.float32)


def unpack(packed: np.ndarray, where: str) -> np.ndarray:
    """The symmetric float64 matrix of a packed upper triangle."""
    k = int(packed.shape[0])
    n = int(round((np.sqrt(8 * k + 1) - 1) / 2))
    if packed.ndim != 1 or n * (n + 1) // 2 != k:
        raise UserError(f"{where}: {k} values are not the upper triangle of a square matrix; "
                        "regenerate the copy with `python -m exporters derive-reference`")
    s = np.zeros((n, n), np.float64)
    iu = np.triu_indices(n)
    s[iu] = packed.astype(np.float64)
    s.T[iu] = packed.astype(np.float64)
    return s


class CopiedSimilarities:
    """The packed matrices of one copied folder (`similarities.npz`), read once."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / "similarities.npz"
        try:
            with np.load(self.path, allow_pickle=False) as z:
                self.packed = {k: z[k] for k in z.files}
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            raise UserError(f"{self.path}: unreadable ({type(exc).__name__}); regenerate the copy with "
                            "`python -m exporters derive-reference`") from None

    def models(self) -> list[str]:
        return sorted(self.packed)

    def sizes(self) -> dict[str, int]:
        return {k: int(v.shape[0]) for k, v in sorted(self.packed.items())}

    def matrix(self, model: str) -> np.ndarray:
        if model not in self.packed:
            raise UserError(f"{self.path}: no model {model!r}; it holds {', '.join(self.models())}")
        return unpack(self.packed[model], f"{self.path}[{model}]")


def copy_facts(folders: list[Path]) -> dict:
    """What the data page says about the copy a build reads: its source, size, stored precision and
    the largest error that precision causes, from the SOURCES.json beside the folders."""
    roots = {Path(f).resolve().parent for f in folders}
    if len(roots) != 1:
        raise UserError(f"reference_copy datasets come from {len(roots)} copies ({', '.join(map(str, sorted(roots)))}); "
                        "use folders of one copy")
    root = roots.pop()
    path = root / "SOURCES.json"
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
        files, prec = rec["files"], rec["precision"]
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"{path}: missing or unreadable ({type(exc).__name__}); regenerate the copy with "
                        "`python -m exporters derive-reference`") from None
    names = sorted({Path(f).name for f in folders})
    used = {k: v for k, v in files.items() if k.split("/")[0] in names}
    parts: dict[str, int] = {}
    for rel, meta in used.items():
        leaf = rel.rsplit("/", 1)[-1]
        kind = ("similarities" if leaf.endswith(".npz") else "images" if "/images/" in rel
                else "audio" if "/audios/" in rel else "text and tables")
        parts[kind] = parts.get(kind, 0) + int(meta["bytes"])
    return {"repository": rec["source"]["repository"], "commit": rec["source"]["commit"],
            "folders": names, "files": len(used), "bytes": sum(parts.values()),
            "parts": dict(sorted(parts.items())),
            "originals": len({o for meta in used.values() for o in meta["from"]}),
            "similarities": prec["similarities"], "images": prec["images"], "audio": prec["audio"],
            "similarity_bound": prec["similarity_bound"], "limit": prec["quoted_error_limit"],
            "max_distance_error": prec["measured_max"]["distance"], "max_loss_error": prec["measured_max"]["loss"]}


# -- deterministic writers ----------------------------------------------------------------------------
def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz (what np.load reads) with sorted members and a fixed timestamp."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.save(member, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, member.getvalue(), compresslevel=9)
    return buf.getvalue()


def _thumbnail_bytes(path: Path) -> bytes:
    from PIL import Image

    from exporters.images import load_rgb

    im = load_rgb(path)
    im.thumbnail((THUMB_PX, THUMB_PX), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=False)
    return out.getvalue()


def _mp3_bytes(path: Path) -> bytes:
    try:
        import lameenc
    except ImportError:
        raise UserError("encoding audio needs the `lameenc` package: pip install -e '.[derive]'") from None
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getcomptype() != "NONE":
            raise UserError(f"{path}: expected 16-bit PCM WAV, got {8 * w.getsampwidth()}-bit {w.getcomptype()}")
        channels, rate, frames = w.getnchannels(), w.getframerate(), w.readframes(w.getnframes())
    pcm = np.frombuffer(frames, "<i2").reshape(-1, channels)
    mono = pcm.mean(axis=1).round().astype("<i2") if channels > 1 else pcm[:, 0]
    enc = lameenc.Encoder()
    enc.set_bit_rate(MP3_KBPS)
    enc.set_in_sample_rate(rate)
    enc.set_channels(1)
    enc.set_quality(2)  # 2 = high quality, slow; the clips are short
    return bytes(enc.encode(mono.tobytes()) + enc.flush())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    return sha256(Path(path).read_bytes())


# -- derivation -----------------------------------------------------------------------------------------
def _errors(original: np.ndarray, copy: np.ndarray, nogap: np.ndarray | None, n: int, modalities: int,
            scale: float | None) -> dict:
    """What the float32 copy changes, against the original float64 matrix: matrix entries, the
    closed-gap matrix, modality distance(s) and losses (the numbers the article quotes)."""
    from exporters.analysis.gap import close_gap, modality_distance
    from exporters.analysis.losses import infonce, reference_loss
    from exporters.sources.gram import embeddings_from_gram

    eo = embeddings_from_gram(original, [n] * modalities, "original")
    ec = embeddings_from_gram(copy, [n] * modalities, "copy")
    out = {"similarity": float(np.abs(original - copy).max())}
    dist, loss = 0.0, 0.0
    for a in range(modalities):
        for b in range(a + 1, modalities):
            dist = max(dist, abs(modality_distance(eo[a], eo[b]) - modality_distance(ec[a], ec[b])))
            if scale is not None:
                for f in (infonce, reference_loss):
                    loss = max(loss, abs(f(eo[a], eo[b], scale, 50) - f(ec[a], ec[b], scale, 50)))
    out["distance"] = dist
    if scale is not None:
        out["loss"] = loss
    if modalities == 2:
        # what the copy changes in the closed-gap matrix (the seed's own `_nogap.csv` carries float32
        # noise of up to ~1e-6 for some augmentation sets, measured separately in `nogap_reproduced`)
        def closed(e):
            xc, yc = close_gap(e[0], e[1])
            z = np.vstack([xc, yc])
            return z @ z.T
        co = closed(eo)
        out["closed_similarity"] = float(np.abs(co - closed(ec)).max())
        if nogap is not None:
            out["nogap_reproduced"] = float(np.abs(co - nogap).max())
    return out


def derive(source: Path, out: Path, commit: str | None = None) -> dict:
    """Write the compact copy of the seed's exported folders at `source` into `out` (swapped in whole)."""
    from exporters.sources.reference import (REFERENCE_LOGIT_SCALES, load_similarity_csv, read_lines,
                                             reference_models)

    source, out = Path(source), Path(out)
    missing = [d for d in (*DATASETS, LANDSCAPES) if not (source / d).is_dir()]
    if missing:
        raise UserError(f"{source}: not the seed article's exported_data folder (missing {', '.join(missing)}); "
                        "point --from at ../shared/reference/amumo-article or the repository's exported_data/")
    if out.exists() and not (out / "SOURCES.json").is_file():
        raise UserError(f"{out}: exists and is not a reference copy (no SOURCES.json); choose a new or empty folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".derive-", dir=out.parent))
    files: dict[str, dict] = {}
    errors: dict[str, dict] = {}

    def put(rel: str, data: bytes, origins: list[Path]) -> None:
        dst = stage / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(data)
        files[rel] = {"sha256": sha256(data), "bytes": len(data),
                      "from": {p.relative_to(source).as_posix(): file_sha256(p) for p in origins}}

    try:
        for name in DATASETS:
            root = source / name
            texts = read_lines(root / "prompts.txt")
            n = len(texts)
            put(f"{name}/prompts.txt", (root / "prompts.txt").read_bytes(), [root / "prompts.txt"])
            modalities = 3 if (root / "audios").is_dir() else 2
            packed, origins = {}, []
            for model in reference_models(root):
                csv = root / "similarities" / f"{model}.csv"
                s = load_similarity_csv(csv)
                if s.shape != (n * modalities, n * modalities):
                    raise UserError(f"{csv}: {s.shape[0]} rows, but prompts.txt has {n} lines x {modalities} modalities")
                p = pack(s)
                packed[model] = p
                origins.append(csv)
                nogap_csv = root / "similarities" / f"{model}_nogap.csv"
                nogap = load_similarity_csv(nogap_csv) if nogap_csv.exists() else None
                errors[f"{name}/{model}"] = _errors(s, unpack(p, name), nogap, n, modalities,
                                                    REFERENCE_LOGIT_SCALES.get(model))
            put(f"{name}/similarities.npz", _npz_bytes(packed), origins)
            for i in range(n):
                img = root / "images" / f"{i}.jpg"
                put(f"{name}/images/{i}.jpg", _thumbnail_bytes(img), [img])
            if modalities == 3:
                for i in range(n):
                    wav = root / "audios" / f"{i}.wav"
                    put(f"{name}/audios/{i}.mp3", _mp3_bytes(wav), [wav])
            for extra in ("infos.csv", "README.md"):
                if (root / extra).is_file():
                    put(f"{name}/{extra}", (root / extra).read_bytes(), [root / extra])
        for f in sorted((source / LANDSCAPES).glob("*_loss_landscape.json")):
            put(f"{LANDSCAPES}/{f.name}", f.read_bytes(), [f])

        worst = {k: max(e.get(k, 0.0) for e in errors.values())
                 for k in ("similarity", "closed_similarity", "distance", "loss", "nogap_reproduced")}
        if worst["distance"] > MAX_QUOTED_ERROR or worst["loss"] > MAX_QUOTED_ERROR:
            raise UserError(f"float32 storage would move a quoted number by {max(worst['distance'], worst['loss']):.3g} "
                            f"(> {MAX_QUOTED_ERROR:g}); store float64 instead")
        notice = _notice()
        (stage / "NOTICE.md").write_text(notice, encoding="utf-8")
        record = {
            "format": FORMAT,
            "source": {"repository": SOURCE_REPOSITORY, "folder": SOURCE_FOLDER,
                       "commit": commit or "unknown",
                       "licence": "MIT (Copyright (c) 2024 Christina Humer); see NOTICE.md",
                       "regenerate": "python -m exporters derive-reference --from <exported_data> --out data/seed-article"},
            "precision": {
                "similarities": "float32, upper triangle with diagonal; _nogap matrices recomputed by our code",
                "similarity_bound": SIMILARITY_BOUND,
                "quoted_error_limit": MAX_QUOTED_ERROR,
                "measured_max": {k: float(f"{v:.3g}") for k, v in worst.items()},
                "images": f"JPEG thumbnails, longest side {THUMB_PX} px, quality {JPEG_QUALITY}",
                "audio": f"MP3 mono {MP3_KBPS} kbit/s (LAME), from 16-bit WAV",
            },
            "measured": {k: {m: float(f"{v:.3g}") for m, v in sorted(e.items())} for k, e in sorted(errors.items())},
            "files": dict(sorted(files.items())),
        }
        (stage / "SOURCES.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old"
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
        stage.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return record


def _notice() -> str:
    return (Path(__file__).parent / "reference_copy_notice.md").read_text(encoding="utf-8")
